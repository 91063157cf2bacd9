
# vecdb under pgvector's extension name (`make install-as-vector`, which
# `make test` runs unless pgvector's own files are installed):
#
#  (a) CREATE EXTENSION IF NOT EXISTS vector gives vecdb, at pgvector's
#      version number, and pgvector's SQL works against it: types, operators,
#      hnsw and ivfflat indexes, their settings;
#  (b) the two names cannot meet in one database (the objects conflict), but
#      another database of the same server can use the name vecdb;
#  (c) a setting SET before the library loads keeps its value.
#
# Skips when extension vector is not vecdb's on this server.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $sharedir = `pg_config --sharedir`;
chomp $sharedir;
my $control = "$sharedir/extension/vector.control";
plan skip_all => "extension vector is not installed as vecdb ($control)"
  unless -f $control && slurp_file($control) =~ /module_pathname = '\$libdir\/vecdb'/;

my $node = PostgreSQL::Test::Cluster->new('asvector');
$node->init;
$node->start;

# (a) pgvector's spelling, end to end.
$node->safe_psql('postgres', 'CREATE EXTENSION IF NOT EXISTS vector');
is($node->safe_psql('postgres', q{SELECT extversion FROM pg_extension WHERE extname = 'vector'}),
	'0.8.0', 'extension vector reports pgvector version 0.8.0');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_extension WHERE extname = 'vecdb'}),
	'0', 'no extension named vecdb was created');
is($node->safe_psql('postgres', q{SELECT vecdb_simd_kernels() <> ''}), 't',
	'the library behind extension vector is vecdb');
$node->safe_psql('postgres', 'CREATE EXTENSION IF NOT EXISTS vector');
pass('CREATE EXTENSION IF NOT EXISTS vector again is a no-op');

$node->safe_psql('postgres', q{
	CREATE TABLE items (id int PRIMARY KEY, embedding vector(3));
	INSERT INTO items SELECT i, ARRAY[i % 17, i % 13, i % 7]::vector FROM generate_series(1, 2000) i;
	CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_l2_ops);
	CREATE INDEX items_ivf ON items USING ivfflat (embedding vector_cosine_ops) WITH (lists = 10);
});
my $exact = $node->safe_psql('postgres',
	q{SET enable_indexscan = off; SELECT array_agg(d) FROM (SELECT embedding <-> '[3,1,2]' AS d FROM items ORDER BY 1 LIMIT 5) s});
my $plan = $node->safe_psql('postgres',
	q{SET enable_seqscan = off; EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY embedding <-> '[3,1,2]' LIMIT 5});
like($plan, qr/Index Scan using items_hnsw/, 'ORDER BY <-> uses the hnsw index');
is($node->safe_psql('postgres',
		q{SET enable_seqscan = off; SET hnsw.ef_search = 100;
		  SELECT array_agg(d) FROM (SELECT embedding <-> '[3,1,2]' AS d FROM items ORDER BY 1 LIMIT 5) s}),
	$exact, 'hnsw answers equal the exact ones');
$plan = $node->safe_psql('postgres',
	q{SET enable_seqscan = off; EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY embedding <=> '[3,1,2]' LIMIT 5});
like($plan, qr/Index Scan using items_ivf/, 'ORDER BY <=> uses the ivfflat index');
is($node->safe_psql('postgres',
		q{SET enable_seqscan = off; SET ivfflat.probes = 10;
		  SELECT count(*) FROM (SELECT id FROM items ORDER BY embedding <=> '[3,1,2]' LIMIT 5) s}),
	'5', 'ivfflat.probes applies; the LIMIT is filled');

# (b) One name per database.
my ($ret, $stdout, $stderr) = $node->psql('postgres', 'CREATE EXTENSION vecdb');
isnt($ret, 0, 'CREATE EXTENSION vecdb beside extension vector fails');
like($stderr, qr/already exists/, '... because its objects already exist');
$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->safe_psql('other', 'CREATE EXTENSION vecdb');
is($node->safe_psql('other', q{SELECT '[1,2,2]'::vector <-> '[0,0,0]'}), '3',
	'another database uses the name vecdb on the same server');

# (c) A placeholder set before the library loads keeps its value.
is($node->safe_psql('postgres', q{SET hnsw.ef_search = 77; SELECT '[1]'::vector; SHOW hnsw.ef_search}),
	"[1]\n77", 'hnsw.ef_search SET before the library loaded keeps its value');

$node->stop;
done_testing();
