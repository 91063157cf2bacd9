
# Crash recovery of vector data.
#
# Committed rows (a vector(3) column and a vector(3000) column whose 12 kB
# values are too large to stay in a heap page and go to the TOAST table) must
# come back exactly after an immediate shutdown (no shutdown checkpoint, so the
# server replays WAL); the rows of a transaction still open at the crash must
# not.  Part of the committed data is on disk at the crash (written by a
# checkpoint), the rest exists only in WAL.
#
# Run with PGXS's `make installcheck` (TAP_TESTS = 1) or directly:
#   PATH=/usr/lib/postgresql/15/bin:$PATH \
#   PG_REGRESS=/usr/lib/postgresql/15/lib/pgxs/src/test/regress/pg_regress \
#   prove -I /usr/lib/postgresql/15/lib/pgxs/src/test/perl/ -I . test/t/001_crash_restart.pl

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
# A small buffer pool makes the server write pages of the open transaction to
# disk before the crash too.
$node->append_conf('postgresql.conf', "shared_buffers = 1MB\n");
$node->start;

$node->safe_psql('postgres', 'CREATE EXTENSION vecdb');

# Deterministic values: row $i has
#   v   = [i, i/2, -i/7]                           (vector(3))
#   big = [sin(3000 i + 1), ..., sin(3000 i + 3000)] (vector(3000), 12008 bytes)
sub insert_rows
{
	my ($from, $to) = @_;
	return qq{
		INSERT INTO items (id, v, big)
		SELECT i,
		       array_to_vector(ARRAY[i, i / 2.0, -i / 7.0]::real[], 3, true),
		       (SELECT array_agg(sin(i * 3000 + j)::real ORDER BY j)
		          FROM generate_series(1, 3000) j)::vector(3000)
		  FROM generate_series($from, $to) i;
	};
}

$node->safe_psql(
	'postgres', q{
	CREATE TABLE items (id int PRIMARY KEY, v vector(3) NOT NULL, big vector(3000) NOT NULL);
	CREATE INDEX items_v_idx ON items (v);
});

is( $node->safe_psql(
		'postgres',
		q{SELECT string_agg(attname || ':' || attstorage::text, ',' ORDER BY attnum)
		    FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname IN ('v', 'big')}),
	'v:m,big:m',
	'vector columns have STORAGE main');

# Committed, then written to the data files by a checkpoint.
$node->safe_psql('postgres', insert_rows(1,   100));
$node->safe_psql('postgres', insert_rows(101, 200));
$node->safe_psql('postgres', 'CHECKPOINT');

# Committed after the last checkpoint: in WAL only (as far as recovery knows).
$node->safe_psql('postgres', insert_rows(201, 250));
$node->safe_psql(
	'postgres', q{
	UPDATE items SET v = v + '[1,1,1]', big = big * big WHERE id % 10 = 0;
});
$node->safe_psql('postgres', 'DELETE FROM items WHERE id % 25 = 0');

my $toast = $node->safe_psql('postgres',
	q{SELECT reltoastrelid::regclass FROM pg_class WHERE oid = 'items'::regclass});
isnt($toast, '-', "items has a TOAST table ($toast)");
cmp_ok($node->safe_psql('postgres', "SELECT count(DISTINCT chunk_id) FROM $toast"),
	'>=', 240, 'the vector(3000) values are stored out of line');

# What the committed data looks like: compared after the crash.
my %queries = (
	count => 'SELECT count(*) FROM items',
	ids   => q{SELECT md5(string_agg(id::text, ',' ORDER BY id)) FROM items},
	# Float sums depend on the order of the rows: fix it.
	sums => 'SELECT sum(v ORDER BY id)::text || sum(big ORDER BY id)::text FROM items',
	avgs => 'SELECT avg(v ORDER BY id)::text || avg(big ORDER BY id)::text FROM items',
	text  => q{SELECT md5(string_agg(id || ':' || v::text || ':' || big::text, ';' ORDER BY id))
	             FROM items},
	binary => q{SELECT md5(string_agg(vector_send(v) || vector_send(big), '\x00' ORDER BY id))
	              FROM items},
	order => 'SELECT md5(string_agg(id::text, \',\' ORDER BY v, id)) FROM items',
	l2 => q{SELECT string_agg(id::text, ',' ORDER BY v <-> '[100,50,-14]', id)
	          FROM (SELECT * FROM items ORDER BY v <-> '[100,50,-14]', id LIMIT 10) s},
	distances => q{
		SELECT string_agg(concat_ws(',', v <-> '[1,2,3]', v <#> '[1,2,3]',
		                            v <=> '[1,2,3]', v <+> '[1,2,3]',
		                            i.big <-> q.big, i.big <=> q.big,
		                            i.big <#> q.big, i.big <+> q.big), ';' ORDER BY id)
		  FROM items i, (SELECT big FROM items WHERE id = 7) q});

my %before;
$before{$_} = $node->safe_psql('postgres', $queries{$_}) for keys %queries;
is($before{count}, 240, '240 committed rows before the crash');
my $row10 = $node->safe_psql('postgres', 'SELECT v::text || big::text FROM items WHERE id = 10');

# A transaction still open at the crash: inserts (TOASTed too), updates and
# deletes committed rows.
my $open = $node->background_psql('postgres');
$open->query_safe('BEGIN');
$open->query_safe(insert_rows(1001, 1050));
$open->query_safe(q{UPDATE items SET v = '[0,0,0]', big = big + big WHERE id <= 20});
$open->query_safe('DELETE FROM items WHERE id BETWEEN 101 AND 120');
is($open->query_safe('SELECT count(*) FROM items'), 270,
	'the open transaction sees its own changes');
is($node->safe_psql('postgres', $queries{count}), 240, 'other sessions do not');
# Make sure the open transaction's WAL reaches the disk; a checkpoint would
# write its pages too, but then recovery would have nothing to replay.
$node->safe_psql('postgres', 'SELECT pg_switch_wal()');

$node->stop('immediate');
# The open session lost its server; psql has exited or will on \q.
eval { $open->quit; };

$node->start;
ok($node->log_contains('database system was not properly shut down; automatic recovery in progress'),
	'the server ran crash recovery');

for my $name (sort keys %queries)
{
	is($node->safe_psql('postgres', $queries{$name}),
		$before{$name}, "after the crash: $name as before");
}

is($node->safe_psql('postgres', 'SELECT count(*) FROM items WHERE id > 1000'),
	0, 'the rows the open transaction inserted are absent');
is($node->safe_psql('postgres', 'SELECT count(*) FROM items WHERE id BETWEEN 101 AND 120'),
	20, 'the rows it deleted are present');
is( $node->safe_psql('postgres',
		q{SELECT count(*) FROM items WHERE v = '[0,0,0]'}),
	0,
	'its updates are absent');
is( $node->safe_psql('postgres',
		'SELECT v::text || big::text FROM items WHERE id = 10'),
	$row10,
	'an updated committed row has its committed value');

# The btree index (vector_ops) agrees with the recovered heap.
is( $node->safe_psql(
		'postgres', q{
	SET enable_seqscan = off; SET enable_bitmapscan = off;
	SELECT count(*) FROM items WHERE v >= '[0,0,0]' AND v < '[300,0,0]'}),
	240,
	'an index scan over vector_ops finds every committed row');
$node->safe_psql('postgres', 'CREATE EXTENSION amcheck');
is($node->safe_psql('postgres', q{SELECT bt_index_check('items_v_idx', true)}),
	'', 'amcheck: the vector_ops index is consistent with the heap');

# Distances on the recovered data, checked against values computed by hand.
is( $node->safe_psql(
		'postgres', q{
	SELECT round((a.v <-> b.v)::numeric, 6) || ',' || round((a.v <+> b.v)::numeric, 6)
	  FROM items a, items b WHERE a.id = 1 AND b.id = 2}),
	round_l2(1, 2) . ',' . l1(1, 2),
	'<-> and <+> on recovered rows');

sub vec3 { my $i = shift; return (0 + $i, $i / 2.0, -$i / 7.0); }

sub round_l2
{
	my @a = map { unpack('f', pack('f', $_)) } vec3(shift);
	my @b = map { unpack('f', pack('f', $_)) } vec3(shift);
	my $s = 0;
	$s += ($a[$_] - $b[$_])**2 for 0 .. 2;
	return sprintf('%.6f', sqrt($s));
}

sub l1
{
	my @a = map { unpack('f', pack('f', $_)) } vec3(shift);
	my @b = map { unpack('f', pack('f', $_)) } vec3(shift);
	my $s = 0;
	$s += abs($a[$_] - $b[$_]) for 0 .. 2;
	return sprintf('%.6f', $s);
}

# The server takes new work.
$node->safe_psql('postgres', insert_rows(2001, 2002));
is($node->safe_psql('postgres', q{SELECT count(*) FROM items WHERE big <-> big = 0}),
	242, 'new rows can be written after recovery');

$node->stop;
done_testing();
