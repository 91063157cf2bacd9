
# Scale-out with postgres_fdw (README, "Scaling out"): three shard servers
# and a coordinator whose table is hash-partitioned into foreign tables, one
# per shard, each shard with its own hnsw index.  Rows are loaded through
# the coordinator.  Checked:
#
#  (a) the rows land on the shards, and with `extensions 'vecdb'` the
#      coordinator ships the ORDER BY distance (and a WHERE filter) to every
#      shard: the remote SQL carries them, so each shard's index serves it;
#  (b) the plain query over the partitioned table returns the k nearest rows
#      with recall against the exact answer at least that of one server
#      holding every row in one hnsw index, minus 0.05;
#  (c) the recommended shape -- a UNION ALL of one `ORDER BY ... LIMIT k`
#      per partition under an outer `ORDER BY ... LIMIT k` -- ships the
#      LIMIT too (PostgreSQL 15 does not push a LIMIT through a partitioned
#      table), so each shard returns k rows to a Merge Append, and returns
#      the same rows as (b);
#  (d) without `extensions 'vecdb'` nothing ships: the coordinator fetches
#      every row and sorts (correct, slow);
#  (e) the README's shard_knn (its text, taken from the README) returns the
#      recommended shape's rows and distances, call after call in one
#      statement (each call must end the shards' queries it started); a
#      shard that is down raises an error, and once it is back the next call
#      answers again.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $shards = 3;
my $rows = 3000;
my $dims = 16;
my $conf = qq{
jit = off
autovacuum = off
max_parallel_maintenance_workers = 0
shared_buffers = 16MB
};

# The vectors: 30 clusters, so recall is measurable; the same SQL on every
# server.
my $vector_sql = "(SELECT array_agg((i % 30) * 0.3 * cos(j * 0.7 + i % 30) + 0.2 * sin(i * 0.37 + j * 1.9))"
  . " FROM generate_series(1, $dims) j)::vector($dims)";

my @shard;
for my $s (0 .. $shards - 1)
{
	my $node = PostgreSQL::Test::Cluster->new("shard$s");
	$node->init;
	$node->append_conf('postgresql.conf', $conf);
	$node->start;
	$node->safe_psql('postgres', qq{
		CREATE EXTENSION vecdb;
		CREATE TABLE items (id int PRIMARY KEY, cat int NOT NULL, embedding vector($dims));
		CREATE INDEX items_v ON items USING hnsw (embedding vector_cosine_ops);
	});
	push @shard, $node;
}

my $coord = PostgreSQL::Test::Cluster->new('coordinator');
$coord->init;
$coord->append_conf('postgresql.conf', $conf);
$coord->start;
my $servers = join('', map {
	my $port = $shard[$_]->port;
	my $host = $shard[$_]->host;
	qq{
	CREATE SERVER shard$_ FOREIGN DATA WRAPPER postgres_fdw
	    OPTIONS (host '$host', port '$port', dbname 'postgres', extensions 'vecdb');
	CREATE USER MAPPING FOR CURRENT_USER SERVER shard$_;
	CREATE FOREIGN TABLE items_p$_ PARTITION OF items FOR VALUES WITH (MODULUS $shards, REMAINDER $_)
	    SERVER shard$_ OPTIONS (table_name 'items');
	} } 0 .. $shards - 1);
$coord->safe_psql('postgres', qq{
	CREATE EXTENSION vecdb;
	CREATE EXTENSION postgres_fdw;
	CREATE TABLE items (id int NOT NULL, cat int NOT NULL, embedding vector($dims)) PARTITION BY HASH (id);
	$servers
	INSERT INTO items SELECT i, i % 10, $vector_sql FROM generate_series(1, $rows) i;
	-- One server holding every row, for comparison.
	CREATE TABLE one_node (id int PRIMARY KEY, cat int NOT NULL, embedding vector($dims));
	INSERT INTO one_node SELECT i, i % 10, $vector_sql FROM generate_series(1, $rows) i;
	CREATE INDEX one_node_v ON one_node USING hnsw (embedding vector_cosine_ops);
	CREATE TABLE queries AS SELECT k AS qid, (SELECT embedding FROM one_node WHERE id = k * 97) AS q FROM generate_series(1, 20) k;
});
$_->safe_psql('postgres', 'ANALYZE items') for @shard;

# (a) Rows on the shards; what ships.
my $total = 0;
for my $s (0 .. $shards - 1)
{
	my $n = $shard[$s]->safe_psql('postgres', 'SELECT count(*) FROM items');
	cmp_ok($n, '>', $rows / $shards / 2, "shard $s holds its part of the rows ($n)");
	$total += $n;
}
is($total, $rows, 'the shards hold every row once');

my $q1 = q{(SELECT q FROM queries WHERE qid = 1)};
my $plan = $coord->safe_psql('postgres', "EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM items ORDER BY embedding <=> '"
	  . $coord->safe_psql('postgres', "SELECT q FROM queries WHERE qid = 1") . "' LIMIT 10");
my @remote = $plan =~ /Remote SQL: (.*)/g;
is(scalar @remote, $shards, 'the plain query reads every shard');
is(scalar(grep { /ORDER BY \(embedding OPERATOR\(public\.<=>\)/ } @remote), $shards, 'every shard gets the ORDER BY distance')
  or diag($plan);
like($plan, qr/Merge Append/, 'the coordinator merges the shards\' ordered streams');

my $literal = $coord->safe_psql('postgres', 'SELECT q FROM queries WHERE qid = 2');
$plan = $coord->safe_psql('postgres',
	"EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM items WHERE cat = 3 ORDER BY embedding <=> '$literal' LIMIT 10");
is(scalar(grep { /WHERE \(\(cat = 3\)\).*ORDER BY/ } $plan =~ /Remote SQL: (.*)/g), $shards,
	'a WHERE filter ships with the ORDER BY') or diag($plan);

# (b) Recall of the plain query, against the exact answer and one server.
sub lists
{
	my ($sql) = @_;
	return [ split /\n/, $coord->safe_psql('postgres', qq{
		SELECT array_agg(id ORDER BY rank) FROM queries,
		       LATERAL (SELECT id, row_number() OVER () AS rank FROM ($sql) s) r
		 GROUP BY qid ORDER BY qid}) ];
}
sub recall_of
{
	my ($got, $exact) = @_;
	my ($hit, $all) = (0, 0);
	for my $i (0 .. $#$exact)
	{
		my %want = map { $_ => 1 } ($exact->[$i] =~ /(\d+)/g);
		$hit += grep { $want{$_} } ($got->[$i] =~ /(\d+)/g);
		$all += scalar keys %want;
	}
	return $hit / $all;
}
my $exact = lists('SELECT id FROM one_node ORDER BY embedding <=> queries.q, id LIMIT 10');
$coord->safe_psql('postgres', 'ALTER DATABASE postgres SET enable_seqscan = off');
my $one = recall_of(lists('SELECT id FROM one_node ORDER BY embedding <=> queries.q LIMIT 10'), $exact);
my $sharded = recall_of(lists('SELECT id FROM items ORDER BY embedding <=> queries.q LIMIT 10'), $exact);
cmp_ok($one, '>=', 0.9, "one server's hnsw recall\@10 ($one)");
cmp_ok($sharded, '>=', $one - 0.05, "the sharded query's recall\@10 ($sharded) is at least one server's minus 0.05");

# (c) The recommended shape: LIMIT per partition, shards concurrently.
my $union = join(' UNION ALL ', map { "(SELECT id, embedding <=> queries.q AS d FROM items_p$_ ORDER BY embedding <=> queries.q LIMIT 10)" }
	  0 .. $shards - 1);
my $recommended = "SELECT id FROM ($union) u ORDER BY d LIMIT 10";
my $union_literal = join(' UNION ALL ', map { "(SELECT id, embedding <=> '$literal' AS d FROM items_p$_ ORDER BY embedding <=> '$literal' LIMIT 10)" }
	  0 .. $shards - 1);
$plan = $coord->safe_psql('postgres', "EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM ($union_literal) u ORDER BY d LIMIT 10");
is(scalar(grep { /ORDER BY \(embedding OPERATOR\(public\.<=>\).* LIMIT 10::bigint$/ } $plan =~ /Remote SQL: (.*)/g), $shards,
	'the recommended shape ships ORDER BY and LIMIT to every shard') or diag($plan);
like($plan, qr/Merge Append/, 'the coordinator merges the shards\' k rows each') or diag($plan);
my $shaped = lists($recommended);
is_deeply($shaped, lists('SELECT id FROM items ORDER BY embedding <=> queries.q LIMIT 10'),
	'the recommended shape returns the plain query\'s rows');
cmp_ok(recall_of($shaped, $exact), '>=', $one - 0.05, 'and so its recall');

# (d) Without extensions 'vecdb' the operator is not known to ship.
$coord->safe_psql('postgres', 'ALTER SERVER shard0 OPTIONS (DROP extensions)');
$plan = $coord->safe_psql('postgres', "EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM items_p0 ORDER BY embedding <=> '$literal' LIMIT 10");
unlike(join("\n", $plan =~ /Remote SQL: (.*)/g), qr/ORDER BY/, 'without extensions \'vecdb\' the ORDER BY stays local')
  or diag($plan);
$coord->safe_psql('postgres', "ALTER SERVER shard0 OPTIONS (ADD extensions 'vecdb')");

# (e) shard_knn over dblink, as the README defines it (for cosine distance,
# hence the opclass above).
open(my $readme, '<', ($ENV{TESTDIR} // '.') . '/README.md') or die "README.md: $!";
my ($helper) = join('', <$readme>) =~ /^(-- vecdb_shard_knn begin\n.*?^-- vecdb_shard_knn end)$/ms;
close($readme);
ok(defined $helper, 'the README defines shard_knn');
my $shard_names = join(', ', map { "'shard$_'" } 0 .. $shards - 1);
$coord->safe_psql('postgres', "CREATE EXTENSION dblink;\n$helper");
my $pairs = sub {
	my ($sql) = @_;
	return $coord->safe_psql('postgres', qq{
		SELECT string_agg(r, ' ' ORDER BY qid) FROM queries,
		       LATERAL (SELECT array_agg(id || ':' || round(d::numeric, 6) ORDER BY d, id)::text AS r
		                  FROM ($sql) s) r});
};
my $union_d = join(' UNION ALL ', map { "(SELECT id, embedding <=> queries.q AS d FROM items_p$_ ORDER BY embedding <=> queries.q LIMIT 10)" }
	  0 .. $shards - 1);
my $via_fdw = $pairs->("SELECT id, d FROM ($union_d) u ORDER BY d LIMIT 10");
my $via_dblink = $pairs->("SELECT id, distance AS d FROM shard_knn(queries.q, 10, ARRAY[$shard_names])");
is($via_dblink, $via_fdw, 'shard_knn returns the recommended shape\'s rows and distances, 20 calls in one statement');
# A shard goes down between two calls of one session, then comes back.
my $down = $shard[1]->data_dir;
my $call = "SELECT count(*) FROM shard_knn((SELECT q FROM queries WHERE qid = 1), 10, ARRAY[$shard_names]);";
my ($rc, $out, $err) = $coord->psql('postgres', qq{$call
\\! pg_ctl -D '$down' -m fast -w stop >/dev/null
$call
\\! pg_ctl -D '$down' -l '$down/../restart.log' -w start >/dev/null
$call}, on_error_stop => 0);
is($out, "10\n10", 'a call with a shard down fails, and the next one, after it is back, answers again') or diag($err);
like($err, qr/shard1/, 'the error names the shard');
$_->stop for @shard, $coord;
done_testing();
