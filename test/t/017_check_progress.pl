# vecdb_index_check() reports its progress in pg_stat_progress_create_index
# (README, "Checking an index"): a second session polls the view while this
# one checks an hnsw and an ivf index of 40,000 rows again and again, until
# the poller has seen every phase the checker names (or two minutes pass).
# Every row it saw must name the index being checked, have a NULL command
# (the check is not a CREATE INDEX), and count pages done up to the total;
# the layer-0 walk counts elements instead.  When a check ends, and when one
# is cancelled, no row is left behind.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('check_progress');
$node->init;
$node->append_conf('postgresql.conf', qq{
jit = off
autovacuum = off
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION vecdb;
	SELECT setseed(0.17);
	CREATE TABLE t (id int, v vector(32));
	INSERT INTO t SELECT i, (SELECT array_agg((i % 50) * 0.1 + random() + 0 * j) FROM generate_series(1, 32) j)::vector
	  FROM generate_series(1, 40000) i;
	SET maintenance_work_mem = '256MB';
	CREATE INDEX t_hnsw ON t USING hnsw (v vector_l2_ops);
	CREATE INDEX t_ivf ON t USING ivf (v vector_l2_ops) WITH (lists = 20);
	CREATE TABLE seen (phase text, command text, index_relid regclass, blocks_done bigint, blocks_total bigint,
	                   tuples_done bigint, tuples_total bigint);
});

my @phases = map { "building index: vecdb_index_check: $_" }
  ('reading elements', 'checking links', 'walking layer 0', 'walking lists');
my $poll = q{
DO $$
DECLARE
    deadline timestamptz := clock_timestamp() + interval '120 s';
BEGIN
    WHILE clock_timestamp() < deadline LOOP
        PERFORM pg_stat_clear_snapshot();
        INSERT INTO seen
            SELECT phase, command, index_relid::regclass, blocks_done, blocks_total, tuples_done, tuples_total
              FROM pg_stat_progress_create_index WHERE pid <> pg_backend_pid();
        EXIT WHEN (SELECT count(DISTINCT phase) FROM seen WHERE phase LIKE '%vecdb_index_check%') >= 4;
        PERFORM pg_sleep(0.001);
    END LOOP;
END $$;
SELECT 'done';
};
my ($out, $err) = ('', '');
my $poller = IPC::Run::start([ 'psql', '-X', '-q', '-A', '-t', '-d', $node->connstr('postgres'), '-c', $poll ],
	'>', \$out, '2>', \$err);
my $checks = 0;
while ($poller->pumpable && $checks < 2000)
{
	$node->safe_psql('postgres',
		"SELECT count(*) FROM vecdb_index_check('t_hnsw'); SELECT count(*) FROM vecdb_index_check('t_ivf');");
	$checks++;
	$poller->pump_nb;
}
$poller->finish;
is($err, '', 'the poller ran without error');
note("$checks rounds of checks");

# Between pgstat_progress_start_command() and the first parameters a poller
# can see the command's zeroed row ('initializing', no index yet), and then
# 'building index: initializing' for either index: those moments name no
# checker phase and are left out of the per-phase tests.
is($node->safe_psql('postgres', q{SELECT string_agg(DISTINCT phase, '|' ORDER BY phase) FROM seen
	WHERE phase NOT IN ('initializing', 'building index: initializing')}),
	join('|', sort @phases), 'the view showed every phase of the checker, and no other but the moments before its first');
is($node->safe_psql('postgres', 'SELECT count(*) FROM seen WHERE command IS NOT NULL'), '0',
	'the command column is NULL (not a CREATE INDEX)');
is($node->safe_psql('postgres', qq{SELECT count(*) FROM seen
	WHERE phase IN ('$phases[0]', '$phases[1]', '$phases[2]', '$phases[3]')
	AND index_relid <> (CASE WHEN phase = '$phases[3]' THEN 't_ivf' ELSE 't_hnsw' END)::regclass}), '0',
	'every row of a checker phase names the index being checked');
is($node->safe_psql('postgres', q{SELECT count(*) FROM seen
	WHERE phase = 'building index: initializing' AND index_relid NOT IN ('t_hnsw'::regclass, 't_ivf'::regclass)}), '0',
	'a row about to start a check names one of the two indexes');
is($node->safe_psql('postgres', qq{SELECT count(*) FROM seen WHERE phase IN ('$phases[0]', '$phases[1]', '$phases[3]')
	AND (blocks_total <= 0 OR blocks_done NOT BETWEEN 0 AND blocks_total)}), '0',
	'page phases count pages done up to a positive total');
is($node->safe_psql('postgres', qq{SELECT count(*) FROM seen WHERE phase = '$phases[2]'
	AND NOT (tuples_total = 40000 AND tuples_done BETWEEN 0 AND tuples_total)}), '0',
	'the layer-0 walk counts elements reached up to the 40,000 elements');
is($node->safe_psql('postgres', 'SELECT count(*) FROM pg_stat_progress_create_index'), '0',
	'no progress row is left after the checks');

# A cancelled check leaves no row behind in its own session.
my ($rc, $stdout, $stderr) = $node->psql('postgres', q{
	SET statement_timeout = '20ms';
	SELECT count(*) FROM vecdb_index_check('t_hnsw');
	RESET statement_timeout;
	SELECT count(*) FROM pg_stat_progress_create_index WHERE pid = pg_backend_pid();
}, on_error_stop => 0);
like($stderr, qr/canceling statement due to statement timeout/, 'a check can be cancelled');
is($stdout, '0', 'and its progress row goes with it');

$node->stop;
done_testing();
