
# The binary wire format of vector (pgvector's: int16 dim, int16 unused = 0,
# dim x float4, all in network byte order), exercised through binary COPY:
# vector_send on COPY TO, vector_recv on COPY FROM.
#
#  (a) binary round trips preserve every bit, and agree with text;
#  (b) hand-made binary COPY files with bad vectors are rejected with the right
#      error, the COPY leaves nothing behind, and the session and the server
#      keep working;
#  (c) vector_send('[1,2,3]') has the exact expected bytes.
#
# Run with PGXS's `make installcheck` (TAP_TESTS = 1) or directly:
#   PATH=/usr/lib/postgresql/15/bin:$PATH \
#   PG_REGRESS=/usr/lib/postgresql/15/lib/pgxs/src/test/regress/pg_regress \
#   prove -I /usr/lib/postgresql/15/lib/pgxs/src/test/perl/ -I . test/t/002_binary_io.pl

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Cwd qw(abs_path);

my $node = PostgreSQL::Test::Cluster->new('binio');
$node->init;
$node->start;

$node->safe_psql('postgres', 'CREATE EXTENSION vecdb');
my $started = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');

# Files the server reads and writes (it runs as the same OS user as the test);
# COPY wants absolute paths, and basedir is relative when TESTDIR is unset.
my $dir = abs_path($node->basedir);

# ---------------------------------------------------------------------------
# (c) vector_send
# ---------------------------------------------------------------------------
is($node->safe_psql('postgres', q{SELECT vector_send('[1,2,3]')}),
	'\x000300003f8000004000000040400000', q{vector_send('[1,2,3]')});
is($node->safe_psql('postgres', q{SELECT vector_send('[-0,0.1]')}),
	'\x00020000800000003dcccccd', q{vector_send('[-0,0.1]'): sign of zero, float4 0.1});

# ---------------------------------------------------------------------------
# (a) round trips
# ---------------------------------------------------------------------------
my @values = (
	'[1,2,3]',
	'[1e-38,-3.4e+38,0.1]',
	'[3.4028235e+38,-3.4028235e+38,1.1754944e-38]',    # FLT_MAX, -FLT_MAX, FLT_MIN
	'[-0,0,-1.5]',
	'[0.33333334,1e-10,123456.79]',
	'[1e-45,-1e-40,7]');    # subnormal floats
my $values_sql = join(', ', map { "($_, '$values[$_]')" } 0 .. $#values);

$node->safe_psql(
	'postgres', qq{
	CREATE TABLE src (id int, v vector);
	INSERT INTO src VALUES $values_sql;
	INSERT INTO src SELECT 100 + i, array_to_vector(array_agg(j * 1.25 - i ORDER BY j), -1, true)
	  FROM generate_series(1, 20) i, generate_series(1, 2000) j GROUP BY i;
	CREATE TABLE from_binary (LIKE src);
	CREATE TABLE from_text (LIKE src);
	COPY src TO '$dir/src.bin' (FORMAT binary);
	COPY src TO '$dir/src.txt';
	COPY from_binary FROM '$dir/src.bin' (FORMAT binary);
	COPY from_text FROM '$dir/src.txt';
});

is( $node->safe_psql(
		'postgres',
		join(' UNION ALL ', map { "SELECT v::text FROM src WHERE id = $_" } 0 .. $#values)),
	join("\n", @values),
	'text output of the test values is as written');

for my $copy ('from_binary', 'from_text')
{
	is( $node->safe_psql(
			'postgres', qq{
		SELECT count(*) || ',' || count(*) FILTER (WHERE vector_send(s.v) = vector_send(c.v))
		                   || ',' || count(*) FILTER (WHERE s.v::text = c.v::text)
		  FROM src s JOIN $copy c USING (id)}),
		'26,26,26',
		"$copy: every row comes back bit for bit");
}
is( $node->safe_psql(
		'postgres', q{
	SELECT count(*) FROM from_binary b JOIN from_text t USING (id)
	 WHERE vector_send(b.v) = vector_send(t.v)}),
	26,
	'binary and text COPY load the same vectors');

# The file COPY TO wrote holds the wire format.
my $file = slurp_file("$dir/src.bin");
my $expected_row =
  pack('s> l> l> l> s> s> f> f> f>', 2, 4, 1, 16, 3, 0, 1e-38, -3.4e38, 0.1);
ok(index($file, $expected_row) > 0,
	'COPY TO (FORMAT binary) writes int16 dim, int16 0, float4 x dim, big-endian');
is(substr($file, 0, 19), "PGCOPY\n\377\r\n\0" . pack('l> l>', 0, 0),
	'binary COPY header');

# A file written here loads too.
write_copy_file("$dir/good.bin", [ vec_field(3, 0, 1.5, -2, 0.25) ],
	[ vec_field(1, 0, 1e-38) ]);
$node->safe_psql('postgres', qq{
	CREATE TABLE good (v vector);
	COPY good FROM '$dir/good.bin' (FORMAT binary)});
is($node->safe_psql('postgres', 'SELECT string_agg(v::text, \' \') FROM good'),
	'[1.5,-2,0.25] [1e-38]', 'a binary COPY file made by hand loads');

# ---------------------------------------------------------------------------
# (b) malformed input
# ---------------------------------------------------------------------------

# A binary COPY file with one single-column row per field given (raw bytes).
sub write_copy_file
{
	my ($path, @rows) = @_;
	my $data = "PGCOPY\n\377\r\n\0" . pack('l> l>', 0, 0);
	for my $row (@rows)
	{
		$data .= pack('s>', scalar @$row);
		$data .= pack('l>', length $_) . $_ for @$row;
	}
	$data .= pack('s>', -1);
	open my $fh, '>:raw', $path or die "could not write $path: $!";
	print $fh $data;
	close $fh or die "could not write $path: $!";
	return;
}

# The bytes of a vector field: dim, unused, then floats.
sub vec_field
{
	my ($dim, $unused, @x) = @_;
	return pack('s> s>', $dim, $unused) . join('', map { pack('f>', $_) } @x);
}

my $nan = pack('N', 0x7fc00000);
my $inf = pack('N', 0x7f800000);
my $ninf = pack('N', 0xff800000);

$node->safe_psql(
	'postgres', q{
	CREATE TABLE any_dim (v vector);
	CREATE TABLE three (v vector(3));
});

my $good_row = [ vec_field(3, 0, 1, 2, 3) ];
my @bad = (
	# name, table, field bytes, expected error, SQLSTATE
	[ 'dim 3 but only 2 floats', 'any_dim', vec_field(3, 0, 1, 2),
		qr/insufficient data/, '22P03' ],
	[ 'dim 3 but only the header', 'any_dim', vec_field(3, 0),
		qr/insufficient data/, '22P03' ],
	[ 'field shorter than the header', 'any_dim', pack('s>', 3),
		qr/insufficient data/, '08P01' ],
	[ 'dim 0', 'any_dim', vec_field(0, 0),
		qr/vector must have at least 1 dimension/, '22000' ],
	[ 'dim -1', 'any_dim', vec_field(-1, 0, 1),
		qr/vector must have at least 1 dimension/, '22000' ],
	[ 'dim 16001', 'any_dim', vec_field(16001, 0, (0.5) x 16001),
		qr/vector cannot have more than 16000 dimensions/, '54000' ],
	[ 'unused 1', 'any_dim', vec_field(3, 1, 1, 2, 3),
		qr/expected unused to be 0, not 1/, '22P03' ],
	[ 'unused -1', 'any_dim', vec_field(3, -1, 1, 2, 3),
		qr/expected unused to be 0, not -1/, '22P03' ],
	[ 'NaN', 'any_dim', vec_field(3, 0, 1) . $nan . pack('f>', 3),
		qr/NaN and infinity are not allowed in a vector/, '22P03' ],
	[ 'Infinity', 'any_dim', vec_field(3, 0, 1, 2) . $inf,
		qr/NaN and infinity are not allowed in a vector/, '22P03' ],
	[ '-Infinity', 'any_dim', vec_field(2, 0) . $ninf . pack('f>', 1),
		qr/NaN and infinity are not allowed in a vector/, '22P03' ],
	[ 'dim 4 into vector(3)', 'three', vec_field(4, 0, 1, 2, 3, 4),
		qr/expected 3 dimensions, not 4/, '22000' ],
	[ 'dim 2 into vector(3)', 'three', vec_field(2, 0, 1, 2),
		qr/expected 3 dimensions, not 2/, '22000' ],
	[ 'trailing bytes after the floats', 'any_dim', vec_field(2, 0, 1, 2, 3),
		qr/incorrect binary data format/, '22P03' ]);

for my $case (@bad)
{
	my ($name, $table, $field, $error, $sqlstate) = @$case;
	my $path = "$dir/bad.bin";
	# A good row first: the failed COPY must not leave it behind.
	write_copy_file($path, $good_row, [$field]);

	my ($stdout, $stderr);
	my $ret = $node->psql(
		'postgres', qq{
		\\set VERBOSITY verbose
		COPY $table FROM '$path' (FORMAT binary);
		SELECT 'alive', count(*) FROM $table;},
		stdout => \$stdout,
		stderr => \$stderr,
		on_error_stop => 0);
	like($stderr, qr/ERROR:  $sqlstate: .*$error/, "$name: rejected ($sqlstate)");
	like($stderr, qr/COPY $table, line 2, column v/, "$name: error names the row");
	is($stdout, 'alive|0', "$name: the session goes on, the COPY left no row");
}

# The good row alone loads into both tables.
write_copy_file("$dir/ok.bin", $good_row);
$node->safe_psql('postgres', qq{
	COPY any_dim FROM '$dir/ok.bin' (FORMAT binary);
	COPY three FROM '$dir/ok.bin' (FORMAT binary)});
is($node->safe_psql('postgres', 'SELECT (SELECT v::text FROM any_dim) || (SELECT v::text FROM three)'),
	'[1,2,3][1,2,3]', 'the good row loads after all the failures');

is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'),
	$started, 'the server did not restart');
ok(!$node->log_contains('terminated by signal'), 'no backend crashed');

$node->stop;
done_testing();
