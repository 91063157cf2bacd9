
# Corrupted ivf index pages are untrusted input.
#
# Each case is a table of its own (1,100 clustered rows of 16 dimensions,
# an sq8 ivf index of 4 lists, so every list has two pages) whose index
# file gets one corruption while the server is stopped: a metapage field,
# written with the metapage's check byte recomputed so that the check of
# the field itself is what must catch it (and once the check byte alone);
# a field of a list page's special space or header (count, page id, owner,
# next, pd_lower); a centroid.  After one restart, with every list probed:
# a scan, an INSERT and a VACUUM that has dead rows to remove each fail
# with SQLSTATE XX001/XX002 naming the index, or succeed;
# vecdb_index_check(), the scan and VACUUM (which read every list) must
# fail.  An index of format version 2 (with the 4-bit nibble blocks that
# version 3 dropped) names REINDEX.
# The server never restarts and no backend dies; REINDEX of every index
# then gives the seq scan's nearest rows again.
#
# Run with PGXS's `make installcheck` (TAP_TESTS = 1) or directly:
#   PATH=/usr/lib/postgresql/15/bin:$PATH \
#   PG_REGRESS=/usr/lib/postgresql/15/lib/pgxs/src/test/regress/pg_regress \
#   prove -I /usr/lib/postgresql/15/lib/pgxs/src/test/perl/ -I . test/t/013_ivf_corrupt.pl

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use VecdbHnsw;

my $node = PostgreSQL::Test::Cluster->new('ivf_corrupt');
$node->init;
$node->append_conf('postgresql.conf', qq{
jit = off
autovacuum = off
max_parallel_maintenance_workers = 0
statement_timeout = '60s'
});
$node->start;

create_data($node, $try_function . q{
	CREATE TABLE base AS SELECT i AS id, point(i, 16)::vector(16) AS v FROM generate_series(1, 1100) i;
});

# ---------------------------------------------------------------------------
# Page format (src/pg/ivf/ivf.h): MetaPageData from byte 24 of block 0;
# ListPageOpaque, the special space, in a list page's last 16 bytes.
# ---------------------------------------------------------------------------
my %meta_field = (
	magic => [ 0, 'V' ],
	version => [ 4, 'V' ],
	dims => [ 8, 'V' ],
	metric => [ 12, 'C' ],
	quantization => [ 13, 'C' ],
	check => [ 14, 'C' ],
	lists => [ 16, 'V' ],
	code_size => [ 20, 'V' ],
	capacity => [ 24, 'V' ],
	aux_pages => [ 28, 'V' ],
	aux_bytes => [ 32, 'V' ],
	centroid_pages => [ 36, 'V' ],
	centroids_per_page => [ 40, 'V' ],);
my %list_field = (
	next => [ 0, 'V' ],
	insert_page => [ 4, 'V' ],
	list => [ 8, 'V' ],
	count => [ 12, 'v' ],
	page_id => [ 14, 'v' ],);

# MetaCheck() of ivf_page.cpp: FNV-1a over the 64 bytes of MetaPageData
# with the check byte and build_rows zeroed, folded to 1..255.
sub meta_check
{
	my ($meta) = @_;
	substr($meta, 14, 1) = "\0";
	substr($meta, 56, 8) = "\0" x 8;
	my $h = 2166136261;
	$h = (($h ^ $_) * 16777619) & 0xFFFFFFFF for unpack('C*', $meta);
	return 1 + (($h ^ ($h >> 8) ^ ($h >> 16) ^ ($h >> 24)) % 255);
}

# Sets metapage field $name to $value, and the check byte to match unless
# $keep_check.
sub set_meta
{
	my ($file, $name, $value, $keep_check) = @_;
	my ($offset, $format) = @{ $meta_field{$name} };
	write_bytes($file, 24 + $offset, pack($format, $value));
	return if $keep_check;
	my $meta = substr(read_block($file, 0), 24, 64);
	write_bytes($file, 24 + 14, pack('C', meta_check($meta)));
	return;
}

sub meta_of
{
	my ($file) = @_;
	my $meta = substr(read_block($file, 0), 24, 64);
	my %m = map { $_ => unpack($meta_field{$_}[1], substr($meta, $meta_field{$_}[0], 4)) } keys %meta_field;
	$m{list_start} = 1 + $m{aux_pages} + $m{centroid_pages};
	return \%m;
}

sub set_list_field
{
	my ($file, $block, $name, $value) = @_;
	my ($offset, $format) = @{ $list_field{$name} };
	write_bytes($file, ($block + 1) * $BLCKSZ - 16 + $offset, pack($format, $value));
	return;
}

sub list_field
{
	my ($file, $block, $name) = @_;
	my ($offset, $format) = @{ $list_field{$name} };
	return unpack($format, substr(read_block($file, $block), $BLCKSZ - 16 + $offset, 4));
}

# name => sub ($file, $meta): one corruption each.
my @cases = (
	[ 'meta version 2', sub { set_meta($_[0], 'version', 2) } ],
	[ 'meta magic', sub { set_meta($_[0], 'magic', 0) } ],
	[ 'meta dims', sub { set_meta($_[0], 'dims', 17) } ],
	[ 'meta metric', sub { set_meta($_[0], 'metric', 9) } ],
	[ 'meta quantization', sub { set_meta($_[0], 'quantization', 99) } ],
	[ 'meta lists 0', sub { set_meta($_[0], 'lists', 0) } ],
	[ 'meta lists past the file', sub { set_meta($_[0], 'lists', 30000) } ],
	[ 'meta code size', sub { set_meta($_[0], 'code_size', $_[1]{code_size} + 1) } ],
	[ 'meta capacity', sub { set_meta($_[0], 'capacity', 60000) } ],
	[ 'meta aux bytes', sub { set_meta($_[0], 'aux_bytes', 4) } ],
	[ 'meta centroid pages', sub { set_meta($_[0], 'centroid_pages', 9) } ],
	[ 'meta check byte', sub { set_meta($_[0], 'check', $_[1]{check} % 255 + 1, 1) } ],
	[ 'list count', sub { set_list_field($_[0], $_[1]{list_start}, 'count', 65535) } ],
	[ 'list page id', sub { set_list_field($_[0], $_[1]{list_start}, 'page_id', 0) } ],
	[ 'list owner', sub { set_list_field($_[0], $_[1]{list_start}, 'list', 3) } ],
	[ 'list next before the lists', sub { set_list_field($_[0], $_[1]{list_start}, 'next', 1) } ],
	[ 'list next past the file', sub { set_list_field($_[0], $_[1]{list_start}, 'next', 100000) } ],
	[
		'list next cycle',
		sub {
			my $second = list_field($_[0], $_[1]{list_start}, 'next');
			set_list_field($_[0], $second, 'next', $second);
		}
	],
	[ 'list pd_lower', sub { write_bytes($_[0], $_[1]{list_start} * $BLCKSZ + 12, pack('v', 100)) } ],
	[
		'centroid not finite',
		sub { write_bytes($_[0], (1 + $_[1]{aux_pages}) * $BLCKSZ + 24, pack('f<', 9**9**9 / 9**9**9)) }
	],);

# One table and index per case, each file corrupted with the server stopped.
my $i = 0;
for my $case (@cases)
{
	$i++;
	$node->safe_psql(
		'postgres', qq{
		CREATE TABLE t$i AS SELECT * FROM base;
		CREATE INDEX t${i}_ivf ON t$i USING ivf (v vector_l2_ops) WITH (lists = 4);
		DELETE FROM t$i WHERE id % 10 = 0;
	});
	$case->[2] = $node->data_dir . '/' . $node->safe_psql('postgres', "SELECT pg_relation_filepath('t${i}_ivf')");
}
my $q = "'" . $node->safe_psql('postgres', 'SELECT point(1000001, 16)') . "'";
$node->stop;
$_->[1]->($_->[2], meta_of($_->[2])) for @cases;
$node->start;

$i = 0;
for my $case (@cases)
{
	$i++;
	my $name = $case->[0];
	my %result;
	$result{check} = $node->safe_psql('postgres', "SELECT try(\$\$SELECT count(*) FROM vecdb_index_check('t${i}_ivf')\$\$)");
	$result{scan} = $node->safe_psql('postgres',
		"SET ivf.probes = 4; SET enable_seqscan = off; SELECT try(\$\$SELECT array_agg(id)::text FROM "
		  . "(SELECT id FROM t$i ORDER BY v <-> $q LIMIT 10) s\$\$)");
	$result{insert} =
	  $node->safe_psql('postgres', "SELECT try(\$\$INSERT INTO t$i VALUES (5000, $q) RETURNING id\$\$)");
	my ($rc, $out, $err) = $node->psql('postgres', "VACUUM t$i");
	$result{vacuum} = $rc == 0 ? 'ok:' : "error:$err";
	for my $what (sort keys %result)
	{
		my $r = $result{$what};
		my $must_fail = $what ne 'insert';
		if ($r =~ /^ok:/)
		{
			ok(!$must_fail, "$name: $what succeeds") or diag($r);
		}

		else
		{
			like($r, qr/(XX00[12]|corrupted).*t${i}_ivf|t${i}_ivf.*(corrupted|XX00[12])/s,
				"$name: $what fails with a corruption error naming the index");
		}
	}
	like($result{scan}, qr/REINDEX/, "$name: the error names REINDEX") if $name eq 'meta version 2';
}

is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server is up');
my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal|server process .* exited with exit code [^0]/, 'no backend died');

# REINDEX repairs every index.
$i = 0;
for my $case (@cases)
{
	$i++;
	$node->safe_psql('postgres', "REINDEX INDEX t${i}_ivf; DELETE FROM t$i WHERE id = 5000; VACUUM t$i");
	my $expected = $node->safe_psql('postgres',
		"SET enable_indexscan = off; SELECT array_agg(id) FROM (SELECT id FROM t$i ORDER BY v <-> $q LIMIT 10) s");
	is(
		$node->safe_psql('postgres',
			"SET ivf.probes = 4; SET enable_seqscan = off; "
			  . "SELECT array_agg(id) FROM (SELECT id FROM t$i ORDER BY v <-> $q LIMIT 10) s"),
		$expected,
		"$case->[0]: after REINDEX the index gives the seq scan's nearest rows");
}

done_testing();
