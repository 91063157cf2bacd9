
# Search quality and result order of the hnsw index.
#
# An approximate index is only useful if it finds (nearly) the true nearest
# neighbours, and vecdb promises more than pgvector's "approximately": rows
# come out in exact distance order, because the executor rechecks the lower
# bound the index returns against the heap row (sq8, none), or the scan
# re-ranks its candidates on the heap rows (e8, e8_4bit, h4, binary).  On deterministic clustered
# data, for every operator class and every quantization it allows:
#
#  (a) recall@10 against brute force (sequential scan + sort) is >= 0.95 at
#      the default hnsw.ef_search, every query gets 10 rows, no row twice,
#      distances never decrease and the i-th distance is never below the
#      exact i-th distance;
#  (b) an index created on an empty table and filled by INSERTs (the
#      one-by-one insert path, not the in-memory build) reaches the same
#      recall;
#  (c) a build that overflows maintenance_work_mem says so with a NOTICE,
#      inserts the rest one by one, and reaches the same recall; so does
#      one on data that drifts with the row order (sq8 learns its ranges
#      from every row, not from those that fit in memory);
#  (d) 500 copies of one vector: a LIMIT 600 query returns all 500 first;
#  (e) NULL vectors: the build skips them, queries return non-null rows in
#      order.
#
# Run with PGXS's `make installcheck` (TAP_TESTS = 1) or directly:
#   PATH=/usr/lib/postgresql/15/bin:$PATH \
#   PG_REGRESS=/usr/lib/postgresql/15/lib/pgxs/src/test/regress/pg_regress \
#   prove -I /usr/lib/postgresql/15/lib/pgxs/src/test/perl/ -I . test/t/003_hnsw_recall.pl

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use VecdbHnsw;

my $node = PostgreSQL::Test::Cluster->new('recall');
$node->init;
$node->append_conf('postgresql.conf', "jit = off\n");
$node->start;
my $started = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');

# Deterministic clustered data (VecdbHnsw::create_data): point(i) is the
# centre of cluster i % 50 plus uniform noise; queries point(1000000 + k).
create_data(
	$node, q{
	CREATE TABLE items (id int PRIMARY KEY, v vector(32));
	INSERT INTO items SELECT i, point(i, 32) FROM generate_series(1, 3000) i;
	CREATE TABLE queries (qid int PRIMARY KEY, v vector(32));
	INSERT INTO queries SELECT k, point(1000000 + k, 32) FROM generate_series(1, 40) k;
	ANALYZE items, queries;
});
is($node->safe_psql('postgres', 'SELECT count(DISTINCT v::text) FROM items'),
	3000, 'the 3000 generated vectors are distinct');

# The checks of (a) on one index.
sub check_knn
{
	my ($name, %a) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $r = knn_stats($node, %a, full_k => 1);
	cmp_ok($r->{recall}, '>=', 0.95, "$name: recall\@10 >= 0.95");
	is($r->{short}, 0, "$name: every query returns 10 rows");
	is($r->{dup}, 0, "$name: no row is returned twice");
	is($r->{disorder}, 0, "$name: distances never decrease");
	is($r->{below_exact}, 0, "$name: no distance below the exact one of its rank");
	return $r;
}

sub uses_index
{
	my ($sql, $index) = @_;
	return plan_of($node, $sql) =~ /Index Scan using $index on/;
}

# ---------------------------------------------------------------------------
# (a) every opclass and quantization
# ---------------------------------------------------------------------------
my @cases = (
	[ 'vector_l2_ops',     '<->', 'sq8' ],
	[ 'vector_l2_ops',     '<->', 'none' ],
	[ 'vector_ip_ops',     '<#>', 'sq8' ],
	[ 'vector_ip_ops',     '<#>', 'none' ],
	[ 'vector_cosine_ops', '<=>', 'sq8' ],
	[ 'vector_cosine_ops', '<=>', 'none' ],
	[ 'vector_l2_ops',     '<->', 'e8' ],
	[ 'vector_ip_ops',     '<#>', 'e8' ],
	[ 'vector_cosine_ops', '<=>', 'e8' ],
	[ 'vector_l2_ops',     '<->', 'e8_4bit' ],
	[ 'vector_cosine_ops', '<=>', 'e8_4bit' ],
	[ 'vector_l2_ops',     '<->', 'h4' ],
	[ 'vector_ip_ops',     '<#>', 'h4' ],
	[ 'vector_cosine_ops', '<=>', 'h4' ],
	[ 'vector_l2_ops',     '<->', 'binary' ],
	[ 'vector_cosine_ops', '<=>', 'binary' ],
	[ 'vector_l1_ops',     '<+>', 'none' ],
	[ 'vector_l1_ops',     '<+>', undef ],     # the default for l1: 'none'
	[ 'vector_l2_ops',     '<->', undef ]);    # the default elsewhere: 'sq8'

for my $case (@cases)
{
	my ($opclass, $op, $quant) = @$case;
	my $with = defined $quant ? "WITH (m = 16, ef_construction = 64, quantization = '$quant')" : '';
	my $name = "$opclass " . ($quant // 'default quantization');
	$node->safe_psql('postgres', "CREATE INDEX items_v_idx ON items USING hnsw (v $opclass) $with");
	ok( uses_index(
			"SELECT id FROM items ORDER BY v $op (SELECT v FROM queries WHERE qid = 1) LIMIT 10",
			'items_v_idx'),
		"$name: ORDER BY v $op q LIMIT 10 uses the index");
	check_knn($name, table => 'items', op => $op);
	$node->safe_psql('postgres', 'DROP INDEX items_v_idx');
}

# The brute-force side really is brute force.
like(
	$node->safe_psql(
		'postgres', q{
	CREATE INDEX items_v_idx ON items USING hnsw (v vector_l2_ops);
	SET enable_indexscan = off; SET enable_bitmapscan = off;
	EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <-> '[1,2,3]'::vector(3) LIMIT 10;
	DROP INDEX items_v_idx;}),
	qr/Sort.*Seq Scan on items/s,
	'the exact lists come from a sequential scan and a sort');

my ($ret, $stdout, $stderr) = $node->psql('postgres',
	q{CREATE INDEX ON items USING hnsw (v vector_l1_ops) WITH (quantization = 'sq8')});
isnt($ret, 0, 'quantization sq8 is refused for vector_l1_ops');
like($stderr, qr/sq8.*vector_l1_ops/, '... with an error naming both');

# A larger ef_search does not lose anything.
check_knn(
	'l2 sq8, hnsw.ef_search = 200',
	table => 'items',
	op    => '<->',
	set   => q{CREATE INDEX items_v_idx ON items USING hnsw (v vector_l2_ops);
	           SET hnsw.ef_search = 200;});
$node->safe_psql('postgres', 'DROP INDEX items_v_idx');

# ---------------------------------------------------------------------------
# (b) an index created empty, filled by INSERTs
# ---------------------------------------------------------------------------
for my $case ([ 'cos_sq8', 'vector_cosine_ops', '<=>', 'sq8' ],
	[ 'l2_none', 'vector_l2_ops', '<->', 'none' ],
	[ 'l2_e8', 'vector_l2_ops', '<->', 'e8' ])
{
	my ($table, $opclass, $op, $quant) = @$case;
	$node->safe_psql(
		'postgres', qq{
		CREATE TABLE $table (id int PRIMARY KEY, v vector(32));
		CREATE INDEX ${table}_idx ON $table USING hnsw (v $opclass) WITH (quantization = '$quant');});
	# Ten INSERT statements of 300 rows, the same rows as items.
	for my $s (0 .. 9)
	{
		my ($from, $to) = (300 * $s + 1, 300 * $s + 300);
		$node->safe_psql('postgres',
			"INSERT INTO $table SELECT id, v FROM items WHERE id BETWEEN $from AND $to ORDER BY id");
	}
	is($node->safe_psql('postgres', "SELECT count(*) FROM $table"), 3000, "$table: 3000 rows inserted");
	ok( uses_index(
			"SELECT id FROM $table ORDER BY v $op (SELECT v FROM queries WHERE qid = 1) LIMIT 10",
			"${table}_idx"),
		"$table: the query uses the index");
	check_knn("$opclass $quant, built empty then INSERTs", table => $table, op => $op);
}

# ---------------------------------------------------------------------------
# (d) duplicates
# ---------------------------------------------------------------------------
# 500 copies of point(7) (ids 100001 .. 100500) among 3000 other rows (ids
# 1 .. 3000, point(7) itself among them at id 7).  Queried with the vector
# itself and with a vector near it, LIMIT 600: the 501 rows at distance 0
# (or, for the near query, the 500 copies and id 7) come first.
$node->safe_psql(
	'postgres', q{
	CREATE TABLE dups (id int PRIMARY KEY, v vector(32));
	INSERT INTO dups SELECT i, point(i, 32) FROM generate_series(1, 3000) i;
	INSERT INTO dups SELECT 100000 + i, point(7, 32) FROM generate_series(1, 500) i;
	CREATE INDEX dups_idx ON dups USING hnsw (v vector_l2_ops);
	ANALYZE dups;
});
for my $q ([ 'the duplicated vector', 'point(7, 32)' ],
	[ 'a vector near it', q{point(7, 32) + array_fill(0.01, ARRAY[32])::real[]::vector} ])
{
	my ($qname, $qexpr) = @$q;
	ok(uses_index("SELECT id FROM dups ORDER BY v <-> $qexpr LIMIT 600", 'dups_idx'),
		"duplicates, $qname: the query uses the index");
	my $res = $node->safe_psql(
		'postgres', qq{
		SET enable_seqscan = off;
		CREATE TEMP TABLE res AS
		  SELECT id, d, row_number() OVER () AS rnk
		    FROM (SELECT id, v <-> $qexpr AS d FROM dups ORDER BY v <-> $qexpr LIMIT 600) s;
		SELECT concat_ws(' ', count(*),
		                 count(*) FILTER (WHERE rnk <= 501 AND (id > 100000 OR id = 7)),
		                 count(DISTINCT id),
		                 (SELECT count(*) FROM (SELECT d < lag(d) OVER (ORDER BY rnk) AS bad FROM res) x
		                   WHERE bad))
		  FROM res;});
	is($res, '600 501 600 0',
		"duplicates, $qname: 600 distinct rows in order, the 500 copies and id 7 first");
}

# ---------------------------------------------------------------------------
# (e) NULL vectors
# ---------------------------------------------------------------------------
$node->safe_psql(
	'postgres', q{
	CREATE TABLE nulls (id int PRIMARY KEY, v vector(32));
	INSERT INTO nulls SELECT i, CASE WHEN i % 7 = 0 THEN NULL ELSE point(i, 32) END
	  FROM generate_series(1, 3000) i;
	CREATE INDEX nulls_idx ON nulls USING hnsw (v vector_l2_ops);
	INSERT INTO nulls SELECT i, NULL FROM generate_series(3001, 3100) i;
	INSERT INTO nulls SELECT i, point(i, 32) FROM generate_series(3101, 3200) i;
	ANALYZE nulls;
});
pass('an index builds on a table with NULL vectors, and NULLs insert after the build');
ok( uses_index(
		'SELECT id FROM nulls ORDER BY v <-> (SELECT v FROM queries WHERE qid = 1) LIMIT 10',
		'nulls_idx'),
	'NULLs: the query uses the index');
my $r = check_knn('table with NULL vectors', table => 'nulls', op => '<->');
is( $node->safe_psql(
		'postgres', q{
	SET enable_seqscan = off;
	SELECT count(*) FROM queries q CROSS JOIN LATERAL
	  (SELECT v FROM nulls ORDER BY v <-> q.v LIMIT 10) s WHERE s.v IS NULL}),
	0,
	'NULLs: no NULL vector among the first 10 rows');

# ---------------------------------------------------------------------------
# (c) a build that outgrows maintenance_work_mem
# ---------------------------------------------------------------------------
# 6000 rows of 32 dimensions need about 2 MB of graph: with 1 MB about half
# of them are inserted one by one after the pages are written.
# An l2 index on $table's v built with maintenance_work_mem = 1MB: psql's
# exit code and stderr.
sub build_in_1mb
{
	my ($table) = @_;
	my ($rc, $out, $err) = $node->psql('postgres',
		"SET maintenance_work_mem = '1MB'; CREATE INDEX ${table}_idx ON $table USING hnsw (v vector_l2_ops);");
	return ($rc, $err);
}

# Of every 20th row of $table, how many the index finds as their own
# nearest neighbour.
sub found_as_own_nearest
{
	my ($table) = @_;
	return $node->safe_psql('postgres', qq{
		SET enable_seqscan = off;
		SELECT count(*) FROM $table b
		 WHERE b.id % 20 = 0
		   AND (SELECT id FROM $table b2 ORDER BY b2.v <-> b.v LIMIT 1) = b.id});
}

$node->safe_psql(
	'postgres', q{
	CREATE TABLE big (id int PRIMARY KEY, v vector(32));
	INSERT INTO big SELECT i, point(i, 32) FROM generate_series(1, 6000) i;
	ANALYZE big;
});
($ret, $stderr) = build_in_1mb('big');
is($ret, 0, 'CREATE INDEX under maintenance_work_mem = 1MB succeeds');
like($stderr, qr/NOTICE:  hnsw graph no longer fits in maintenance_work_mem after (\d+) tuples/,
	'... and says it ran out of maintenance_work_mem');
my ($fitted) = $stderr =~ /after (\d+) tuples/;
ok(defined $fitted && $fitted > 0 && $fitted < 6000, 'part of the rows were built in memory')
  or diag("stderr: $stderr");
if ($ret == 0)
{
	check_knn('build beyond maintenance_work_mem', table => 'big', op => '<->');
	is(found_as_own_nearest('big'), 300,
		'build beyond maintenance_work_mem: rows of both halves are found as their own nearest neighbour');
}
else
{
	diag("CREATE INDEX failed: $stderr");
	fail('build beyond maintenance_work_mem: no index to query');
	# A crashed backend takes the server down (the test clusters run with
	# restart_after_crash = off): start it again for the last checks.
	$node->stop('immediate', fail_ok => 1);
	$node->start;
}

# The same on rows whose cluster moves with the row order (timestamps,
# sequence numbers in the features): ranges learned from the rows that fit
# in memory clamped the others (506 elements could not be reached from the
# entry point, and 34 of the 300 rows below were not found).
$node->safe_psql(
	'postgres', q{
	CREATE TABLE drift (id int PRIMARY KEY, v vector(32));
	INSERT INTO drift SELECT i, point(i, 32) + array_fill((i / 300) * 0.5, ARRAY[32])::real[]::vector
	  FROM generate_series(1, 6000) i;
	ANALYZE drift;
});
($ret, $stderr) = build_in_1mb('drift');
is($ret, 0, 'drifting rows: CREATE INDEX under maintenance_work_mem = 1MB succeeds');
like($stderr, qr/no longer fits in maintenance_work_mem/, 'drifting rows: the build overflowed');
is( $node->safe_psql('postgres',
		q{SELECT value FROM vecdb_index_check('drift_idx') WHERE item = 'unreachable'}),
	0,
	'drifting rows: every element is reachable');
is(found_as_own_nearest('drift'), 300, 'drifting rows: every 20th row is found as its own nearest neighbour');

is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'),
	$started, 'the server did not restart');
ok(!$node->log_contains('terminated by signal'), 'no backend crashed');

$node->stop;
done_testing();
