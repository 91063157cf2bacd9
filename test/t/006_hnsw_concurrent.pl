
# Concurrent inserts and searches on the hnsw index.
#
# Inserts link a new element into neighbour lists other backends are
# reading, and may move the entry point; a scan must never see a torn page
# or follow a link into an element that is not yet written, and two inserts
# must not lose each other's links.  pgbench runs two clients for 10 s, each
# transaction picking one of two scripts: insert one row (ids from a
# sequence, vectors from the id) or run KNN queries through the two indexes
# (l2 with sq8 codes, cosine with e8 codes, whose scans re-rank on the table
# rows the inserts are writing).  Afterwards:
#
#  (a) pgbench reports no failed transaction and no error;
#  (b) the table has exactly the rows the insert transactions committed;
#  (c) the queries used the indexes;
#  (d) a scan to exhaustion returns every row once through each index (no
#      insert lost another's links), and at least 99.9% of the rows are found
#      as their own nearest neighbour (at hnsw.ef_search = 100: approximate
#      search can, rarely, settle in another cluster);
#  (e) recall@10 against brute force is >= 0.95.
# Then 4 clients insert, delete, VACUUM and query at once for 8 s: no failed
# transaction, and every remaining row is reachable through both indexes.
#
# Run with PGXS's `make installcheck` (TAP_TESTS = 1) or directly:
#   PATH=/usr/lib/postgresql/15/bin:$PATH \
#   PG_REGRESS=/usr/lib/postgresql/15/lib/pgxs/src/test/regress/pg_regress \
#   prove -I /usr/lib/postgresql/15/lib/pgxs/src/test/perl/ -I . test/t/006_hnsw_concurrent.pl

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use VecdbHnsw;

my $node = PostgreSQL::Test::Cluster->new('concurrent');
$node->init;
$node->append_conf('postgresql.conf', "jit = off\n");
$node->start;

# Deterministic clustered data (VecdbHnsw::create_data): point(i) is the
# centre of cluster i % 50 plus uniform noise; queries point(1000000 + k).
create_data(
	$node, q{
	CREATE TABLE queries (qid int PRIMARY KEY, v vector(32));
	INSERT INTO queries SELECT k, point(1000000 + k, 32) FROM generate_series(1, 30) k;
	CREATE TABLE items (id int PRIMARY KEY, v vector(32) NOT NULL);
	INSERT INTO items SELECT i, point(i, 32) FROM generate_series(1, 1000) i;
	CREATE SEQUENCE items_seq START 1001;
	CREATE INDEX items_l2 ON items USING hnsw (v vector_l2_ops);
	CREATE INDEX items_cos ON items USING hnsw (v vector_cosine_ops) WITH (quantization = 'e8');
	SELECT pg_stat_reset();
});

my $dir = $node->basedir;
PostgreSQL::Test::Utils::append_to_file("$dir/insert.sql", q{
INSERT INTO items SELECT n, point(n, 32) FROM (SELECT nextval('items_seq')::int AS n) s;
});
PostgreSQL::Test::Utils::append_to_file("$dir/query.sql", q{
\set k random(1, 100000)
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM items ORDER BY v <-> point(2000000 + :k, 32) LIMIT 10) s;
SELECT count(*) FROM (SELECT id FROM items ORDER BY v <=> point(3000000 + :k, 32) LIMIT 10) s;
});

my ($stdout, $stderr);
my $ok = IPC::Run::run(
	[
		'pgbench', '--no-vacuum', '--client=2', '--jobs=2', '--time=10', '--rate=500',
		'-f', "$dir/insert.sql\@1", '-f', "$dir/query.sql\@1",
		$node->connstr('postgres')
	],
	'>', \$stdout, '2>', \$stderr);
note($stdout);
ok($ok, 'pgbench exits with status 0') or diag($stderr);
unlike($stderr, qr/error|abort/i, 'pgbench reports no error');
like($stdout, qr/number of failed transactions: 0 /, 'no failed transaction');

my ($inserts) = $stdout =~ m{SQL script \d+: \S*insert\.sql\n - weight: 1 .*\n - (\d+) transactions};
my ($queries) = $stdout =~ m{SQL script \d+: \S*query\.sql\n - weight: 1 .*\n - (\d+) transactions};
cmp_ok($inserts // 0, '>', 500, 'the insert script ran ' . ($inserts // 0) . ' times');
cmp_ok($queries // 0, '>', 100, 'the query script ran ' . ($queries // 0) . ' times');

my $n = $node->safe_psql('postgres', 'SELECT count(*) FROM items');
# pgbench may stop counting at --time with a client's last transaction
# already committed on the server: up to one more row per client.
my $extra = $n - 1000 - ($inserts // 0);
ok($extra >= 0 && $extra <= 2,
	"the table has the initial rows and one row per insert transaction ($extra committed as pgbench stopped)");
is($node->safe_psql('postgres', 'SELECT last_value FROM items_seq'), $n, 'every id drawn was committed');

# The pgbench backends report their statistics when they exit, which can be
# just after pgbench does: wait for the counts to settle (10 s at most).
my $stats_sql = q{
	SELECT string_agg(indexrelname || ':' || idx_scan || ':' || idx_tup_read, ',' ORDER BY indexrelname)
	  FROM pg_stat_user_indexes WHERE indexrelname IN ('items_l2', 'items_cos')};
my $stats = $node->safe_psql('postgres', $stats_sql);
for (1 .. 20)
{
	sleep 0.5;
	my $now = $node->safe_psql('postgres', $stats_sql);
	last if $now eq $stats;
	$stats = $now;
}
note("index statistics: $stats");
my %scans = map { (split /:/)[0, 1] } split /,/, $stats;
my %tuples = map { (split /:/)[0, 2] } split /,/, $stats;
cmp_ok($tuples{$_} // 0, '>=', 10 * ($queries // 0), "$_: the queries read tuples from the index")
  for ('items_l2', 'items_cos');
# One index scan per query at least (each query is one scan of one index).
cmp_ok($scans{$_} // 0, '>=', $queries // 0, "$_: pg_stat_user_indexes.idx_scan counts the scans")
  for ('items_l2', 'items_cos');

# ---------------------------------------------------------------------------
# The final table
# ---------------------------------------------------------------------------
for my $case ([ 'items_l2', '<->' ], [ 'items_cos', '<=>' ])
{
	my ($index, $op) = @$case;
	check_index($node, $index, $index, $op, $n);
}

# ---------------------------------------------------------------------------
# Inserts, deletes, VACUUM and queries at once (4 clients, 8 s): VACUUM's
# repair takes the update lock that inserts share, while scans walk pages it
# rewrites.  Afterwards every remaining row is reachable through both indexes.
# ---------------------------------------------------------------------------
PostgreSQL::Test::Utils::append_to_file("$dir/delete.sql", q{
\set d random(1, 1000)
DELETE FROM items WHERE id = :d * 7 % 5000 + 1;
});
PostgreSQL::Test::Utils::append_to_file("$dir/vacuum.sql", q{
VACUUM items;
});
$ok = IPC::Run::run(
	[
		'pgbench', '--no-vacuum', '--client=4', '--jobs=2', '--time=8',
		'-f', "$dir/insert.sql\@4", '-f', "$dir/delete.sql\@4", '-f', "$dir/vacuum.sql\@1",
		'-f', "$dir/query.sql\@4", $node->connstr('postgres')
	],
	'>', \$stdout, '2>', \$stderr);
note($stdout);
ok($ok, 'pgbench with VACUUM exits with status 0') or diag($stderr);
like($stdout, qr/number of failed transactions: 0 /, 'no failed transaction with VACUUM running');
my ($vacuums) = $stdout =~ m{SQL script \d+: \S*vacuum\.sql\n - weight: 1 .*\n - (\d+) transactions};
cmp_ok($vacuums // 0, '>', 3, 'VACUUM ran ' . ($vacuums // 0) . ' times during the inserts and queries');
$n = $node->safe_psql('postgres', 'SELECT count(*) FROM items');
for my $op ('<->', '<=>')
{
	is(exhaustive_scan($node, $op), "$n $n", "$op: after concurrent VACUUMs every remaining row is reachable once");
}

# ---------------------------------------------------------------------------
# Inserts do not wait for VACUUM's repair.  A VACUUM slowed down by
# cost-based delay (seconds in its index phase) runs in the background after
# 30% of a table's rows are deleted; meanwhile single-row inserts run one
# after another with lock_timeout = 2s.  When the repair held the update lock
# for its whole pass, an insert during it waited that long and failed here.
# ---------------------------------------------------------------------------
$node->safe_psql(
	'postgres', q{
	CREATE TABLE churn (id int PRIMARY KEY, v vector(32) NOT NULL);
	INSERT INTO churn SELECT i, point(i, 32) FROM generate_series(1, 3000) i;
	CREATE INDEX churn_l2 ON churn USING hnsw (v vector_l2_ops);
	DELETE FROM churn WHERE id % 10 < 3;
	CREATE SEQUENCE churn_seq START 3001;
});
my ($vacuum_out, $vacuum_err) = ('', '');
my $vacuum = IPC::Run::start(
	[
		'psql', '-X', '-v', 'ON_ERROR_STOP=1', '-c', "SET vacuum_cost_delay = '2ms'",
		'-c', 'SET vacuum_cost_limit = 1', '-c', 'VACUUM churn', '-d', $node->connstr('postgres')
	],
	'>', \$vacuum_out, '2>', \$vacuum_err);
my $phase_sql = q{SELECT coalesce((SELECT phase FROM pg_stat_progress_vacuum
	WHERE relid = 'churn'::regclass), 'none')};
$node->poll_query_until('postgres', "$phase_sql = 'vacuuming indexes'")
  or die 'VACUUM never reached its index phase';
my ($during, $failed, $error) = (0, 0, '');
for (my $phase = 'vacuuming indexes'; $phase eq 'vacuuming indexes';)
{
	my ($rc, $out, $err) = $node->psql(
		'postgres', qq{
		SET lock_timeout = '2s';
		INSERT INTO churn SELECT n, point(n, 32) FROM (SELECT nextval('churn_seq')::int AS n) s;
		$phase_sql;
	});
	if ($rc != 0) { $failed++; $error = $err; last; }
	$phase = $out;
	$during++ if $phase eq 'vacuuming indexes';
}
ok($vacuum->finish, 'the slowed VACUUM completes') or diag($vacuum_err);
is($failed, 0, 'no insert waited 2 s for a lock during the VACUUM') or diag($error);
cmp_ok($during, '>=', 20, "$during inserts completed while VACUUM was in its index phase");
is( $node->safe_psql(
		'postgres', q{SET enable_seqscan = off; SET hnsw.iterative_scan = relaxed_order;
		SET hnsw.max_scan_tuples = 10000000;
		SELECT count(DISTINCT id) = (SELECT count(*) FROM churn)
		FROM (SELECT id FROM churn ORDER BY v <-> point(1, 32) LIMIT 100000) s}),
	't',
	'after VACUUM with inserts beside it, a scan to the end returns every row');

ok(!$node->log_contains('terminated by signal'), 'no backend crashed');
ok(!$node->log_contains('ERROR'), 'no ERROR in the server log');
$node->stop;
done_testing();
