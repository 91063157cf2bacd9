
# pg_dump and pg_restore of a database with every vecdb type and index kind:
# vector, halfvec, sparsevec and bit columns; hnsw indexes of every opclass
# family with sq8, e8, bit and none codes, a filter column, an expression
# index on binary_quantize and a partial index; ivf and ivfflat indexes.
#
# The database is dumped in plain format (restored with psql) and in custom
# format (restored with pg_restore, two jobs); each restore must have the
# same rows (the exact answers of every query), the same index definitions
# (reloptions included), indexes that vecdb_index_check() finds sound, and
# the same answers through each index as the original database.  Builds run
# on one thread, so a restored index is built over the same rows in the same
# order as the original: its answers must be identical, not just close.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump_restore');
$node->init;
$node->append_conf('postgresql.conf', qq{
jit = off
autovacuum = off
max_parallel_maintenance_workers = 0
});
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE original');
$node->safe_psql('original', q{
	CREATE EXTENSION vecdb;
	CREATE TABLE items (
		id int PRIMARY KEY,
		cat int NOT NULL,
		v vector(16),
		h halfvec(16),
		s sparsevec(40),
		b bit(64));
	INSERT INTO items
	SELECT i, i % 10,
	       (SELECT array_agg(sin(i * 0.37 + j * 1.3) + (i % 7) * 0.1) FROM generate_series(1, 16) j)::vector,
	       (SELECT array_agg(cos(i * 0.23 + j * 0.7)) FROM generate_series(1, 16) j)::halfvec,
	       format('{%s:%s,%s:%s,%s:%s}/40', 1 + i % 13, (i % 5) + 0.5, 14 + i % 11, -(i % 3) - 1, 30 + i % 9,
	              (i % 4) * 0.25 + 0.125)::sparsevec,
	       ('x' || md5(i::text))::bit(64)
	  FROM generate_series(1, 1200) i;
	INSERT INTO items (id, cat) VALUES (5000, 0); -- NULL vectors are not indexed
	CREATE INDEX items_v_sq8 ON items USING hnsw (v vector_l2_ops);
	CREATE INDEX items_v_e8 ON items USING hnsw (v vector_ip_ops) WITH (m = 8, ef_construction = 40, quantization = 'e8');
	CREATE INDEX items_v_cat ON items USING hnsw (v vector_cosine_ops, cat);
	CREATE INDEX items_v_l1 ON items USING hnsw (v vector_l1_ops);
	CREATE INDEX items_v_ivf ON items USING ivf (v vector_l2_ops) WITH (lists = 8);
	CREATE INDEX items_v_ivfflat ON items USING ivfflat (v vector_cosine_ops) WITH (lists = 6);
	CREATE INDEX items_h ON items USING hnsw (h halfvec_l2_ops);
	CREATE INDEX items_h_ivf ON items USING ivf (h halfvec_ip_ops) WITH (lists = 4, quantization = 'none');
	CREATE INDEX items_s ON items USING hnsw (s sparsevec_ip_ops);
	CREATE INDEX items_b ON items USING hnsw (b bit_hamming_ops);
	CREATE INDEX items_b_jaccard ON items USING hnsw (b bit_jaccard_ops) WITH (quantization = 'none');
	CREATE INDEX items_bq ON items USING hnsw ((binary_quantize(v)::bit(16)) bit_hamming_ops);
	CREATE INDEX items_partial ON items USING hnsw (v vector_l2_ops) WHERE cat = 3;
});

# Per index: the query that uses it (checked in the plan) and its answer.
my $q16 = q{(SELECT v FROM items WHERE id = 77)};
my %queries = (
	items_v_sq8 => "SELECT id FROM items ORDER BY v <-> $q16 LIMIT 10",
	items_v_e8 => "SELECT id FROM items ORDER BY v <#> $q16 LIMIT 10",
	items_v_cat => "SELECT id FROM items WHERE cat = 4 ORDER BY v <=> $q16 LIMIT 10",
	items_v_l1 => "SELECT id FROM items ORDER BY v <+> $q16 LIMIT 10",
	items_v_ivf => "SELECT id FROM items ORDER BY v <-> $q16 LIMIT 10",
	items_v_ivfflat => "SELECT id FROM items ORDER BY v <=> $q16 LIMIT 10",
	items_h => "SELECT id FROM items ORDER BY h <-> (SELECT h FROM items WHERE id = 5) LIMIT 10",
	items_h_ivf => "SELECT id FROM items ORDER BY h <#> (SELECT h FROM items WHERE id = 5) LIMIT 10",
	items_s => "SELECT id FROM items ORDER BY s <#> (SELECT s FROM items WHERE id = 9) LIMIT 10",
	# Hamming distances tie: the distances are compared.
	items_b => "SELECT b <~> (SELECT b FROM items WHERE id = 11) AS id FROM items"
	  . " ORDER BY b <~> (SELECT b FROM items WHERE id = 11) LIMIT 10",
	items_b_jaccard => "SELECT id FROM items ORDER BY b <%> (SELECT b FROM items WHERE id = 11) LIMIT 10",
	items_bq => "SELECT binary_quantize(v)::bit(16) <~> binary_quantize($q16)::bit(16) AS id FROM items"
	  . " ORDER BY binary_quantize(v)::bit(16) <~> binary_quantize($q16)::bit(16) LIMIT 10",
	items_partial => "SELECT id FROM items WHERE cat = 3 ORDER BY v <-> $q16 LIMIT 10",);

# Each index's answer, with only that index there (the others are dropped
# in a transaction rolled back: another index of the same column would serve
# the same query).
sub answers
{
	my ($db) = @_;
	my %a;
	for my $index (sort keys %queries)
	{
		my $sql = "SET enable_seqscan = off; SET enable_bitmapscan = off; SET hnsw.ef_search = 100; "
		  . "SET ivf.probes = 8; SET ivfflat.probes = 6; "
		  . "BEGIN; DROP INDEX " . join(', ', grep { $_ ne $index } sort keys %queries) . "; ";
		my $plan = $node->safe_psql($db, $sql . "EXPLAIN (COSTS OFF) $queries{$index}; ROLLBACK;");
		like($plan, qr/Index Scan using $index /, "$db: the query of $index uses it");
		$a{$index} = $node->safe_psql($db, $sql . "SELECT array_agg(id) FROM ($queries{$index}) s; ROLLBACK;");
	}
	return \%a;
}

sub index_definitions
{
	my ($db) = @_;
	return $node->safe_psql($db,
		q{SELECT string_agg(indexdef, E'\n' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'items'});
}

my $before = answers('original');
my $definitions = index_definitions('original');
my $rows = $node->safe_psql('original', 'SELECT md5(string_agg(items::text, \',\' ORDER BY id)) FROM items');
like($definitions, qr/quantization='?e8/, 'the definitions carry the reloptions');

my $dir = PostgreSQL::Test::Utils::tempdir;
$node->command_ok([ 'pg_dump', '-d', $node->connstr('original'), '-f', "$dir/plain.sql" ], 'pg_dump, plain format');
$node->command_ok([ 'pg_dump', '-d', $node->connstr('original'), '-Fc', '-f', "$dir/custom.dump" ],
	'pg_dump, custom format');
$node->safe_psql('postgres', 'CREATE DATABASE from_plain');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('from_plain'), '-f', "$dir/plain.sql" ],
	'the plain dump restores with psql');
$node->safe_psql('postgres', 'CREATE DATABASE from_custom');
$node->command_ok([ 'pg_restore', '-j', '2', '-d', $node->connstr('from_custom'), "$dir/custom.dump" ],
	'the custom dump restores with pg_restore -j 2');

for my $db (qw(from_plain from_custom))
{
	is($node->safe_psql($db, 'SELECT md5(string_agg(items::text, \',\' ORDER BY id)) FROM items'), $rows,
		"$db: the same rows");
	is(index_definitions($db), $definitions, "$db: the same index definitions");
	my $after = answers($db);
	is($after->{$_}, $before->{$_}, "$db: $_ gives the original's answer") for sort keys %queries;
	for my $index (sort keys %queries)
	{
		my ($rc, $out, $err) = $node->psql($db, "SELECT count(*) FROM vecdb_index_check('$index')");
		is($err, '', "$db: vecdb_index_check($index) finds nothing wrong");
	}
}

$node->stop;
done_testing();
