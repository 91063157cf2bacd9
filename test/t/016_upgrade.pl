
# ALTER EXTENSION vecdb UPDATE from every earlier version (the install
# scripts kept in src/pg/upgrade): a database created at the old version,
# with hnsw and ivf indexes, updates to the current version; its extension
# then has exactly the objects (and their properties: arguments, results,
# volatility, strictness, parallel safety, privileges, comments) of a fresh
# CREATE EXTENSION vecdb; the indexes built before the update answer as
# before and pass vecdb_index_check().

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->append_conf('postgresql.conf', "max_parallel_maintenance_workers = 0\nautovacuum = off\n");
$node->start;

my $current = $node->safe_psql('postgres', q{SELECT default_version FROM pg_available_extensions WHERE name = 'vecdb'});
my @old = split /\n/, $node->safe_psql('postgres',
	qq{SELECT version FROM pg_available_extension_versions WHERE name = 'vecdb' AND version <> '$current' ORDER BY 1});
ok(scalar @old >= 1, "earlier versions are installed (@old), besides $current");

# Every member object of the extension, with what defines it.
my $members = q{
	SELECT string_agg(d, E'\n' ORDER BY d) FROM (
	  SELECT pg_describe_object(classid, objid, 0)
	         || coalesce(' ' || (SELECT concat_ws(' ', pg_get_function_result(p.oid), provolatile, proisstrict,
	                                              proparallel, proacl::text, prosrc, probin)
	                               FROM pg_proc p WHERE classid = 'pg_proc'::regclass AND p.oid = objid), '')
	         || coalesce(' comment: ' || obj_description(objid, classid::regclass::name), '') AS d
	    FROM pg_depend WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
	     AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'vecdb')) s};
$node->safe_psql('postgres', "CREATE DATABASE fresh");
$node->safe_psql('fresh', 'CREATE EXTENSION vecdb');
my $fresh = $node->safe_psql('fresh', $members);
like($fresh, qr/function vecdb_index_check\(regclass\)/, "a fresh $current install has vecdb_index_check()");

for my $version (@old)
{
	my $db = "from_" . ($version =~ s/\W/_/gr);
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, qq{
		CREATE EXTENSION vecdb VERSION '$version';
		CREATE TABLE items (id int PRIMARY KEY, v vector(8));
		INSERT INTO items SELECT i, ARRAY[sin(i), cos(i), sin(2 * i), cos(3 * i), i % 7, i % 3, sin(i * 0.1), 1]::vector
		  FROM generate_series(1, 2000) i;
		CREATE INDEX items_hnsw ON items USING hnsw (v vector_l2_ops);
		CREATE INDEX items_ivf ON items USING ivf (v vector_cosine_ops) WITH (lists = 10);
	});
	is($node->safe_psql($db, q{SELECT extversion FROM pg_extension WHERE extname = 'vecdb'}), $version,
		"$db: created at $version");
	my $query = q{SET enable_seqscan = off; SET ivf.probes = 10;
		SELECT (SELECT array_agg(id) FROM (SELECT id FROM items ORDER BY v <-> '[1,0,0,1,3,1,0,1]' LIMIT 10) a)::text
		    || (SELECT array_agg(id) FROM (SELECT id FROM items ORDER BY v <=> '[1,0,0,1,3,1,0,1]' LIMIT 10) b)::text};
	my $before = $node->safe_psql($db, $query);

	$node->safe_psql($db, 'ALTER EXTENSION vecdb UPDATE');
	is($node->safe_psql($db, q{SELECT extversion FROM pg_extension WHERE extname = 'vecdb'}), $current,
		"$db: ALTER EXTENSION vecdb UPDATE reaches $current");
	is($node->safe_psql($db, $members), $fresh, "$db: the updated extension's objects are a fresh install's");
	is($node->safe_psql($db, $query), $before, "$db: the indexes built before the update answer as before");
	for my $index (qw(items_hnsw items_ivf))
	{
		my ($rc, $out, $err) = $node->psql($db, "SELECT count(*) FROM vecdb_index_check('$index')");
		is($err, '', "$db: vecdb_index_check($index) finds nothing wrong");
	}
}

$node->stop;
done_testing();
