
# The ivf index access method (and its pgvector spelling ivfflat).
#
# An ivf index splits the rows into `lists` by k-means and a scan reads the
# ivf.probes lists whose centres are nearest the query; within what those
# lists hold, rows come out in exact distance order (the scan returns lower
# bounds computed from the codes, and the executor rechecks them on the
# table rows).  So with every list probed the index is exhaustive: its
# top-k must be brute force's, whatever the operator class and the
# quantization.  That check, and a scan of the whole index that must return
# every row of the table once (and read exactly as many entries from the
# index, once VACUUM has run), are made after every kind of change to the
# index (build, inserts, deletes + VACUUM, crash recovery, replay on a
# standby, concurrent inserts).  (The exact check alone would not notice a
# lost list far from every query: with 39 of 40 lists probed it passes too.
# The whole-index scans would.)
#
# Data: deterministic, 3000 rows of 32 dimensions in two shapes, 40 queries
# each (never copies of rows):
#  clustered  items_c: VecdbHnsw's point(i) (cluster i % 50 plus noise);
#  uniform    items_u: upoint(i), coordinates uniform in [-1, 1] from a
#             hash of (i, j) (the seeded generator of 010_hnsw_filter.pl);
#             IVF's worst case: a simulation with exact k-means gave
#             recall@10 0.92 at 20 of 40 lists and 0.985 at 30, so the
#             uniform cases probe 3/4 of the lists, the clustered ones half.
# Both have cat = id % 100 (1% of the rows each).  On the clustered shape
# cat = 3 holds only rows of cluster 3 (id % 100 = 3 implies id % 50 = 3):
# the filtered queries of the other clusters must walk far from their own
# lists to find their rows (the hard case for an iterative scan).
#
# Checks (numbered as in the brief, listed in the order they run):
#  (1) Recall, every opclass (l2, ip, cosine) x quantization (none, sq8, e8,
#      e8_4bit, h4, binary on clustered data; none, sq8, e8, binary on
#      uniform data), lists = 40: the query is an Index Scan on the ivf
#      index; at half (clustered) or 3/4 (uniform) of the lists recall@10
#      >= 0.95, every query gets 10 rows, none twice, distances never
#      decrease, none below the exact distance of its rank; with every list
#      probed the lists are exactly brute force's (recall 1.0); the same
#      for LIMIT 300 (rows past a round's first 64).  probes = 1
#      on uniform data is checked to fail the 0.95 bar (the check has
#      teeth).  Default options; NULL vectors (never indexed) and zero
#      vectors (not indexed under cosine).
#  (2) Filtered queries (WHERE cat = 3 ORDER BY v <-> q LIMIT 10, index
#      forced): with the default ivf.iterative_scan (relaxed_order) every
#      query gets 10 rows at probes 1 and 10; with every list probed the
#      lists equal brute force's in order; with iterative_scan = off or
#      ivf.max_probes = 2 at probes = 1 some queries come back short (the
#      setting is honoured, and the fill check above could fail).
#  (3) An index built on an empty table (one list), filled by INSERTs:
#      exact results (l2 sq8, cosine binary).
#  (4) Build on 2000 rows (4 lists: several pages each), INSERT 1000,
#      DELETE 30%, VACUUM: exact results with every list probed (l2 sq8, ip
#      e8), no deleted row returned, and a scan of the whole index reads
#      exactly the live rows from it (pg_stat_get_xact_tuples_returned counts
#      every TID amgettuple gives: VACUUM removed the dead entries).  The
#      deleted rows inserted again fill the room VACUUM made: the index does
#      not grow (without the VACUUM it grows by 5 and 3 pages).
#  (5) USING ivfflat with lists = 20: ivfflat.probes = 20 gives exact
#      results, ivfflat.probes = 1 does not; the ivfflat.* GUCs exist
#      (pgvector's defaults: probes 1, iterative_scan off) and
#      ivfflat.iterative_scan and ivfflat.max_probes are honoured.
#  (9) Edge cases: lists = 100 on 50 rows; 6 distinct vectors x 100 in 20
#      lists (the copies come first); a build under maintenance_work_mem =
#      1MB that samples 4096 of 6000 rows; CREATE INDEX CONCURRENTLY and
#      REINDEX INDEX CONCURRENTLY (exact, every row once); a zero query
#      vector under cosine returns rows; a query vector of other dimensions
#      is refused.
#  (8) Concurrent inserts and queries (two pgbench runs at once, 2 clients
#      each, 5 s; every query must return 10 rows or its transaction
#      fails): no failure, then a scan of the whole index returns every row
#      of the table once and recall with every list probed is 1.0.  Then
#      inserts, deletes, VACUUM and queries at once (4 clients, 4 s): the
#      same checks.
#  (6) Crash recovery (shared_buffers = 1MB, a CHECKPOINT in the middle,
#      5 lists of several pages): after an immediate shutdown the id lists
#      of the queries (l2 sq8, cosine e8, 2 of 5 lists probed, with and
#      without a filter) are those from before the crash, every row is in
#      the index once, recall 1.0 with every list probed.  Then a crash in
#      the middle of an uncommitted transaction of 3000 inserts: the same
#      lists again, VACUUM clears the aborted entries, inserts work.  Then a
#      crash in the middle of a stream of one-row transactions: every
#      committed row is in both indexes once, recall 1.0.  An UNLOGGED
#      table's index is reset by the crash (ambuildempty's init fork) and
#      takes inserts.
#  (7) A streaming standby of a primary with wal_consistency_checking =
#      'all' (every WAL record's replay is compared with the primary's page
#      image): indexes (l2 sq8, cosine e8, ip binary; 5 lists) built after
#      the standby started, cycles of inserts, deletes and VACUUM; the
#      standby returns the primary's id lists (2 of 5 lists probed, and
#      filtered) and brute force's with every list probed; no inconsistent
#      page.
#
# Run with PGXS's `make installcheck` (TAP_TESTS = 1) or directly:
#   PATH=/usr/lib/postgresql/15/bin:$PATH \
#   PG_REGRESS=/usr/lib/postgresql/15/lib/pgxs/src/test/regress/pg_regress \
#   prove -I /usr/lib/postgresql/15/lib/pgxs/src/test/perl/ -I . test/t/011_ivf.pl

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use VecdbHnsw;

my $node = PostgreSQL::Test::Cluster->new('ivf');
$node->init;
$node->append_conf('postgresql.conf', qq{
jit = off
autovacuum = off
});
$node->start;
my $started = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');

my $lists = 40;
my $dims = 32;

# Deterministic data (VecdbHnsw::create_data: hrand, point).  "queries" is
# a view the tests point at the query table of the shape under test
# (knn_stats and knn_lists read "queries").
create_data(
	$node, qq{
	CREATE FUNCTION upoint(i int, dims int) RETURNS vector LANGUAGE sql IMMUTABLE PARALLEL SAFE
	  AS \$\$ SELECT array_agg((2 * hrand(i * 0.7319 + j * 91.17) - 1)::real ORDER BY j)::vector
	          FROM generate_series(1, dims) j \$\$;
	CREATE TABLE items_c (id int PRIMARY KEY, v vector($dims), cat int NOT NULL);
	INSERT INTO items_c SELECT i, point(i, $dims), i % 100 FROM generate_series(1, 3000) i;
	CREATE TABLE items_u (id int PRIMARY KEY, v vector($dims), cat int NOT NULL);
	INSERT INTO items_u SELECT i, upoint(i, $dims), i % 100 FROM generate_series(1, 3000) i;
	CREATE TABLE queries_c (qid int PRIMARY KEY, v vector($dims));
	INSERT INTO queries_c SELECT k, point(1000000 + k, $dims) FROM generate_series(1, 40) k;
	CREATE TABLE queries_u (qid int PRIMARY KEY, v vector($dims));
	INSERT INTO queries_u SELECT k, upoint(1000000 + k, $dims) FROM generate_series(1, 40) k;
	CREATE VIEW queries AS SELECT qid, v FROM queries_c;
	ANALYZE items_c, items_u, queries_c, queries_u;
});
is( $node->safe_psql(
		'postgres', q{
	SELECT (SELECT count(DISTINCT v::text) FROM items_c) || ' ' || (SELECT count(DISTINCT v::text) FROM items_u)
	       || ' ' || (SELECT count(*) FROM items_c WHERE cat = 3 AND id % 50 <> 3)}),
	'3000 3000 0',
	'the generated vectors are distinct; on clustered data cat = 3 holds only cluster 3');

my %query_table = (items_c => 'queries_c', items_u => 'queries_u');

sub use_queries
{
	my ($table) = @_;
	$node->safe_psql('postgres', "CREATE OR REPLACE VIEW queries AS SELECT qid, v FROM $query_table{$table}");
	return;
}

# Whether the KNN query on $table by $op is an Index Scan using $index.
sub uses_index
{
	my ($n, $table, $index, $op, $where) = @_;
	$where = $where ? "WHERE $where" : '';
	return plan_of($n, "SELECT id FROM $table $where ORDER BY v $op (SELECT v FROM queries WHERE qid = 1) LIMIT 10")
	  =~ /Index Scan using $index on $table/;
}

# knn_stats' numbers as one string: "hits/exact short dup disorder
# below_exact"; exact results are "E/E 0 0 0 0" (E = 10 x queries, or the
# rows the filter leaves).
sub summary
{
	my ($r) = @_;
	return "$r->{hits}/$r->{exact} $r->{short} $r->{dup} $r->{disorder} $r->{below_exact}";
}

# The checks of an exact answer: knn_stats with $set (which sets the probes
# to every list) finds brute force's lists.
sub exact_ok
{
	my ($n, $name, %a) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $r = knn_stats($n, %a);
	my $want = "$r->{exact}/$r->{exact} 0 0 0 0";
	is(summary($r), $want, "$name: exact (recall 1.0, no short list, duplicate or disorder)");
	fail("$name: brute force found no rows") unless $r->{exact};
	return $r;
}

# The checks of an approximate answer at partial probes, read in one round:
# under relaxed_order (the default) the executor asks for a next round
# whenever it has all of one before it is sure of the LIMIT, which loose
# bounds cause without any WHERE (binary codes on uniform data: every bound
# of 30 lists below the 10th distance), and a later round's rows can be
# nearer than rows already returned.
sub approx_ok
{
	my ($n, $name, %a) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	$a{set} = ($a{set} // '') . ' SET ivf.iterative_scan = off;';
	my $r = knn_stats($n, %a, full_k => 1);
	cmp_ok($r->{recall}, '>=', 0.95, sprintf('%s: recall@10 >= 0.95 (%.3f)', $name, $r->{recall}));
	is($r->{short}, 0, "$name: every query returns 10 rows");
	is($r->{dup}, 0, "$name: no row is returned twice");
	is($r->{disorder}, 0, "$name: distances never decrease");
	is($r->{below_exact}, 0, "$name: no distance below the exact one of its rank");
	return $r;
}

# A scan of the whole of $index (with $set probing every list, no LIMIT in
# reach) on $table by $op, in one transaction: "rows distinct_rows
# index_tuples", the last the tuples the scan read from the index (live or
# dead: pg_stat_get_xact_tuples_returned counts every TID amgettuple gives).
sub whole_scan
{
	my ($n, $table, $index, $op, $set) = @_;
	return join ' ', split /\n/, $n->safe_psql(
		'postgres', qq{
		BEGIN;
		SET enable_seqscan = off; SET enable_bitmapscan = off;
		$set
		SELECT count(*) || ' ' || count(DISTINCT id)
		  FROM (SELECT id FROM $table ORDER BY v $op (SELECT v FROM queries WHERE qid = 1) LIMIT 100000000) s;
		SELECT pg_stat_get_xact_tuples_returned('$index'::regclass);
		COMMIT;});
}

# ---------------------------------------------------------------------------
# (1) recall: every opclass and quantization, two shapes
# ---------------------------------------------------------------------------
my @opclasses = ([ 'vector_l2_ops', '<->' ], [ 'vector_ip_ops', '<#>' ], [ 'vector_cosine_ops', '<=>' ]);
my @shapes = (
	[ 'items_c', 'clustered', $lists / 2, [qw(none sq8 e8 e8_4bit h4 binary)] ],
	[ 'items_u', 'uniform', $lists * 3 / 4, [qw(none sq8 e8 binary)] ]);

for my $shape (@shapes)
{
	my ($table, $shape_name, $probes, $quants) = @$shape;
	use_queries($table);
	for my $oc (@opclasses)
	{
		my ($opclass, $op) = @$oc;
		for my $quant (@$quants)
		{
			my $name = "$shape_name $opclass $quant";
			$node->safe_psql('postgres',
				"CREATE INDEX ${table}_ivf ON $table USING ivf (v $opclass) WITH (lists = $lists, quantization = '$quant')");
			ok(uses_index($node, $table, "${table}_ivf", $op), "$name: ORDER BY v $op q LIMIT 10 is an ivf Index Scan");
			approx_ok($node, "$name, probes $probes of $lists",
				table => $table, op => $op, set => "SET ivf.probes = $probes;");
			exact_ok($node, "$name, every list probed",
				table => $table, op => $op, set => "SET ivf.probes = $lists;");
			$node->safe_psql('postgres', "DROP INDEX ${table}_ivf");
		}
	}
}

# Long runs: LIMIT 300 reads past the first rows of a round (the scan keeps
# a round's nearest candidates sorted apart from the rest, which it orders
# only when asked for more).  With every list probed the 300 rows are brute
# force's in order; with half of them, still in order, none twice.
for my $case ([ 'items_c', 'clustered', 'vector_l2_ops', '<->', 'binary' ],
	[ 'items_u', 'uniform', 'vector_cosine_ops', '<=>', 'sq8' ],
	[ 'items_c', 'clustered', 'vector_ip_ops', '<#>', 'e8' ])
{
	my ($table, $shape_name, $opclass, $op, $quant) = @$case;
	use_queries($table);
	$node->safe_psql('postgres',
		"CREATE INDEX ${table}_ivf ON $table USING ivf (v $opclass) WITH (lists = $lists, quantization = '$quant')");
	exact_ok($node, "$shape_name $opclass $quant, LIMIT 300, every list probed",
		table => $table, op => $op, k => 300, set => "SET ivf.probes = $lists;");
	my $r = knn_stats($node, table => $table, op => $op, k => 300, full_k => 1,
		set => 'SET ivf.probes = ' . ($lists / 2) . ';');
	is("$r->{short} $r->{dup} $r->{disorder} $r->{below_exact}", '0 0 0 0',
		sprintf('%s %s %s, LIMIT 300, probes %d: 300 rows a query, none twice, in order (recall %.3f)',
			$shape_name, $opclass, $quant, $lists / 2, $r->{recall}));
	$node->safe_psql('postgres', "DROP INDEX ${table}_ivf");
}

# The brute-force side really is brute force.
like(
	$node->safe_psql(
		'postgres', q{
	CREATE INDEX items_c_ivf ON items_c USING ivf (v vector_l2_ops) WITH (lists = 40);
	SET enable_indexscan = off; SET enable_bitmapscan = off;
	EXPLAIN (COSTS OFF) SELECT id FROM items_c ORDER BY v <-> (SELECT v FROM queries WHERE qid = 1) LIMIT 10;
	DROP INDEX items_c_ivf;}),
	qr/Sort.*Seq Scan on items_c/s,
	'the exact lists come from a sequential scan and a sort');

# The recall check has teeth: one list of 40 on uniform data misses most
# neighbours.
use_queries('items_u');
$node->safe_psql('postgres', "CREATE INDEX items_u_ivf ON items_u USING ivf (v vector_l2_ops) WITH (lists = $lists)");
my $r = knn_stats($node, table => 'items_u', op => '<->', set => 'SET ivf.probes = 1;');
cmp_ok($r->{recall}, '<', 0.95,
	sprintf('uniform l2, probes = 1: recall@10 below 0.95 (%.3f): the recall checks can fail', $r->{recall}));
is($r->{short}, 0, 'uniform l2, probes = 1: every query still returns 10 rows');
$node->safe_psql('postgres', 'DROP INDEX items_u_ivf');

# Default options (lists from the row count, sq8, ivf.probes 10): a working
# index with rows in order; the recall is noted (it depends on the lists
# the row count gives).
use_queries('items_c');
$node->safe_psql('postgres', 'CREATE INDEX items_c_ivf ON items_c USING ivf (v vector_l2_ops)');
ok(uses_index($node, 'items_c', 'items_c_ivf', '<->'), 'default options: the query is an ivf Index Scan');
$r = knn_stats($node, table => 'items_c', op => '<->', full_k => 1);
is("$r->{short} $r->{dup} $r->{disorder} $r->{below_exact}", '0 0 0 0',
	sprintf('default options: 10 rows a query, none twice, in order (recall %.3f)', $r->{recall}));
# (The iterative scan goes on past ivf.probes for a query without LIMIT
# in reach, up to ivf.max_probes lists.)
is(whole_scan($node, 'items_c', 'items_c_ivf', '<->', 'SET ivf.max_probes = 1000;'), '3000 3000 3000',
	'default options: a scan of the whole index returns each row once');
$node->safe_psql('postgres', 'DROP INDEX items_c_ivf');

# NULL vectors are never indexed; zero vectors are not under cosine (no
# direction), but are under L2.  1100 rows (1000 before the build, 100
# after): i % 7 = 0 NULL, i % 7 = 3 zero (157 each; not aligned with the
# clusters, so no query's neighbours are all zero vectors: identical
# vectors tie, and brute force breaks ties arbitrarily).
$node->safe_psql(
	'postgres', qq{
	CREATE TABLE holes (id int PRIMARY KEY, v vector($dims));
	INSERT INTO holes SELECT i, CASE WHEN i % 7 = 0 THEN NULL
	                                 WHEN i % 7 = 3 THEN array_fill(0, ARRAY[$dims])::real[]::vector
	                                 ELSE point(i, $dims) END
	  FROM generate_series(1, 1000) i;
	CREATE INDEX holes_l2 ON holes USING ivf (v vector_l2_ops) WITH (lists = 10);
	CREATE INDEX holes_cos ON holes USING ivf (v vector_cosine_ops) WITH (lists = 10);
	INSERT INTO holes SELECT i, CASE WHEN i % 7 = 0 THEN NULL
	                                 WHEN i % 7 = 3 THEN array_fill(0, ARRAY[$dims])::real[]::vector
	                                 ELSE point(i, $dims) END
	  FROM generate_series(1001, 1100) i;
	ANALYZE holes;
});
pass('ivf indexes build on a table with NULL and zero vectors and take them as inserts');
is(whole_scan($node, 'holes', 'holes_l2', '<->', 'SET ivf.probes = 10;'), '943 943 943',
	'NULLs: the l2 index holds the 943 non-NULL rows once each');
is(whole_scan($node, 'holes', 'holes_cos', '<=>', 'SET ivf.probes = 10;'), '786 786 786',
	'NULLs: the cosine index holds the 786 non-NULL, non-zero rows once each');
for my $case ([ 'l2', '<->' ], [ 'cosine', '<=>' ])
{
	exact_ok($node, "table with NULL and zero vectors, $case->[0], every list", table => 'holes', op => $case->[1],
		set => 'SET ivf.probes = 10;');
}

# ---------------------------------------------------------------------------
# (2) filtered queries fill the LIMIT
# ---------------------------------------------------------------------------
for my $shape (@shapes)
{
	my ($table, $shape_name) = @$shape;
	use_queries($table);
	$node->safe_psql('postgres',
		"CREATE INDEX ${table}_ivf ON $table USING ivf (v vector_l2_ops) WITH (lists = $lists)");
	like(
		$node->safe_psql(
			'postgres', qq{SET enable_seqscan = off; SET enable_bitmapscan = off;
			EXPLAIN (COSTS OFF) SELECT q.qid, s.id FROM queries q CROSS JOIN LATERAL
			  (SELECT id FROM $table t WHERE t.cat = 3 ORDER BY t.v <-> q.v LIMIT 10) s}),
		qr/Index Scan using ${table}_ivf on $table t.*Filter: \(cat = 3\)/s,
		"$shape_name: WHERE cat = 3 ORDER BY v <-> q is an ivf Index Scan with the filter");
	my %f = (table => $table, op => '<->', where => 't.cat = 3', full_k => 1);
	for my $probes (1, 10)
	{
		my $r = knn_stats($node, %f, set => "SET enable_bitmapscan = off; SET ivf.probes = $probes;");
		is("$r->{short} $r->{dup}", '0 0',
			sprintf('%s, WHERE cat = 3, probes %d, default iterative scan: 10 rows a query, none twice '
				  . '(recall %.3f, %d out of order)', $shape_name, $probes, $r->{recall}, $r->{disorder}));
	}
	exact_ok($node, "$shape_name, WHERE cat = 3, every list probed", %f,
		set => "SET enable_bitmapscan = off; SET ivf.probes = $lists;");
	is( knn_lists($node, '<->', table => $table, where => 'cat = 3',
			set => "SET enable_bitmapscan = off; SET ivf.probes = $lists;"),
		knn_lists($node, '<->', table => $table, where => 'cat = 3', exact => 1),
		"$shape_name, WHERE cat = 3, every list probed: the id lists are brute force's, in order");
	$r = knn_stats($node, %f,
		set => 'SET enable_bitmapscan = off; SET ivf.probes = 1; SET ivf.iterative_scan = off;');
	cmp_ok($r->{short}, '>', 0,
		"$shape_name, WHERE cat = 3, probes 1, iterative_scan = off: short lists ($r->{short} of 40 queries, $r->{rows} rows)");
	$r = knn_stats($node, %f,
		set => 'SET enable_bitmapscan = off; SET ivf.probes = 1; SET ivf.iterative_scan = relaxed_order; SET ivf.max_probes = 2;');
	cmp_ok($r->{short}, '>', 0,
		"$shape_name, WHERE cat = 3, probes 1, max_probes 2: short lists ($r->{short} of 40 queries, $r->{rows} rows)");
	$node->safe_psql('postgres', "DROP INDEX ${table}_ivf");
}

# ---------------------------------------------------------------------------
# (3) an index built on an empty table, filled by INSERTs
# ---------------------------------------------------------------------------
use_queries('items_c');
$node->safe_psql(
	'postgres', qq{
	CREATE TABLE grow (id int PRIMARY KEY, v vector($dims));
	CREATE INDEX grow_l2 ON grow USING ivf (v vector_l2_ops);
	CREATE INDEX grow_cos ON grow USING ivf (v vector_cosine_ops) WITH (quantization = 'binary');
});
for my $s (0 .. 3)
{
	my ($from, $to) = (500 * $s + 1, 500 * $s + 500);
	$node->safe_psql('postgres', "INSERT INTO grow SELECT i, point(i, $dims) FROM generate_series($from, $to) i");
}
$node->safe_psql('postgres', 'ANALYZE grow');
for my $case ([ 'grow_l2', '<->' ], [ 'grow_cos', '<=>' ])
{
	my ($index, $op) = @$case;
	ok(uses_index($node, 'grow', $index, $op), "built empty, $index: the query is an ivf Index Scan");
	exact_ok($node, "built empty then 2000 INSERTs, $index (one list), default probes", table => 'grow', op => $op);
	is(whole_scan($node, 'grow', $index, $op, ''), '2000 2000 2000', "built empty, $index: the index holds every row once");
}

# ---------------------------------------------------------------------------
# (4) inserts after a build, DELETE, VACUUM
# ---------------------------------------------------------------------------
# 4 lists of 500 rows at the build, 750 after the inserts: every list spans
# several pages, so VACUUM works on chained pages and the re-inserts below
# can only fit without growing the index if they reuse the room VACUUM made
# (the slack at the end of the 4 lists is below the 900 rows re-inserted).
$node->safe_psql(
	'postgres', qq{
	CREATE TABLE churn (id int PRIMARY KEY, v vector($dims));
	INSERT INTO churn SELECT i, point(i, $dims) FROM generate_series(1, 2000) i;
	CREATE INDEX churn_l2 ON churn USING ivf (v vector_l2_ops) WITH (lists = 4);
	CREATE INDEX churn_ip ON churn USING ivf (v vector_ip_ops) WITH (lists = 4, quantization = 'e8');
	INSERT INTO churn SELECT i, point(i, $dims) FROM generate_series(2001, 3000) i;
	CREATE TABLE churn_gone (id int);
	WITH d AS (DELETE FROM churn WHERE hrand(id * 0.618) < 0.3 RETURNING id) INSERT INTO churn_gone SELECT id FROM d;
	ANALYZE churn;
});
my $live = $node->safe_psql('postgres', 'SELECT count(*) FROM churn');
ok($live > 1900 && $live < 2300, "30% of 3000 rows deleted ($live remain)");
my (%before, %size);
for my $case ([ 'churn_l2', '<->' ], [ 'churn_ip', '<#>' ])
{
	my ($index, $op) = @$case;
	$before{$index} = whole_scan($node, 'churn', $index, $op, 'SET ivf.probes = 4;');
	$size{$index} = $node->safe_psql('postgres', "SELECT pg_relation_size('$index')");
	note("$index before VACUUM: $size{$index} bytes; rows, distinct rows, index tuples read: $before{$index}");
}
$node->safe_psql('postgres', 'VACUUM (INDEX_CLEANUP ON) churn');
for my $case ([ 'churn_l2', '<->' ], [ 'churn_ip', '<#>' ])
{
	my ($index, $op) = @$case;
	ok(uses_index($node, 'churn', $index, $op), "after VACUUM, $index: the query is an ivf Index Scan");
	exact_ok($node, "after INSERT, DELETE, VACUUM, $index, every list probed",
		table => 'churn', op => $op, set => 'SET ivf.probes = 4;');
	is(whole_scan($node, 'churn', $index, $op, 'SET ivf.probes = 4;'), "$live $live $live",
		"after VACUUM, $index: a scan of every list reads exactly the $live live rows from the index "
		  . "(before VACUUM: $before{$index})");
	is( $node->safe_psql(
			'postgres', qq{
		SET enable_seqscan = off; SET ivf.probes = 3;
		SELECT count(*) FROM queries q CROSS JOIN LATERAL
		  (SELECT id FROM churn ORDER BY v $op q.v LIMIT 50) s
		 WHERE s.id IN (SELECT id FROM churn_gone)}),
		0,
		"after VACUUM, $index: no deleted row is returned");
}
# The deleted rows again, the same vectors: each goes to the list it left.
$node->safe_psql('postgres', "INSERT INTO churn SELECT id, point(id, $dims) FROM churn_gone");
$live = $node->safe_psql('postgres', 'SELECT count(*) FROM churn');
is($live, 3000, 'the deleted rows are inserted again');
for my $case ([ 'churn_l2', '<->' ], [ 'churn_ip', '<#>' ])
{
	my ($index, $op) = @$case;
	is($node->safe_psql('postgres', "SELECT pg_relation_size('$index')"), $size{$index},
		"after VACUUM, $index: the re-inserted rows fill the room VACUUM made (the index did not grow)");
	exact_ok($node, "after VACUUM and more INSERTs, $index, every list probed",
		table => 'churn', op => $op, set => 'SET ivf.probes = 4;');
	is(whole_scan($node, 'churn', $index, $op, 'SET ivf.probes = 4;'), "$live $live $live",
		"after VACUUM and more INSERTs, $index: the index holds the $live rows once");
}

# ---------------------------------------------------------------------------
# (5) the ivfflat spelling
# ---------------------------------------------------------------------------
is($node->safe_psql('postgres', q{SELECT string_agg(amname, ' ' ORDER BY amname) FROM pg_am WHERE amname LIKE 'ivf%'}),
	'ivf ivfflat', 'the access methods ivf and ivfflat exist');
# (A fresh session has not loaded vecdb.so, which defines them.)
my ($ret, $stdout, $stderr) = $node->psql('postgres',
	"LOAD 'vecdb'; SHOW ivf.probes; SHOW ivf.iterative_scan; SHOW ivfflat.probes; SHOW ivfflat.iterative_scan; "
	  . 'SHOW ivf.max_probes; SHOW ivfflat.max_probes',
	on_error_stop => 1);
is($ret, 0, 'the GUCs ivf.probes, ivf.iterative_scan, ivf.max_probes and their ivfflat.* spellings exist')
  or diag($stderr);
note('their defaults: ' . join(', ', split /\n/, $stdout));
like($stdout, qr/\A10\nrelaxed_order\n/, 'ivf.probes defaults to 10, ivf.iterative_scan to relaxed_order');
for my $table ('items_u', 'items_c')
{
	use_queries($table);
	$node->safe_psql('postgres', "CREATE INDEX ${table}_flat ON $table USING ivfflat (v vector_l2_ops) WITH (lists = 20)");
	ok(uses_index($node, $table, "${table}_flat", '<->'), "ivfflat on $table: the query is an Index Scan on it");
	exact_ok($node, "ivfflat on $table, ivfflat.probes = 20", table => $table, op => '<->',
		set => 'SET ivfflat.probes = 20;');
}
use_queries('items_u');
$r = knn_stats($node, table => 'items_u', op => '<->', set => 'SET ivfflat.probes = 1;');
cmp_ok($r->{recall}, '<', 0.95, sprintf('ivfflat on items_u, ivfflat.probes = 1: recall below 0.95 (%.3f)', $r->{recall}));
use_queries('items_c');
my %f = (table => 'items_c', op => '<->', where => 't.cat = 3', full_k => 1);
$r = knn_stats($node, %f, set => 'SET enable_bitmapscan = off; SET ivfflat.probes = 1; SET ivfflat.iterative_scan = relaxed_order;');
is("$r->{short} $r->{dup}", '0 0', 'ivfflat, WHERE cat = 3, probes 1, relaxed_order: 10 rows a query, none twice');
$r = knn_stats($node, %f, set => 'SET enable_bitmapscan = off; SET ivfflat.probes = 1; SET ivfflat.iterative_scan = off;');
cmp_ok($r->{short}, '>', 0, "ivfflat, WHERE cat = 3, probes 1, ivfflat.iterative_scan = off: short lists ($r->{short})");
$r = knn_stats($node, %f,
	set => 'SET enable_bitmapscan = off; SET ivfflat.probes = 1; SET ivfflat.iterative_scan = relaxed_order; SET ivfflat.max_probes = 2;');
cmp_ok($r->{short}, '>', 0, "ivfflat, WHERE cat = 3, probes 1, ivfflat.max_probes = 2: short lists ($r->{short})");
$node->safe_psql('postgres', 'DROP INDEX items_u_flat; DROP INDEX items_c_flat');

# ---------------------------------------------------------------------------
# (9) edge cases of the build and the scan
# ---------------------------------------------------------------------------
use_queries('items_c');
# More lists asked for than rows: every row is still found.
$node->safe_psql(
	'postgres', qq{
	CREATE TABLE tiny (id int PRIMARY KEY, v vector($dims));
	INSERT INTO tiny SELECT i, point(i, $dims) FROM generate_series(1, 50) i;
	CREATE INDEX tiny_idx ON tiny USING ivf (v vector_l2_ops) WITH (lists = 100);
	ANALYZE tiny;
});
is(whole_scan($node, 'tiny', 'tiny_idx', '<->', 'SET ivf.probes = 100;'), '50 50 50',
	'lists = 100 on 50 rows: the index holds each row once');
exact_ok($node, 'lists = 100 on 50 rows, every list probed', table => 'tiny', op => '<->', set => 'SET ivf.probes = 100;');

# Fewer distinct vectors than lists: 6 vectors, 100 copies each, 20 lists.
$node->safe_psql(
	'postgres', qq{
	CREATE TABLE dups (id int PRIMARY KEY, v vector($dims));
	INSERT INTO dups SELECT i, point(i % 6, $dims) FROM generate_series(1, 600) i;
	CREATE INDEX dups_idx ON dups USING ivf (v vector_l2_ops) WITH (lists = 20);
	ANALYZE dups;
});
is(whole_scan($node, 'dups', 'dups_idx', '<->', 'SET ivf.probes = 20;'), '600 600 600',
	'6 distinct vectors x 100, 20 lists: the index holds each row once');
is( $node->safe_psql(
		'postgres', qq{
	SET enable_seqscan = off;
	SELECT count(*) FILTER (WHERE d = 0) || ' ' || count(*)
	  FROM (SELECT v <-> point(3, $dims) AS d FROM dups ORDER BY v <-> point(3, $dims) LIMIT 100) s}),
	'100 100',
	'6 distinct vectors x 100: the 100 copies of the query vector come first');

# A build whose sample outgrows half of maintenance_work_mem (1MB: 4096
# vectors of 32 dimensions) samples 4096 of the 6000 rows, then assigns
# every row.
$node->safe_psql(
	'postgres', qq{
	CREATE TABLE big (id int PRIMARY KEY, v vector($dims));
	INSERT INTO big SELECT i, point(i, $dims) FROM generate_series(1, 6000) i;
	ANALYZE big;
	SET maintenance_work_mem = '1MB';
	CREATE INDEX big_idx ON big USING ivf (v vector_l2_ops) WITH (lists = 30);
});
is(whole_scan($node, 'big', 'big_idx', '<->', 'SET ivf.probes = 30;'), '6000 6000 6000',
	'a build sampling 4096 of 6000 rows: the index holds each row once');
exact_ok($node, 'a build sampling 4096 of 6000 rows, every list probed', table => 'big', op => '<->',
	set => 'SET ivf.probes = 30;');
approx_ok($node, 'a build sampling 4096 of 6000 rows, probes 15 of 30', table => 'big', op => '<->',
	set => 'SET ivf.probes = 15;');

# CREATE INDEX CONCURRENTLY (build, then the rows inserted meanwhile through
# aminsert) and REINDEX CONCURRENTLY.
$node->safe_psql('postgres', 'DROP INDEX big_idx');
$node->safe_psql('postgres',
	q{CREATE INDEX CONCURRENTLY big_cos ON big USING ivf (v vector_cosine_ops) WITH (lists = 30, quantization = 'e8')});
exact_ok($node, 'CREATE INDEX CONCURRENTLY, cosine e8, every list probed', table => 'big', op => '<=>',
	set => 'SET ivf.probes = 30;');
$node->safe_psql('postgres', 'REINDEX INDEX CONCURRENTLY big_cos');
exact_ok($node, 'REINDEX INDEX CONCURRENTLY, cosine e8, every list probed', table => 'big', op => '<=>',
	set => 'SET ivf.probes = 30;');
is(whole_scan($node, 'big', 'big_cos', '<=>', 'SET ivf.probes = 30;'), '6000 6000 6000',
	'REINDEX INDEX CONCURRENTLY: the index holds each row once');

# A query without a direction (a zero vector under cosine: every distance
# NaN) returns rows; a vector of other dimensions is refused.
is( $node->safe_psql(
		'postgres', qq{
	SET enable_seqscan = off;
	SELECT count(*) FROM (SELECT id FROM big ORDER BY v <=> array_fill(0, ARRAY[$dims])::real[]::vector LIMIT 20) s}),
	20,
	'cosine to a zero vector through the index: 20 rows');
($ret, $stdout, $stderr) = $node->psql('postgres',
	q{SET enable_seqscan = off; SELECT id FROM big ORDER BY v <=> '[1,2,3]' LIMIT 5});
isnt($ret, 0, 'a query vector of 3 dimensions on a 32-dimension index is refused');
like($stderr, qr/dimensions/, '... with an error about the dimensions');
$node->safe_psql('postgres', 'DROP TABLE big, tiny, dups');

# ---------------------------------------------------------------------------
# (8) concurrent inserts and queries
# ---------------------------------------------------------------------------
$node->safe_psql(
	'postgres', qq{
	CREATE TABLE live (id int PRIMARY KEY, v vector($dims) NOT NULL, cat int NOT NULL);
	INSERT INTO live SELECT i, point(i, $dims), i % 100 FROM generate_series(1, 1000) i;
	CREATE SEQUENCE live_seq START 1001;
	CREATE INDEX live_l2 ON live USING ivf (v vector_l2_ops) WITH (lists = 5);
	CREATE INDEX live_cos ON live USING ivf (v vector_cosine_ops) WITH (lists = 5, quantization = 'e8');
	ANALYZE live;
});
my $dir = $node->basedir;
PostgreSQL::Test::Utils::append_to_file("$dir/ivf_insert.sql", qq{
INSERT INTO live SELECT n, point(n, $dims), n % 100 FROM (SELECT nextval('live_seq')::int AS n) s;
});
# A query returning fewer than 10 rows fails its transaction (1/0).
PostgreSQL::Test::Utils::append_to_file("$dir/ivf_query.sql", qq{
\\set k random(1, 100000)
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SET ivf.probes = 2;
SELECT 1 / (count(*) / 10) FROM (SELECT id FROM live ORDER BY v <-> point(2000000 + :k, $dims) LIMIT 10) s;
SELECT 1 / (count(*) / 10) FROM (SELECT id FROM live ORDER BY v <=> point(3000000 + :k, $dims) LIMIT 10) s;
SELECT 1 / (count(*) / 10) FROM (SELECT id FROM live WHERE cat = :k % 100 ORDER BY v <-> point(4000000 + :k, $dims) LIMIT 10) s;
});
my %bench;
for my $script ('ivf_insert', 'ivf_query')
{
	my ($out, $err) = ('', '');
	$bench{$script} = {
		out => \$out,
		err => \$err,
		h => IPC::Run::start(
			[
				'pgbench', '--no-vacuum', '--client=2', '--jobs=2', '--time=5',
				'-f', "$dir/$script.sql", $node->connstr('postgres')
			],
			'>', \$out, '2>', \$err)
	};
}
my %done;
for my $script ('ivf_insert', 'ivf_query')
{
	my $b = $bench{$script};
	ok($b->{h}->finish, "concurrent: pgbench $script exits with status 0") or diag(${ $b->{err} });
	note(${ $b->{out} });
	like(${ $b->{out} }, qr/number of failed transactions: 0 /, "concurrent: no failed $script transaction");
	($done{$script}) = ${ $b->{out} } =~ /number of transactions actually processed: (\d+)/;
	$done{$script} //= 0;
}
cmp_ok($done{ivf_insert}, '>', 100, "concurrent: $done{ivf_insert} insert transactions");
cmp_ok($done{ivf_query}, '>', 20, "concurrent: $done{ivf_query} query transactions (3 queries each, each 10 rows)");
my $n = $node->safe_psql('postgres', 'SELECT count(*) FROM live');
# pgbench may stop counting at --time with a client's last transaction
# already committed: up to one more row per client.
my $extra = $n - 1000 - $done{ivf_insert};
ok($extra >= 0 && $extra <= 2, "concurrent: the table has one row per insert transaction ($n rows, $extra uncounted)");
use_queries('items_c');
for my $case ([ 'live_l2', '<->' ], [ 'live_cos', '<=>' ])
{
	my ($index, $op) = @$case;
	is(whole_scan($node, 'live', $index, $op, 'SET ivf.probes = 5;'), "$n $n $n", "concurrent: $index holds each of the $n rows once");
	exact_ok($node, "concurrent: $index, every list probed", table => 'live', op => $op, set => 'SET ivf.probes = 5;');
}

# Then inserts, deletes, VACUUM and the queries at once (4 clients, 4 s):
# VACUUM moves entries inside the pages the scans read and the inserts
# fill.  Afterwards every remaining row is in each index once.
PostgreSQL::Test::Utils::append_to_file("$dir/ivf_delete.sql", qq{
\\set d random(1, $n)
DELETE FROM live WHERE id = :d;
});
PostgreSQL::Test::Utils::append_to_file("$dir/ivf_vacuum.sql", qq{
VACUUM live;
});
my ($out, $err) = ('', '');
my $ok = IPC::Run::run(
	[
		'pgbench', '--no-vacuum', '--client=4', '--jobs=2', '--time=4',
		'-f', "$dir/ivf_insert.sql\@4", '-f', "$dir/ivf_delete.sql\@4", '-f', "$dir/ivf_vacuum.sql\@1",
		'-f', "$dir/ivf_query.sql\@4", $node->connstr('postgres')
	],
	'>', \$out, '2>', \$err);
note($out);
ok($ok, 'concurrent with VACUUM: pgbench exits with status 0') or diag($err);
like($out, qr/number of failed transactions: 0 /, 'concurrent with VACUUM: no failed transaction');
my ($vacuums) = $out =~ m{SQL script \d+: \S*ivf_vacuum\.sql\n - weight: 1 .*\n - (\d+) transactions};
cmp_ok($vacuums // 0, '>', 2, 'concurrent with VACUUM: VACUUM ran ' . ($vacuums // 0) . ' times');
$n = $node->safe_psql('postgres', 'SELECT count(*) FROM live');
for my $case ([ 'live_l2', '<->' ], [ 'live_cos', '<=>' ])
{
	my ($index, $op) = @$case;
	my ($got, $distinct) = split / /, whole_scan($node, 'live', $index, $op, 'SET ivf.probes = 5;');
	is("$got $distinct", "$n $n", "concurrent with VACUUM: $index returns each of the $n rows once");
}
# INDEX_CLEANUP ON: with few dead rows VACUUM may otherwise skip the
# indexes (PostgreSQL 14's bypass, under 2% of the table's pages) and leave
# their entries.
$node->safe_psql('postgres', 'VACUUM (INDEX_CLEANUP ON) live');
for my $case ([ 'live_l2', '<->' ], [ 'live_cos', '<=>' ])
{
	my ($index, $op) = @$case;
	is(whole_scan($node, 'live', $index, $op, 'SET ivf.probes = 5;'), "$n $n $n",
		"concurrent with VACUUM, then VACUUM: $index holds exactly the $n rows");
	exact_ok($node, "concurrent with VACUUM: $index, every list probed", table => 'live', op => $op,
		set => 'SET ivf.probes = 5;');
}

is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'),
	$started, 'the server did not restart before the crash tests');
ok(!$node->log_contains('terminated by signal'), 'no backend crashed');

# ---------------------------------------------------------------------------
# (6) crash recovery
# ---------------------------------------------------------------------------
# A small shared_buffers sends index pages to disk before the crash; the
# CHECKPOINT in the middle puts part of the index on disk and leaves the
# rest in WAL.  5 lists of 400 rows at the build, 600 and more later: the
# inserts chain new pages to the lists (one generic WAL record over the new
# page, its predecessor and the list's first page).
$node->append_conf('postgresql.conf', "shared_buffers = 1MB\n");
$node->restart;
$node->safe_psql(
	'postgres', qq{
	CREATE TABLE crash (id int PRIMARY KEY, v vector($dims) NOT NULL, cat int NOT NULL);
	INSERT INTO crash SELECT i, point(i, $dims), i % 100 FROM generate_series(1, 2000) i;
	CREATE INDEX crash_l2 ON crash USING ivf (v vector_l2_ops) WITH (lists = 5);
	CREATE INDEX crash_cos ON crash USING ivf (v vector_cosine_ops) WITH (lists = 5, quantization = 'e8');
});
for my $s (0 .. 4)
{
	my ($from, $to) = (2001 + 100 * $s, 2100 + 100 * $s);
	$node->safe_psql('postgres',
		"INSERT INTO crash SELECT i, point(i, $dims), i % 100 FROM generate_series($from, $to) i");
}
$node->safe_psql('postgres', 'CHECKPOINT');
$node->safe_psql(
	'postgres', qq{
	DO \$\$ BEGIN
	  FOR i IN 2501 .. 3000 LOOP
	    INSERT INTO crash VALUES (i, point(i, $dims), i % 100);
	    COMMIT;
	  END LOOP;
	END \$\$;
	ANALYZE crash;
});

# The id lists of the queries: 2 lists of 5 probed, plain and filtered.
my $partial = 'SET enable_bitmapscan = off; SET ivf.probes = 2;';
sub crash_lists
{
	return join "\n", map {
		my ($op, $where) = @$_;
		"$op " . ($where // '') . "\n" . knn_lists($node, $op, table => 'crash', set => $partial,
			($where ? (where => $where) : ()))
	} ([ '<->' ], [ '<=>' ], [ '<->', 'cat = 3' ], [ '<=>', 'cat = 7' ]);
}
my $lists_before = crash_lists();
ok(uses_index($node, 'crash', 'crash_l2', '<->') && uses_index($node, 'crash', 'crash_cos', '<=>'),
	'crash: the queries are ivf Index Scans');
cmp_ok($node->safe_psql('postgres', q{SELECT pg_relation_size('crash_l2') / 8192}), '>', 10,
	'crash: the lists of crash_l2 span several pages each');

# Every row of crash is in both indexes once, and their answers with every
# list probed are exact.
sub check_complete
{
	my ($when, $rows) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	for my $case ([ 'crash_l2', '<->' ], [ 'crash_cos', '<=>' ])
	{
		my ($index, $op) = @$case;
		my ($got, $distinct) = split / /, whole_scan($node, 'crash', $index, $op, 'SET ivf.probes = 5;');
		is("$got $distinct", "$rows $rows", "$when: a scan of every list of $index returns each row once");
		exact_ok($node, "$when: $index, every list probed", table => 'crash', op => $op, set => 'SET ivf.probes = 5;');
	}
	return;
}

# The checks after a crash with no committed change since $lists_before.
sub check_crash
{
	my ($when, $rows) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	is($node->safe_psql('postgres', 'SELECT count(*) FROM crash'), $rows, "$when: the table has its $rows committed rows");
	is(crash_lists(), $lists_before, "$when: the id lists of the queries are those from before the crash");
	check_complete($when, $rows);
	return;
}

# An UNLOGGED table: after the crash it is empty and its index is reset
# from the init fork (ambuildempty: one list) and takes inserts.
$node->safe_psql(
	'postgres', qq{
	CREATE UNLOGGED TABLE scratch (id int PRIMARY KEY, v vector($dims));
	INSERT INTO scratch SELECT i, point(i, $dims) FROM generate_series(1, 1500) i;
	CREATE INDEX scratch_idx ON scratch USING ivf (v vector_l2_ops) WITH (lists = 10);
	INSERT INTO scratch SELECT i, point(i, $dims) FROM generate_series(1501, 1600) i;
});

my $log_offset = -s $node->logfile;
$node->stop('immediate');
$node->start;
ok($node->log_contains('database system was not properly shut down; automatic recovery in progress', $log_offset),
	'crash: the server ran crash recovery');
check_crash('after the crash', 3000);

is($node->safe_psql('postgres', 'SELECT count(*) FROM scratch'), 0, 'unlogged table: empty after the crash');
is(whole_scan($node, 'scratch', 'scratch_idx', '<->', ''), '0 0 0', 'unlogged table: its index is empty too');
$node->safe_psql('postgres', "INSERT INTO scratch SELECT i, point(i, $dims) FROM generate_series(1, 1000) i; ANALYZE scratch");
ok(uses_index($node, 'scratch', 'scratch_idx', '<->'), 'unlogged table: the query is an ivf Index Scan');
is(whole_scan($node, 'scratch', 'scratch_idx', '<->', ''), '1000 1000 1000',
	'unlogged table: after 1000 inserts the index holds each row once');
exact_ok($node, 'unlogged table refilled, default probes (one list)', table => 'scratch', op => '<->');

# A crash in the middle of an uncommitted transaction of inserts.
my $session = $node->background_psql('postgres');
$session->query_safe('BEGIN');
$session->query_safe("INSERT INTO crash SELECT i, point(i, $dims), i % 100 FROM generate_series(10001, 13000) i");
$log_offset = -s $node->logfile;
$node->stop('immediate');
eval { $session->quit; };
$node->start;
ok($node->log_contains('database system was not properly shut down; automatic recovery in progress', $log_offset),
	'crash within a transaction: the server ran crash recovery');
check_crash('after a crash within an uncommitted transaction', 3000);
note('crash_l2 after the aborted inserts (rows, distinct, index tuples): '
	  . whole_scan($node, 'crash', 'crash_l2', '<->', 'SET ivf.probes = 5;'));
$node->safe_psql('postgres', 'VACUUM (INDEX_CLEANUP ON) crash');
is(whole_scan($node, 'crash', 'crash_l2', '<->', 'SET ivf.probes = 5;'), '3000 3000 3000',
	'after the aborted inserts and VACUUM: a scan of crash_l2 reads exactly the 3000 committed rows');
$node->safe_psql('postgres', "INSERT INTO crash SELECT i, point(i, $dims), i % 100 FROM generate_series(3001, 3500) i");
check_complete('after recovery, VACUUM and INSERTs', 3500);

# A crash in the middle of a stream of one-row transactions (ids in order:
# the committed rows are always ids 1 .. n), with a CHECKPOINT on the way.
my ($ins_out, $ins_err) = ('', '');
my $inserter = IPC::Run::start(
	[
		'psql', '-XAtq', '-d', $node->connstr('postgres'), '-c', qq{
		DO \$\$ BEGIN
		  FOR i IN 3501 .. 100000 LOOP
		    INSERT INTO crash VALUES (i, point(i, $dims), i % 100);
		    COMMIT;
		  END LOOP;
		END \$\$}
	],
	'>', \$ins_out, '2>', \$ins_err);
$node->poll_query_until('postgres', 'SELECT count(*) >= 4000 FROM crash')
  or die 'the inserts do not progress';
$node->safe_psql('postgres', 'CHECKPOINT');
$node->poll_query_until('postgres', 'SELECT count(*) >= 5000 FROM crash')
  or die 'the inserts do not progress';
my $seen = $node->safe_psql('postgres', 'SELECT count(*) FROM crash');
$log_offset = -s $node->logfile;
$node->stop('immediate');
$inserter->finish;
like($ins_err, qr/server closed the connection unexpectedly|terminating connection/,
	'crash during a stream of inserts: the inserting session was cut off');
$node->start;
ok($node->log_contains('database system was not properly shut down; automatic recovery in progress', $log_offset),
	'crash during a stream of inserts: the server ran crash recovery');
my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM crash');
cmp_ok($rows, '>=', $seen, "crash during a stream of inserts: every row seen committed is there ($rows >= $seen)");
is($node->safe_psql('postgres', q{SELECT min(id) || ' ' || max(id) FROM crash}), "1 $rows",
	'crash during a stream of inserts: the committed rows are ids 1 .. n');
check_complete('after a crash during a stream of inserts', $rows);

ok(!$node->log_contains('terminated by signal'), 'no backend crashed');
$node->stop;

# ---------------------------------------------------------------------------
# (7) a streaming standby, wal_consistency_checking = 'all' on the primary
# ---------------------------------------------------------------------------
my $primary = PostgreSQL::Test::Cluster->new('ivf_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
wal_consistency_checking = 'all'
jit = off
autovacuum = off
});
$primary->start;
$primary->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('ivf_standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;

create_data(
	$primary, qq{
	CREATE TABLE queries (qid int PRIMARY KEY, v vector($dims));
	INSERT INTO queries SELECT k, point(1000000 + k, $dims) FROM generate_series(1, 30) k;
	CREATE TABLE items (id int PRIMARY KEY, v vector($dims), cat int);
	INSERT INTO items SELECT i, point(i, $dims), i % 100 FROM generate_series(1, 2000) i;
	CREATE TABLE gone (id int);
});
$primary->safe_psql('postgres', q{SELECT pg_create_physical_replication_slot('keep_wal', true)});
my $start_lsn = $primary->safe_psql('postgres', 'SELECT pg_current_wal_lsn()');
$primary->safe_psql(
	'postgres', q{
	CREATE INDEX items_l2 ON items USING ivf (v vector_l2_ops) WITH (lists = 5);
	CREATE INDEX items_cos ON items USING ivf (v vector_cosine_ops) WITH (lists = 5, quantization = 'e8');
	CREATE INDEX items_ip ON items USING ivf (v vector_ip_ops) WITH (lists = 5, quantization = 'binary');
});
my $next = 2001;
for my $cycle (1 .. 2)
{
	my $to = $next + 499;
	$primary->safe_psql(
		'postgres', qq{
		INSERT INTO items SELECT i, point(i, $dims), i % 100 FROM generate_series($next, $to) i;
		WITH d AS (DELETE FROM items WHERE hrand(id * 0.618 + $cycle) < 0.2 RETURNING id)
		INSERT INTO gone SELECT id FROM d;
		VACUUM items;
		INSERT INTO items SELECT i, point(i, $dims), i % 100 FROM generate_series($to + 1, $to + 200) i;
	});
	$next = $to + 201;
}
$primary->safe_psql('postgres', 'ANALYZE items');
my $end_lsn = $primary->safe_psql('postgres', 'SELECT pg_current_wal_lsn()');
my $count = $primary->safe_psql('postgres', 'SELECT count(*) FROM items');
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', 'SELECT count(*) FROM items'), $count, "standby: has the primary's $count rows");

for my $case ([ 'items_l2', '<->' ], [ 'items_cos', '<=>' ], [ 'items_ip', '<#>' ])
{
	my ($index, $op) = @$case;
	ok(uses_index($standby, 'items', $index, $op), "standby: ORDER BY v $op q is an Index Scan using $index");
	my $set = 'SET enable_bitmapscan = off; SET ivf.probes = 2;';
	my $on_primary = knn_lists($primary, $op, set => $set);
	is(scalar(() = $on_primary =~ /^\d+: (?:\d+,){9}\d+$/mg), 30, "$index: 30 queries with 10 rows each on the primary");
	is(knn_lists($standby, $op, set => $set), $on_primary, "$index: the standby returns the primary's lists (probes 2 of 5)");
	is( knn_lists($standby, $op, set => $set, where => 'cat = 3'),
		knn_lists($primary, $op, set => $set, where => 'cat = 3'),
		"$index: the standby returns the primary's filtered lists (WHERE cat = 3, probes 2 of 5)");
	# (knn_stats creates temporary tables, which a standby cannot.)
	is(knn_lists($standby, $op, set => 'SET ivf.probes = 5;'), knn_lists($standby, $op, exact => 1),
		"standby: $index, every list probed: the id lists are brute force's, in order");
}
is( $standby->safe_psql(
		'postgres', q{
	SET enable_seqscan = off; SET ivf.probes = 5;
	SELECT count(*) FROM queries q CROSS JOIN LATERAL
	  (SELECT id FROM items ORDER BY v <-> q.v LIMIT 50) s
	 WHERE s.id IN (SELECT id FROM gone)}),
	0,
	'standby: no deleted row is returned');
ok(!$standby->log_contains('inconsistent page found'), 'standby: wal_consistency_checking found no inconsistent page');
ok(!$standby->log_contains('FATAL|PANIC|terminated by signal'), 'standby: no FATAL, PANIC or crash');
my $generic = $primary->safe_psql(
	'postgres', qq{
	CREATE EXTENSION pg_walinspect;
	SELECT count(*) FROM pg_get_wal_records_info('$start_lsn', '$end_lsn') WHERE resource_manager = 'Generic'});
cmp_ok($generic, '>', 100, "the cycles wrote $generic generic WAL records");
$primary->safe_psql('postgres', q{SELECT pg_drop_replication_slot('keep_wal')});

$standby->stop;
$primary->stop;
done_testing();
