
# Crash recovery of the hnsw index in the middle of a stream of inserts.
#
# One insert into the graph changes several pages (the new element's page,
# then each neighbour whose list gains a link back, maybe the metapage's
# entry point), each change its own generic WAL record.  A server killed
# (immediate shutdown: no shutdown checkpoint, recovery replays WAL) while a
# session commits one row per transaction must come back with an index in
# which:
#
#  (a) a scan that runs to exhaustion returns every committed row once,
#      through both indexes (sq8 and e8_4bit codes), and at least 99.9% of the
#      rows are found as their own nearest neighbour (distinct vectors, at
#      hnsw.ef_search = 100: approximate search can, rarely, miss one);
#  (b) recall@10 against brute force is >= 0.95, also for WHERE t = 3
#      through the e8_4bit index, which holds t as its filter column (the
#      scan tests it in the index: an Index Cond);
#  (c) inserts, deletes and VACUUM work after recovery, with the same
#      guarantees.
#
# A small shared_buffers makes index and heap pages go to disk before the
# crash, and a CHECKPOINT in the middle puts part of the index on disk and
# leaves the rest in WAL.
#
# Run with PGXS's `make installcheck` (TAP_TESTS = 1) or directly:
#   PATH=/usr/lib/postgresql/15/bin:$PATH \
#   PG_REGRESS=/usr/lib/postgresql/15/lib/pgxs/src/test/regress/pg_regress \
#   prove -I /usr/lib/postgresql/15/lib/pgxs/src/test/perl/ -I . test/t/005_hnsw_crash.pl

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use VecdbHnsw;

my $node = PostgreSQL::Test::Cluster->new('hnsw_crash');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_buffers = 1MB
jit = off
});
$node->start;

# Deterministic clustered data (VecdbHnsw::create_data): point(i) is the
# centre of cluster i % 50 plus uniform noise; queries point(1000000 + k).
create_data(
	$node, q{
	CREATE TABLE queries (qid int PRIMARY KEY, v vector(32));
	INSERT INTO queries SELECT k, point(1000000 + k, 32) FROM generate_series(1, 30) k;
	CREATE TABLE items (id int PRIMARY KEY, v vector(32) NOT NULL, t int GENERATED ALWAYS AS (id % 10) STORED);
	INSERT INTO items SELECT i, point(i, 32) FROM generate_series(1, 2000) i;
	CREATE INDEX items_l2 ON items USING hnsw (v vector_l2_ops);
	CREATE INDEX items_cos ON items USING hnsw (v vector_cosine_ops, t) WITH (quantization = 'e8_4bit');
});

# One row per transaction, ids in order: the committed rows are always
# ids 1 .. n.
my ($stdout, $stderr) = ('', '');
my $inserter = IPC::Run::start(
	[
		'psql', '-XAtq', '-d', $node->connstr('postgres'), '-c', q{
		DO $$ BEGIN
		  FOR i IN 2001 .. 100000 LOOP
		    INSERT INTO items VALUES (i, point(i, 32));
		    COMMIT;
		  END LOOP;
		END $$}
	],
	'>', \$stdout, '2>', \$stderr);

$node->poll_query_until('postgres', 'SELECT count(*) >= 3000 FROM items')
  or die 'the inserts do not progress';
$node->safe_psql('postgres', 'CHECKPOINT');
$node->poll_query_until('postgres', 'SELECT count(*) >= 4500 FROM items')
  or die 'the inserts do not progress';
my $seen = $node->safe_psql('postgres', 'SELECT count(*) FROM items');

$node->stop('immediate');
$inserter->finish;
like($stderr, qr/server closed the connection unexpectedly|terminating connection/,
	'the inserting session was cut off by the crash');

$node->start;
ok($node->log_contains('database system was not properly shut down; automatic recovery in progress'),
	'the server ran crash recovery');

my $n = $node->safe_psql('postgres', 'SELECT count(*) FROM items');
cmp_ok($n, '>=', $seen, "every row seen committed before the crash is there ($n >= $seen)");
cmp_ok($n, '<', 100000, 'the crash came before the end of the inserts');
is($node->safe_psql('postgres', 'SELECT min(id) || \' \' || max(id) FROM items'),
	"1 $n", 'the committed rows are ids 1 .. n');

# ---------------------------------------------------------------------------
# The checks, run after the crash and after more changes.
# ---------------------------------------------------------------------------

# VecdbHnsw::check_index on both indexes, test names starting with $when.
sub check_indexes
{
	my ($when, $rows) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	for my $case ([ 'items_l2', '<->' ], [ 'items_cos', '<=>' ])
	{
		my ($index, $op) = @$case;
		check_index($node, "$when, $index", $index, $op, $rows);
	}
	# items_cos holds t as its filter column: the keys survived too.
	like(
		plan_of($node, 'SELECT id FROM items WHERE t = 3 ORDER BY v <=> (SELECT v FROM queries WHERE qid = 1) LIMIT 10'),
		qr/Index Scan using items_cos on items.*Index Cond: \(t = 3\)/s,
		"$when, items_cos: WHERE t = 3 is its Index Cond");
	my $recall = recall(knn_lists($node, '<=>', where => 't = 3'),
		knn_lists($node, '<=>', where => 't = 3', exact => 1));
	cmp_ok($recall, '>=', 0.95, "$when, items_cos: recall\@10 of WHERE t = 3 >= 0.95 ($recall)");
}

check_indexes('after the crash', $n);

# ---------------------------------------------------------------------------
# (c) the index takes changes after recovery
# ---------------------------------------------------------------------------
$node->safe_psql('postgres',
	"INSERT INTO items SELECT i, point(i, 32) FROM generate_series($n + 1, $n + 500) i");
check_indexes('after more inserts', $n + 500);

my $deleted = $node->safe_psql(
	'postgres', q{
	WITH d AS (DELETE FROM items WHERE hrand(id * 0.618) < 0.25 RETURNING id) SELECT count(*) FROM d});
$node->safe_psql('postgres', 'VACUUM items');
$node->safe_psql('postgres',
	"INSERT INTO items SELECT i, point(i, 32) FROM generate_series($n + 501, $n + 800) i");
check_indexes('after DELETE, VACUUM and inserts', $n + 800 - $deleted);

ok(!$node->log_contains('terminated by signal'), 'no backend crashed');
$node->stop;
done_testing();
