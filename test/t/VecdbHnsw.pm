
# Helpers shared by the hnsw TAP tests (003_hnsw_recall.pl ..
# 007_hnsw_vacuum_filter.pl):
#
#  - create_data: CREATE EXTENSION vecdb and the deterministic data functions
#    hrand(x) and point(i, dims), followed by a test's own tables;
#  - plan_of: the EXPLAIN (COSTS OFF) of a query with enable_seqscan = off;
#  - knn_stats: the index's top-k lists of every query against brute force
#    (recall, short lists, duplicates, order, distances);
#  - knn_lists and recall: the top-10 lists of every query as text, through
#    the index or exact, and the recall@10 of one against the other;
#  - exhaustive_scan and self_lookup: a scan of "items" to the end of the
#    graph, and the count of rows of "items" found as their own nearest
#    neighbour;
#  - check_index: the checks that every row of "items" is reachable through
#    one index (self-lookup plan and count, exhaustive scan, recall) and
#    vecdb_index_check() on it;
#  - for the corruption tests (008, 013): $try_function, the SQL of try(sql),
#    which returns 'ok:<the first column of its first row>' or
#    'error:<SQLSTATE>:<message> <detail> <hint>'; read_block and
#    write_bytes of an index file, $BLCKSZ bytes a block.
#
# Every sub that runs SQL takes the node (a PostgreSQL::Test::Cluster) as
# its first argument and runs it in the database "postgres"; recall only
# compares two lists.
#
# The tests load it with `use FindBin; use lib $FindBin::RealBin;`: PGXS's
# prove_installcheck runs prove from the source directory with -I of the
# source directory only, not of test/t.

package VecdbHnsw;

use strict;
use warnings;

use Exporter 'import';
use Test::More;

our @EXPORT = qw(create_data plan_of knn_stats knn_lists recall
  exhaustive_scan self_lookup self_lookup_ok check_index
  $try_function $BLCKSZ read_block write_bytes);

our $BLCKSZ = 8192;

our $try_function = q{
	CREATE FUNCTION try(sql text) RETURNS text LANGUAGE plpgsql AS $$
	DECLARE r text; detail text; hint text;
	BEGIN
	  EXECUTE sql INTO r;
	  RETURN 'ok:' || coalesce(r, '');
	EXCEPTION WHEN OTHERS THEN
	  GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
	  RETURN 'error:' || SQLSTATE || ':' || SQLERRM || ' ' || detail || ' ' || hint;
	END $$;
};

sub read_block
{
	my ($file, $block) = @_;
	open(my $fh, '<', $file) or die "open $file: $!";
	binmode $fh;
	sysseek($fh, $block * $BLCKSZ, 0) or die "seek: $!";
	sysread($fh, my $page, $BLCKSZ) == $BLCKSZ or die "short read of block $block of $file";
	close $fh;
	return $page;
}

sub write_bytes
{
	my ($file, $offset, $bytes) = @_;
	open(my $fh, '+<', $file) or die "open $file: $!";
	binmode $fh;
	sysseek($fh, $offset, 0) or die "seek: $!";
	syswrite($fh, $bytes) == length($bytes) or die "short write to $file";
	close $fh;
	return;
}

# Deterministic clustered data.  hrand(x) is a hash of x in [0, 1); point(i)
# is the centre of cluster i % 50 (coordinates in [-1, 1]) plus uniform
# noise of +-0.3 per coordinate.  Queries are point(1000000 + k): drawn from
# the same clusters, never copies of rows.
my $data_functions = q{
	CREATE EXTENSION vecdb;
	CREATE FUNCTION hrand(x float8) RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE
	  AS $$ SELECT sin(x) * 43758.5453 - floor(sin(x) * 43758.5453) $$;
	CREATE FUNCTION point(i int, dims int) RETURNS vector LANGUAGE sql IMMUTABLE PARALLEL SAFE
	  AS $$ SELECT array_agg((2 * hrand((i % 50) * 12.9898 + j * 78.233) - 1
	                          + 0.3 * (2 * hrand(i * 3.1337 + j * 0.7071) - 1))::real
	                         ORDER BY j)::vector
	          FROM generate_series(1, dims) j $$;
};

# Creates the extension and the data functions, then runs $sql (the test's
# tables), all in one psql call.
sub create_data
{
	my ($node, $sql) = @_;
	return $node->safe_psql('postgres', $data_functions . $sql);
}

# The plan of $sql with enable_seqscan = off.
sub plan_of
{
	my ($node, $sql) = @_;
	return $node->safe_psql('postgres', "SET enable_seqscan = off; EXPLAIN (COSTS OFF) $sql");
}

# Runs every query of queries through the index (enable_seqscan = off) and
# by brute force (sequential scan + sort), and compares the two lists.
# Options: table (items), op (<->), k (10),
# where (a filter on the table, alias t, and the query, alias q), col and
# qcol (the expressions compared: v and q.v), set (settings run first),
# full_k (a list is short when it has fewer than k rows; otherwise, when it
# has fewer rows than the exact list of its query).
# Returns a hash: queries, exact (rows of the exact lists), hits (rows of
# the approximate lists also in the exact list of their query), recall,
# rows, short (queries whose list is short), dup (rows returned twice),
# disorder (rows nearer than the row before them), below_exact (i-th
# distance below the exact i-th distance).
sub knn_stats
{
	my ($node, %a) = @_;
	my $table = $a{table} // 'items';
	my $op = $a{op} // '<->';
	my $k = $a{k} // 10;
	my $where = $a{where} // 'true';
	my $col = $a{col} // 'v';
	my $qcol = $a{qcol} // 'q.v';
	my $set = $a{set} // '';
	my $expected = $a{full_k} ? $k : '(SELECT count(*) FROM exact e WHERE e.qid = q.qid)';
	my $lists = qq{
		SELECT q.qid, s.id, s.d, s.rnk
		  FROM queries q CROSS JOIN LATERAL
		       (SELECT id, d, row_number() OVER () AS rnk
		          FROM (SELECT id, $col $op $qcol AS d FROM $table t
		                 WHERE $where ORDER BY $col $op $qcol LIMIT $k) s0) s};
	my $out = $node->safe_psql(
		'postgres', qq{
		$set
		SET enable_seqscan = off;
		CREATE TEMP TABLE approx AS $lists;
		RESET enable_seqscan;
		SET enable_indexscan = off;
		SET enable_bitmapscan = off;
		CREATE TEMP TABLE exact AS $lists;
		SELECT concat_ws(' ',
		  (SELECT count(*) FROM queries),
		  (SELECT count(*) FROM exact),
		  (SELECT count(*) FROM approx a JOIN exact e USING (qid, id)),
		  (SELECT count(*) FROM approx),
		  (SELECT count(*) FROM queries q
		    WHERE (SELECT count(*) FROM approx a WHERE a.qid = q.qid) < $expected),
		  (SELECT count(*) - count(DISTINCT (qid, id)) FROM approx),
		  (SELECT count(*) FROM (SELECT d < lag(d) OVER (PARTITION BY qid ORDER BY rnk) AS bad
		                           FROM approx) x WHERE bad),
		  (SELECT count(*) FROM approx a JOIN exact e USING (qid, rnk) WHERE a.d < e.d));
	});
	my %r;
	@r{qw(queries exact hits rows short dup disorder below_exact)} = split / /, $out;
	$r{recall} = $r{exact} ? $r{hits} / $r{exact} : 0;
	note("$table $op" . ($a{where} ? " WHERE $where" : '') . ": $out, recall $r{recall}");
	return \%r;
}

# The top-10 lists of every query of queries ("qid: id,id,...", a line
# each) on $a{table} (default items), through the index, or, with
# $a{exact}, exact (sequential scan and sort); $a{set}: settings run first;
# $a{where}: a filter on the rows.
sub knn_lists
{
	my ($node, $op, %a) = @_;
	my $table = $a{table} // 'items';
	my $where = $a{where} // 'true';
	my $set =
	  ($a{set} // '')
	  . ($a{exact}
		? 'SET enable_indexscan = off; SET enable_bitmapscan = off;'
		: 'SET enable_seqscan = off;');
	return $node->safe_psql(
		'postgres', qq{
		$set
		SELECT qid || ': ' || array_to_string(ARRAY(
		         SELECT id FROM $table WHERE $where ORDER BY v $op q.v LIMIT 10), ',')
		  FROM queries q ORDER BY qid});
}

# recall@10 of the lists $approx against the lists $exact (both as
# knn_lists returns them).
sub recall
{
	my ($approx, $exact) = @_;
	my %exact = map { /^(\d+): (.*)$/ ? ($1 => { map { $_ => 1 } split /,/, $2 }) : () }
	  split /\n/, $exact;
	my ($hits, $total) = (0, 0);
	for my $line (split /\n/, $approx)
	{
		my ($qid, $ids) = $line =~ /^(\d+): (.*)$/ or next;
		$hits += grep { $exact{$qid}{$_} } split /,/, $ids;
	}
	$total += scalar(keys %{ $exact{$_} }) for keys %exact;
	return $total ? $hits / $total : 0;
}

# "count distinct" of the ids a scan of items by $op returns when it runs
# to the end of the graph: every row once if every row is reachable.
sub exhaustive_scan
{
	my ($node, $op) = @_;
	return $node->safe_psql(
		'postgres', qq{
		SET enable_seqscan = off;
		SET hnsw.iterative_scan = relaxed_order;
		SET hnsw.max_scan_tuples = 10000000;
		SELECT count(*) || ' ' || count(DISTINCT id)
		  FROM (SELECT id FROM items ORDER BY v $op (SELECT v FROM queries WHERE qid = 1) LIMIT 1000000) s});
}

# The rows of items that are their own nearest neighbour by %s (the
# operator), for "SELECT ... $self_lookup".
my $self_lookup = q{FROM items t
		 WHERE (SELECT id FROM items t2 ORDER BY t2.v %s t.v LIMIT 1) = t.id};

# How many rows of items are their own nearest neighbour by $op through the
# index, at hnsw.ef_search = 100 (the default 40 can, rarely, miss a stored
# vector), every candidate re-ranked (hnsw.rerank_window = 100: with coarse
# codes a row's own estimate can rank past the default window of 40 among
# the close rows of its cluster; this checks the graph, not the window).
sub self_lookup
{
	my ($node, $op) = @_;
	return $node->safe_psql('postgres',
		"SET enable_seqscan = off; SET hnsw.ef_search = 100; SET hnsw.rerank_window = 100; SELECT count(*) "
		  . sprintf($self_lookup, $op));
}

# Asserts that nearly every one of the $rows rows of items is its own
# nearest neighbour through the index.  Approximate search can, rarely, miss
# a stored vector (seen: 1 row in ~5,000 at hnsw.ef_search 100, in a graph
# whose levels came from random inserts), so up to 0.1% may miss; that every
# row is reachable at all is checked exactly by exhaustive_scan().
sub self_lookup_ok
{
	my ($node, $op, $rows, $name) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $found = self_lookup($node, $op);
	cmp_ok($found, '>=', $rows - int($rows / 1000),
		"$name: at least 99.9% of the $rows rows are their own nearest neighbour ($found)");
	return;
}

# The checks that the index $index (by $op) on items, of $rows rows, reaches
# every row: the self-lookup uses it, finds each row, a scan to exhaustion
# returns every row once, recall@10 >= 0.95.  Test names start with $name.
sub check_index
{
	my ($node, $name, $index, $op, $rows) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	like(plan_of($node, 'SELECT id ' . sprintf($self_lookup, $op)),
		qr/Index Scan using $index on items t2/,
		"$name: the self-lookup uses the index");
	self_lookup_ok($node, $op, $rows, $name);
	is(exhaustive_scan($node, $op), "$rows $rows", "$name: a scan to exhaustion returns every row once");
	my $recall = recall(knn_lists($node, $op), knn_lists($node, $op, exact => 1));
	cmp_ok($recall, '>=', 0.95, "$name: recall\@10 >= 0.95 ($recall)");
	my ($rc, $check, $err) = $node->psql('postgres',
		"SELECT string_agg(item || '=' || value, ' ') FROM vecdb_index_check('$index')");
	is($err, '', "$name: vecdb_index_check finds nothing wrong ($check)");
	return;
}

1;
