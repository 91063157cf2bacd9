
# Long index operations stop within a second of a cancel.
#
#  (a) A build that would run for minutes: 40,000 identical vectors, each
#      with a filter value of its own (else copies share an element, 33 to
#      one, and the build is quick).  After the inserts every copy but one
#      is unreachable, and each search the
#      reachability pass (connect_unreachable) makes for one walks every
#      copy: quadratic.  statement_timeout and pg_cancel_backend each stop
#      it; the server does not restart.
#  (b) A VACUUM that repairs the graph around 50,000 deleted rows of
#      100,000 (about 3 s uncancelled here): statement_timeout stops it.
#  (c) A filtered scan that finds nothing: every row of an e8 index deleted
#      by the scanning transaction itself, so the scan re-ranks and skips
#      every candidate inside one amgettuple call (hnsw.max_scan_tuples
#      unlimited; 0.1 to 0.3 s uncancelled): a statement_timeout far
#      shorter than that ends it with an error, at once.
#
# Run with PGXS's `make installcheck` (TAP_TESTS = 1) or directly:
#   PATH=/usr/lib/postgresql/15/bin:$PATH \
#   PG_REGRESS=/usr/lib/postgresql/15/lib/pgxs/src/test/regress/pg_regress \
#   prove -I /usr/lib/postgresql/15/lib/pgxs/src/test/perl/ -I . test/t/009_hnsw_cancel.pl

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = PostgreSQL::Test::Cluster->new('cancel');
$node->init;
$node->append_conf('postgresql.conf', qq{
jit = off
autovacuum = off
maintenance_work_mem = '256MB'
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION vecdb');
my $started = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');

# Runs $sql after $setup with statement_timeout $ms: whether it failed with
# the timeout's error, and the seconds it ran past the timeout.
sub run_with_timeout
{
	my ($setup, $sql, $ms) = @_;
	my $t0 = time;
	my ($ret, $out, $err) =
	  $node->psql('postgres', "$setup\nSET statement_timeout = '${ms}ms';\n$sql");
	my $late = time - $t0 - $ms / 1000.0;
	return ($ret != 0 && $err =~ /canceling statement due to statement timeout/, $late, $err);
}

# (a) The build.
$node->safe_psql('postgres',
	q{CREATE TABLE copies AS SELECT i AS id, '[1,2,3,4,5,6,7,8]'::vector(8) AS v FROM generate_series(1, 40000) i}
);
my ($cancelled, $late, $err) =
  run_with_timeout('', 'CREATE INDEX copies_idx ON copies USING hnsw (v vector_l2_ops, id);', 1000);
ok($cancelled, 'statement_timeout cancels a build of identical vectors') or diag($err);
cmp_ok($late, '<', 1.0, sprintf('the build stopped %.2f s after its timeout', $late));

my $session = $node->background_psql('postgres', on_error_stop => 0);
my $pid = $session->query_safe('SELECT pg_backend_pid()');
$session->query_until(qr/started/, "\\echo started\nCREATE INDEX copies_idx ON copies USING hnsw (v vector_l2_ops, id);\n");
$node->poll_query_until('postgres',
	qq{SELECT wait_event IS NULL AND query LIKE 'CREATE INDEX%' FROM pg_stat_activity WHERE pid = $pid})
  or die 'the build did not start';
sleep(1);    # into the reachability pass
my $t0 = time;
$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
$node->poll_query_until('postgres', qq{SELECT state = 'idle' FROM pg_stat_activity WHERE pid = $pid})
  or die 'the build did not stop';
my $stopped = time - $t0;
cmp_ok($stopped, '<', 1.0, sprintf('pg_cancel_backend stopped the build in %.2f s', $stopped));
$session->quit;
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_indexes WHERE indexname = 'copies_idx'}),
	'0', 'the cancelled build left no index');

# (b) VACUUM.
$node->safe_psql(
	'postgres', q{
	CREATE TABLE items AS SELECT i AS id,
	  ARRAY(SELECT sin(i * 0.37 + j * 1.7) + cos(i * j * 0.011) FROM generate_series(1, 16) j)::vector(16) AS v
	  FROM generate_series(1, 100000) i;
	CREATE INDEX items_idx ON items USING hnsw (v vector_l2_ops) WITH (quantization = 'e8');
	DELETE FROM items WHERE id % 2 = 0;
});
($cancelled, $late, $err) = run_with_timeout('', 'VACUUM items;', 300);
ok($cancelled, 'statement_timeout cancels VACUUM of an hnsw index') or diag($err);
cmp_ok($late, '<', 1.0, sprintf('VACUUM stopped %.2f s after its timeout', $late));
$node->safe_psql('postgres', 'VACUUM items');    # it completes when left alone

# (c) A scan that finds nothing.
my $query = q{SELECT id FROM items ORDER BY v <-> '[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]' LIMIT 1;};
my $setup = q{BEGIN; DELETE FROM items; SET LOCAL hnsw.max_scan_tuples = 1000000000; SET LOCAL enable_seqscan = off;};
my $t_scan = time;
is($node->safe_psql('postgres', "$setup\n$query\nROLLBACK;"), '', 'the scan finds nothing when left alone');
my $scan_seconds = time - $t_scan;
($cancelled, $late, $err) = run_with_timeout($setup, $query, 20);
ok($cancelled, sprintf('statement_timeout (20 ms) cancels inside a scan of %.2f s', $scan_seconds)) or diag($err);
cmp_ok($late, '<', 1.0, sprintf('the scan stopped %.2f s after its timeout', $late));

is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'), $started, 'the server never restarted');
my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal|server process .* was terminated/, 'no backend crashed');

$node->stop;
done_testing();
