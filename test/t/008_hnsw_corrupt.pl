
# Corrupted hnsw index pages are untrusted input.
#
# Each case is a table of its own (a copy of one of three bases) with one
# hnsw index, whose file gets one corruption while the server is stopped:
# a metapage field (every field, against the sq8 index; the ones that size
# or locate things against the other two), or one field of an element tuple
# (header, line pointer, neighbour count, neighbour slot; on an element
# chosen at random, or on the entry point).  The codes:
#
#   none  vector_l2_ops,     400 rows (fp32 codes, no aux page)
#   sq8   vector_cosine_ops, 1100 rows (sq8 ranges in one aux page)
#   e8    vector_ip_ops,     400 rows (coarse codes, re-ranked on the heap)
#
# After one restart, for every case: vecdb_index_check(), which must fail
# as corrupt for every case but the insert hint's, then a scan through the
# index, an INSERT,
# a scan to the end of the graph and a VACUUM that has dead rows to remove
# (never the corrupted element's own row, so its lists are read) either
# fail with SQLSTATE XX001/XX002 and a message naming the index, or
# succeed, the scan with exactly the rows it returned before the
# corruption.  A corrupted metapage must fail all four; an element, at
# least VACUUM (it reads every element and every live list).  An insert
# hint out of range is harmless: all four succeed, and the scan to the end
# returns every row, the inserted one included.  The server never restarts
# and no backend dies.  Then REINDEX of every index gives the exact top-10
# lists of the queries (at ef_search 200, every candidate re-ranked), and
# INSERT and VACUUM work again.
#
# Run with PGXS's `make installcheck` (TAP_TESTS = 1) or directly:
#   PATH=/usr/lib/postgresql/15/bin:$PATH \
#   PG_REGRESS=/usr/lib/postgresql/15/lib/pgxs/src/test/regress/pg_regress \
#   prove -I /usr/lib/postgresql/15/lib/pgxs/src/test/perl/ -I . test/t/008_hnsw_corrupt.pl

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use VecdbHnsw;

my $node = PostgreSQL::Test::Cluster->new('hnsw_corrupt');
$node->init;
$node->append_conf('postgresql.conf', qq{
jit = off
autovacuum = off
max_parallel_maintenance_workers = 0
statement_timeout = '60s'
});
$node->start;

my %base = (
	none => { rows => 400, opclass => 'vector_l2_ops', op => '<->' },
	sq8 => { rows => 1100, opclass => 'vector_cosine_ops', op => '<=>' },
	e8 => { rows => 400, opclass => 'vector_ip_ops', op => '<#>' },);

# try(sql) (VecdbHnsw.pm): scans and inserts run in one session.
create_data(
	$node, q{
	CREATE TABLE queries (qid int PRIMARY KEY, v vector(16));
	INSERT INTO queries SELECT k, point(1000000 + k, 16) FROM generate_series(1, 3) k;
} . $try_function . join('', map {
	"CREATE TABLE base_$_ AS SELECT i AS id, point(i, 16)::vector(16) AS v"
	  . " FROM generate_series(1, $base{$_}{rows}) i;\n" } sort keys %base));

# ---------------------------------------------------------------------------
# Page format (src/pg/hnsw/hnsw.h): the metapage's fields at their byte
# offsets in block 0 (page header 24 bytes, MetaPageData from there).
# ---------------------------------------------------------------------------
my %meta_field = (
	magic => [ 24, 'V' ],
	version => [ 28, 'V' ],
	dims => [ 32, 'V' ],
	m => [ 36, 'v' ],
	ef_construction => [ 38, 'v' ],
	metric => [ 40, 'C' ],
	quantization => [ 41, 'C' ],
	max_level => [ 42, 'C' ],
	check => [ 43, 'C' ],
	code_size => [ 44, 'V' ],
	aux_pages => [ 48, 'V' ],
	aux_bytes => [ 52, 'V' ],
	entry_block => [ 56, 'V' ],
	entry_offset => [ 60, 'v' ],
	entry_level => [ 62, 'v' ],
	insert_page => [ 64, 'V' ],
	seed => [ 72, 'Q<' ],
	rotation_seed => [ 80, 'Q<' ],);

# The metapage's fields, and the index's size in blocks.
sub read_meta
{
	my ($file) = @_;
	my $page = read_block($file, 0);
	my %m = map { $_ => unpack($meta_field{$_}[1], substr($page, $meta_field{$_}[0], 8)) } keys %meta_field;
	$m{nblocks} = (-s $file) / $BLCKSZ;
	$m{first} = 1 + $m{aux_pages};
	return \%m;
}

# Element $offset of block $block: where its parts are (file offsets) and
# what it says.
sub read_element
{
	my ($file, $meta, $block, $offset) = @_;
	my $page = read_block($file, $block);
	my $items = (unpack('v', substr($page, 12, 2)) - 24) / 4;
	die "block $block has $items items, not $offset" if $offset > $items;
	my $lp = unpack('V', substr($page, 24 + 4 * ($offset - 1), 4));
	my %e = (
		items => $items,
		lp_at => $block * $BLCKSZ + 24 + 4 * ($offset - 1),
		lp => $lp,
		start => $lp & 0x7fff,
		length => $lp >> 17);
	my $t = $e{start};
	@e{qw(kind level flags)} = unpack('C3', substr($page, $t, 3));
	my ($hi, $lo, $pos) = unpack('v3', substr($page, $t + 6, 6));
	$e{heap_tid} = '(' . ($hi * 65536 + $lo) . ",$pos)";
	$e{at} = $block * $BLCKSZ + $t;
	$e{counts_at} = $e{at} + 16 + $meta->{code_size};
	my $slots = (16 + $meta->{code_size} + $e{level} + 1 + 3) & ~3;
	for my $lc (0 .. $e{level})
	{
		$e{count}[$lc] = unpack('C', substr($page, $t + 16 + $meta->{code_size} + $lc, 1));
		$e{slots_at}[$lc] =
		  $e{at} + $slots + 4 * ($lc == 0 ? 0 : 2 * $meta->{m} + ($lc - 1) * $meta->{m});
	}
	return \%e;
}

# ---------------------------------------------------------------------------
# The cases: [ base, what is corrupted, kind ].  Kinds: 'meta' (field,
# value) and 'hint' (the insert hint, harmless), 'element' (a sub that gets
# the file, the metapage and a random generator and returns [file offset,
# bytes] to write, and the element's heap TID).
# ---------------------------------------------------------------------------
my @cases;

sub meta_case
{
	my ($base, $field, $value, $kind) = @_;
	push @cases, { base => $base, name => "$base: metapage $field", kind => $kind // 'meta',
		field => $field, value => $value };
	return;
}

# Every metapage field, against the sq8 index (the one with an aux page);
# values relative to the stored ones are code refs of the metapage.
my @meta_values = (
	[ magic => sub { $_[0]{magic} ^ 1 } ],
	[ version => sub { 3 } ],
	[ dims => sub { 0 } ],
	[ dims => sub { $_[0]{dims} + 1 } ],
	[ dims => sub { 65535 } ],
	[ m => sub { 0 } ],
	[ m => sub { 1 } ],
	[ m => sub { $_[0]{m} + 1 } ],
	[ m => sub { 101 } ],
	[ ef_construction => sub { 0 } ],
	[ ef_construction => sub { $_[0]{ef_construction} + 1 } ],
	[ metric => sub { ($_[0]{metric} + 1) % 4 } ],
	[ quantization => sub { 99 } ],
	[ quantization => sub { $_[0]{quantization} == 2 ? 4 : 5 } ], # e8 -> h4: codes of the same size
	[ max_level => sub { 255 } ],
	[ max_level => sub { $_[0]{entry_level} - 1 } ],
	[ check => sub { $_[0]{check} % 255 + 1 } ],
	[ code_size => sub { 0x7fffffff } ],
	[ code_size => sub { 4 } ],
	[ code_size => sub { 4000 } ],
	[ aux_pages => sub { $_[0]{aux_pages} + 1 } ],
	[ aux_bytes => sub { $_[0]{aux_bytes} + 4 } ],
	[ entry_block => sub { 0 } ],
	[ entry_block => sub { $_[0]{first} - 1 } ],
	[ entry_block => sub { $_[0]{nblocks} + 3 } ],
	[ entry_block => sub { 0xFFFFFFFF } ],
	[ entry_offset => sub { 0 } ],
	[ entry_offset => sub { 200 } ],
	[ entry_level => sub { 0xFFFF } ],
	[ entry_level => sub { $_[0]{entry_level} + 1 } ],
	[ entry_level => sub { $_[0]{max_level} + 1 } ],
	[ seed => sub { $_[0]{seed} ^ 1 } ],
	[ rotation_seed => sub { $_[0]{rotation_seed} ^ (1 << 40) } ],);
my %for_every_base = map { $_ => 1 } qw(dims metric quantization code_size entry_block entry_offset);
for my $base (qw(sq8 none e8))
{
	for my $v (@meta_values)
	{
		meta_case($base, @$v) if $base eq 'sq8' || $for_every_base{ $v->[0] };
	}
	meta_case($base, insert_page => sub { 0 }, 'hint');
	meta_case($base, insert_page => sub { $_[0]{nblocks} + 100 }, 'hint');
	meta_case($base, insert_page => sub { 0xFFFFFFFF }, 'hint');
}

# A random element (rand from the case's own seed) with at least one
# layer-0 neighbour, or the entry point.
sub pick_element
{
	my ($file, $meta, $entry) = @_;
	return read_element($file, $meta, $meta->{entry_block}, $meta->{entry_offset}) if $entry;
	for (1 .. 1000)
	{
		my $block = $meta->{first} + int(rand($meta->{nblocks} - $meta->{first}));
		my $items = read_element($file, $meta, $block, 1)->{items};
		my $e = read_element($file, $meta, $block, 1 + int(rand($items)));
		return $e if $e->{count}[0] > 0;
	}
	die 'no element with neighbours';
}

# A slot of the element's layer $lc (the top one for the entry point,
# which every search reads first) set to (block, offset).
sub slot_patch
{
	my ($e, $lc, $block, $offset) = @_;
	$lc = $e->{level} if $lc eq 'top';
	$lc-- while $lc > 0 && $e->{count}[$lc] == 0;
	die 'no neighbour to corrupt' if $e->{count}[$lc] == 0;
	return [ $e->{slots_at}[$lc] + 4 * int(rand($e->{count}[$lc])), pack('V', ($block << 8) | $offset) ];
}

my @element_kinds = (
	[ 'slot names block 0', 0, sub { slot_patch($_[1], 0, 0, 1) } ],
	[ 'slot names the block before the elements', 0, sub { slot_patch($_[1], 0, $_[0]{first} - 1, 1) } ],
	[ 'slot names a block past the end', 0, sub { slot_patch($_[1], 0, $_[0]{nblocks} + 7, 1) } ],
	[ 'slot names offset 0', 0, sub { slot_patch($_[1], 0, $_[0]{first}, 0) } ],
	[ 'slot names offset 255', 0, sub { slot_patch($_[1], 0, $_[0]{first}, 255) } ],
	[ 'entry point slot names a block past the end', 1, sub { slot_patch($_[1], 'top', $_[0]{nblocks} + 1, 1) } ],
	[ 'entry point slot names offset 255', 1, sub { slot_patch($_[1], 'top', $_[0]{first}, 255) } ],
	[ 'count above 2m', 0,
		sub { [ $_[1]{counts_at}, pack('C', 2 * $_[0]{m} + 1 + int(rand(254 - 2 * $_[0]{m}))) ] } ],
	[ 'entry point count above its top layer\'s room', 1, sub {
		my $room = $_[1]{level} == 0 ? 2 * $_[0]{m} : $_[0]{m};
		[ $_[1]{counts_at} + $_[1]{level}, pack('C', $room + 1 + int(rand(254 - $room))) ] } ],
	[ 'level above max_level', 0,
		sub { [ $_[1]{at} + 1, pack('C', $_[0]{max_level} + 1 + int(rand(254 - $_[0]{max_level}))) ] } ],
	[ 'level one up', 0, sub { [ $_[1]{at} + 1, pack('C', $_[1]{level} + 1) ] } ],
	[ 'entry point level one down', 1, sub { [ $_[1]{at} + 1, pack('C', $_[1]{level} - 1) ] } ],
	[ 'kind', 0, sub { [ $_[1]{at}, pack('C', (0x45 + 1 + int(rand(255))) % 256) ] } ],
	[ 'flags', 0, sub { [ $_[1]{at} + 2, pack('C', 0x04 << int(rand(6))) ] } ],
	[ 'line pointer length', 0,
		sub { [ $_[1]{lp_at}, pack('V', ($_[1]{lp} & 0x1ffff) | (($_[1]{length} + 8 * (1 + int(rand(8)))) << 17)) ] } ],
	[ 'line pointer past the page', 0, sub { [ $_[1]{lp_at}, pack('V', ($_[1]{lp} & ~0x7fff) | 8180) ] } ],
	[ 'line pointer unused', 0, sub { [ $_[1]{lp_at}, pack('V', $_[1]{lp} & ~(3 << 15)) ] } ],);
for my $base (qw(sq8 none e8))
{
	for my $k (@element_kinds)
	{
		my ($what, $entry, $patch) = @$k;
		push @cases, { base => $base, name => "$base: element $what", kind => 'element', entry => $entry,
			patch => $patch };
	}
}

# ---------------------------------------------------------------------------
# Build every case's table and index; remember its scan's rows.
# ---------------------------------------------------------------------------
my $n_cases = scalar @cases;
sub index_lists
{
	my ($c, $i) = @_;
	return qq{SELECT string_agg(l, ' ' ORDER BY qid) FROM (SELECT qid, array_to_string(ARRAY(
	            SELECT id FROM c$i ORDER BY v $base{$c->{base}}{op} q.v LIMIT 10), ',') AS l FROM queries q) s};
}

$node->safe_psql('postgres',
	join('', map {
		"CREATE TABLE c$_ AS SELECT * FROM base_$cases[$_]{base} ORDER BY id;\n"
		  . "CREATE INDEX c${_}_idx ON c$_ USING hnsw (v $base{$cases[$_]{base}}{opclass}) "
		  . "WITH (quantization = '$cases[$_]{base}');\n"
	} 0 .. $#cases));
my $before = $node->safe_psql('postgres',
	'SET enable_seqscan = off; ' . join(' UNION ALL ', map { "SELECT $_, (" . index_lists($cases[$_], $_) . ')' } 0 .. $#cases));
my %before = map { split /\|/, $_, 2 } split /\n/, $before;
my %path = map { split /\|/ } split /\n/,
  $node->safe_psql('postgres', join(' UNION ALL ', map { "SELECT $_, pg_relation_filepath('c${_}_idx')" } 0 .. $#cases));

$node->stop;
for my $i (0 .. $#cases)
{
	my $c = $cases[$i];
	my $file = $node->data_dir . '/' . $path{$i};
	srand(8000 + $i);
	my $meta = read_meta($file);
	is($meta->{quantization}, { none => 0, sq8 => 1, e8 => 2 }->{ $c->{base} }, "$c->{name}: the index stores $c->{base} codes");
	if ($c->{kind} eq 'element')
	{
		my $e = pick_element($file, $meta, $c->{entry});
		my ($at, $bytes) = @{ $c->{patch}->($meta, $e) };
		write_bytes($file, $at, $bytes);
		$c->{keep} = $e->{heap_tid};
	}
	else
	{
		my ($at, $format) = @{ $meta_field{ $c->{field} } };
		my $value = $c->{value}->($meta);
		$c->{name} .= " = $value";
		write_bytes($file, $at, pack($format, $value));
	}
}
$node->start;
my $started = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');

# ---------------------------------------------------------------------------
# Every case: scan, INSERT, scan to the end, VACUUM.
# ---------------------------------------------------------------------------
my $t0 = time;
for my $i (0 .. $#cases)
{
	my $c = $cases[$i];
	my $op = $base{ $c->{base} }{op};
	my $rows = $base{ $c->{base} }{rows};
	my $keep = $c->{keep} ? "AND ctid <> '$c->{keep}'" : '';
	my $walk_sql = "SELECT count(*) || ' ' || count(DISTINCT id) FROM (SELECT id FROM c$i"
	  . " ORDER BY v $op (SELECT v FROM queries WHERE qid = 1) LIMIT 1000000) s";
	my $quote = sub { my $s = shift; $s =~ s/'/''/g; "'$s'" };
	my ($out, $err) = ('', '');
	$node->psql(
		'postgres', qq{
		SELECT try('SELECT count(*) FROM vecdb_index_check(''c${i}_idx'')');
		SET enable_seqscan = off;
		SELECT try(${\ $quote->(index_lists($c, $i)) });
		SELECT try('INSERT INTO c$i VALUES (100000, point(100000, 16)) RETURNING id');
		SET hnsw.iterative_scan = relaxed_order;
		SET hnsw.max_scan_tuples = 100000;
		SELECT try(${\ $quote->($walk_sql) });
		DELETE FROM c$i WHERE id % 7 = 0 $keep;
		},
		stdout => \$out,
		stderr => \$err);
	my ($check, $scan, $insert, $walk) = map { $_ // '' } split /\n/, $out;
	my ($vout, $verr) = ('', '');
	$node->psql('postgres', "\\set VERBOSITY verbose\nVACUUM (INDEX_CLEANUP ON) c$i",
		stdout => \$vout, stderr => \$verr);
	my $vacuum = $verr =~ /ERROR:  (\w+): (.*)/ ? "error:$1:$2" : $verr eq '' ? 'ok:' : "other:$verr";
	my $corrupt = qr/^error:XX00[12]:index "c${i}_idx"/;
	my $ok_or_corrupt = sub { $_[0] =~ $corrupt || $_[0] =~ /^ok:/ };
	if ($c->{kind} eq 'hint')
	{
		like($check, qr/^ok:\d+$/, "$c->{name}: vecdb_index_check finds nothing wrong");
		is($scan, "ok:$before{$i}", "$c->{name}: the scan returns its rows");
		is($insert, 'ok:100000', "$c->{name}: INSERT works");
		is($walk, 'ok:' . ($rows + 1) . ' ' . ($rows + 1), "$c->{name}: a scan to the end returns every row once");
		is($vacuum, 'ok:', "$c->{name}: VACUUM works");
	}
	elsif ($c->{kind} eq 'meta')
	{
		like($check, $corrupt, "$c->{name}: vecdb_index_check fails as corrupt");
		like($scan, $corrupt, "$c->{name}: the scan fails as corrupt");
		like($insert, $corrupt, "$c->{name}: INSERT fails as corrupt");
		like($walk, $corrupt, "$c->{name}: the scan to the end fails as corrupt");
		like($vacuum, $corrupt, "$c->{name}: VACUUM fails as corrupt");
	}
	else
	{
		like($check, $corrupt, "$c->{name}: vecdb_index_check fails as corrupt");
		ok($scan =~ $corrupt || $scan eq "ok:$before{$i}",
			"$c->{name}: the scan fails as corrupt or returns its rows") or diag($scan);
		ok($ok_or_corrupt->($insert), "$c->{name}: INSERT fails as corrupt or works") or diag($insert);
		ok($ok_or_corrupt->($walk), "$c->{name}: the scan to the end fails as corrupt or works") or diag($walk);
		like($vacuum, $corrupt, "$c->{name}: VACUUM fails as corrupt");
	}
	note("$c->{name}: check $check; scan $scan; insert $insert; walk $walk; vacuum $vacuum");
	is($err, '', "$c->{name}: no other error") or diag($err);
}
note('cases run in ' . (time - $t0) . ' s');

is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'), $started, 'the server never restarted');
ok(!$node->log_contains('terminated by signal'), 'no backend crashed');

# ---------------------------------------------------------------------------
# REINDEX: exact lists again (every candidate re-ranked), INSERT and VACUUM
# work.
# ---------------------------------------------------------------------------
$node->safe_psql('postgres', join('', map { "REINDEX INDEX c${_}_idx;\n" } 0 .. $#cases));
my $lists = sub {
	my ($set) = @_;
	return { map { split /\|/, $_, 2 } split /\n/, $node->safe_psql('postgres',
		"$set SET hnsw.ef_search = 200; SET hnsw.rerank_window = 200; "
		  . join(' UNION ALL ', map { "SELECT $_, (" . index_lists($cases[$_], $_) . ')' } 0 .. $#cases)) };
};
my $after = $lists->('SET enable_seqscan = off;');
my $exact = $lists->('SET enable_indexscan = off; SET enable_bitmapscan = off;');
like($node->safe_psql('postgres', 'SET enable_seqscan = off; EXPLAIN (COSTS OFF) ' . index_lists($cases[0], 0)),
	qr/Index Scan using c0_idx/, 'the lists use the index');
for my $i (0 .. $#cases)
{
	is($after->{$i}, $exact->{$i}, "$cases[$i]{name}: after REINDEX the index gives the exact lists");
}
$node->safe_psql('postgres',
	join('', map { "INSERT INTO c$_ VALUES (100001, point(100001, 16)); DELETE FROM c$_ WHERE id % 5 = 0;\n" } 0 .. $#cases));
my ($vout, $verr) = ('', '');
$node->psql('postgres', join('', map { "VACUUM c$_;\n" } 0 .. $#cases), stdout => \$vout, stderr => \$verr);
is($verr, '', 'after REINDEX, INSERT, DELETE and VACUUM work on every index');

is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'), $started, 'the server never restarted');
ok(!$node->log_contains('terminated by signal'), 'no backend crashed');
$node->stop;
done_testing();
