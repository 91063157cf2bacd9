/*
 * ann_client.cpp -- the measuring half of `make bench-ann` (scripts/bench_ann.sh).
 *
 * For one data set, already loaded into table items(id, category, u, c,
 * embedding) of each database named with --db (the database is named after
 * its extension: vecdb or pgvector; the filter columns are
 * bench/fvecs_copy's), over one libpq connection per database:
 *
 *   1. builds the HNSW index (CREATE INDEX timed here, size from
 *      pg_relation_size); a database whose build fails drops out of the run;
 *   2. checks with EXPLAIN that the k-NN query uses that index;
 *   3. runs the query set once untimed (warm-up), then for every ef_search
 *      runs it timed, one query at a time through a prepared statement:
 *      recall@10 against the .ivecs ground truth, QPS, p50/p99 latency; then
 *      EXPLAIN (ANALYZE, BUFFERS) on a sample for shared buffers per query,
 *      and EXPLAIN for the plan it ran with (the planner may leave the index
 *      at a high ef_search: such points are marked and not compared);
 *   4. the same for seven filters -- uncorrelated u < 1000, category = 0,
 *      u < 100, u < 10 and correlated c < 1000, c < 100, c < 10 (10%, 1%,
 *      1%, 0.1%; 10%, 1%, 0.1% of rows) -- on an evenly spaced subset of the
 *      queries (--filter-queries), against an exact brute force computed here
 *      over the ids the filter keeps (read from each database, checked
 *      equal), with the planner's own plan and forced onto the HNSW index
 *      (seq scans, bitmap scans and sorts disabled); with rows per query,
 *      short queries and the scan the plan chose.  With --filter-index, vecdb
 *      also gets u and c in turn as a second key of an HNSW index of its own,
 *      (embedding, u) then (embedding, c), built, measured with the planner's
 *      plan and dropped;
 *   5. writes a markdown report and a recall/QPS SVG, and prints the report.
 *
 * With --ivf (bench_ann.sh's IVF=1) it measures instead, unfiltered only,
 * three indexes each over a connection of its own: vecdb's ivf on items in
 * database vecdb, pgvector's ivfflat on items and its hnsw on items_hnsw (an
 * identical copy, so each is its table's only vector index) in database
 * pgvector; builds them in turn, sweeps ivf.probes / ivfflat.probes
 * (--probes-list) and hnsw.ef_search in --rounds interleaved rounds (medians),
 * with seq scans, bitmap scans and sorts disabled so the rows come from the
 * index measured; interpolates QPS and buffers at recall@10 0.95 and 0.99;
 * times --insert-rows single-row INSERTs per index; see ivf_main().
 *
 * At each point the databases take turns slice by slice through the query
 * set, alternating who goes first, so drifting machine noise (and cache
 * state) falls on both alike; a connection lost to another backend's crash
 * is re-established, and a database whose own queries fail drops out.
 *
 * Connection parameters come from the environment (PGHOST, PGPORT, ...).
 * Run `ann_client --help` for the options.  Needs only libpq:
 *   g++ -std=c++17 -O2 -I$(pg_config --includedir) -o bench/ann_client bench/ann_client.cpp -lpq
 */
#include <algorithm>
#include <chrono>
#include <cmath>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sched.h>

#include <libpq-fe.h>

namespace {

using Clock = std::chrono::steady_clock;
constexpr int K = 10;
const char *const INDEX_NAME = "items_embedding_hnsw";

[[noreturn]] void die(const std::string &msg)
{
    std::fprintf(stderr, "ann_client: %s\n", msg.c_str());
    std::exit(1);
}

/// Without trailing newlines and spaces (libpq's error messages end in one).
std::string trim(std::string s)
{
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    return s;
}

// --- input files ----------------------------------------------------------------

struct Matrix {
    std::size_t n = 0, d = 0;
    std::vector<float> v;
    const float *row(std::size_t i) const { return &v[i * d]; }
};

/// Reads up to `limit` rows of an .fvecs (T = float) or .ivecs (T = int32)
/// file.  (Not eval_util.h's reader: that header pulls in the core library,
/// which this libpq-only client need not link.)
template <class T>
std::vector<std::vector<T>> read_vecs(const std::string &path, std::size_t limit)
{
    FILE *f = std::fopen(path.c_str(), "rb");
    if (!f)
        die("cannot open " + path);
    std::vector<std::vector<T>> rows;
    std::int32_t dim;
    while (rows.size() < limit && std::fread(&dim, 4, 1, f) == 1) {
        if (dim <= 0 || (!rows.empty() && static_cast<std::size_t>(dim) != rows[0].size()))
            die(path + ": row " + std::to_string(rows.size()) + " has dimension " + std::to_string(dim));
        rows.emplace_back(static_cast<std::size_t>(dim));
        if (std::fread(rows.back().data(), 4, rows.back().size(), f) != rows.back().size())
            die(path + ": truncated (gzipped? zcat it first)");
    }
    std::fclose(f);
    if (rows.empty())
        die(path + ": no rows");
    return rows;
}

Matrix to_matrix(const std::vector<std::vector<float>> &rows)
{
    Matrix m;
    m.n = rows.size();
    m.d = rows[0].size();
    m.v.reserve(m.n * m.d);
    for (const auto &r : rows)
        m.v.insert(m.v.end(), r.begin(), r.end());
    return m;
}

/// '[v1,v2,...]' with shortest round-trip floats: the exact fp32 query.
std::string vector_literal(const float *x, std::size_t d)
{
    std::string s = "[";
    char num[32];
    for (std::size_t j = 0; j < d; j++) {
        if (j)
            s += ',';
        s.append(num, std::to_chars(num, num + sizeof num, x[j]).ptr);
    }
    return s + "]";
}

// --- exact distances for the filtered ground truth -------------------------------

enum class Metric { L2, Cosine, IP };

/// What the SQL operator orders by, in double precision (the monotone form:
/// squared L2 orders like L2).
double distance(Metric m, const float *a, const float *b, std::size_t d)
{
    double s = 0, na = 0, nb = 0;
    for (std::size_t j = 0; j < d; j++) {
        if (m == Metric::L2) {
            double t = double(a[j]) - double(b[j]);
            s += t * t;
        } else {
            s += double(a[j]) * double(b[j]);
            na += double(a[j]) * double(a[j]);
            nb += double(b[j]) * double(b[j]);
        }
    }
    switch (m) {
    case Metric::L2:
        return s;
    case Metric::IP:
        return -s;
    case Metric::Cosine:
        return 1.0 - s / std::sqrt(na * nb);
    }
    return 0;
}

/// Exact top-K ids among `ids` (ties by smaller id, like the .ivecs files).
std::vector<int> brute_force(Metric m, const Matrix &base, const float *q, const std::vector<int> &ids)
{
    std::vector<std::pair<double, int>> all;
    all.reserve(ids.size());
    for (int id : ids)
        all.emplace_back(distance(m, q, base.row(static_cast<std::size_t>(id)), base.d), id);
    std::size_t k = std::min<std::size_t>(K, all.size());
    std::partial_sort(all.begin(), all.begin() + k, all.end());
    std::vector<int> top;
    for (std::size_t i = 0; i < k; i++)
        top.push_back(all[i].second);
    return top;
}

// --- filters ---------------------------------------------------------------------------

/// A filtered run's WHERE clause over a column of bench/fvecs_copy's.
struct Filter {
    const char *name;       ///< names the prepared statement
    const char *predicate;  ///< what follows WHERE
    const char *column;     ///< what --filter-index puts in an HNSW index (nullptr: not measured so)
    bool correlated;        ///< the matching rows are the farthest from the mean vector
};

const Filter FILTERS[] = {
    {"u10", "u < 1000", "u", false}, {"category", "category = 0", nullptr, false},
    {"u1", "u < 100", "u", false},   {"u01", "u < 10", "u", false},
    {"c10", "c < 1000", "c", true},  {"c1", "c < 100", "c", true},
    {"c01", "c < 10", "c", true},
};
const char *const FILTER_INDEX_COLUMNS[] = {"u", "c"};

std::string statement_of(const Filter &f) { return std::string("annf_") + f.name; }

// --- libpq ---------------------------------------------------------------------------

struct Db {
    std::string name;  ///< the extension label, also the database name (IVF mode: the index's label)
    std::string table = "items";  ///< what the k-NN statement reads (IVF mode: items_hnsw for pgvector's HNSW)
    PGconn *conn = nullptr;
    bool active = true;
    std::string failure;  ///< why it dropped out
    std::string ext_version, iterative_default = "n/a", max_scan_tuples = "n/a";
    double build_s = 0;
    long long index_bytes = 0, table_bytes = 0;
    std::string plan;  ///< the unfiltered k-NN plan
    bool uses_index = false;
};

/// Runs one statement; returns false (and the error in *err) on failure.
bool run(Db &db, const std::string &sql, PGresult **out = nullptr, std::string *err = nullptr)
{
    PGresult *r = PQexec(db.conn, sql.c_str());
    ExecStatusType st = PQresultStatus(r);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok && err)
        *err = PQresultErrorMessage(r);
    if (ok && out)
        *out = r;
    else
        PQclear(r);
    return ok;
}

void must(Db &db, const std::string &sql)
{
    std::string err;
    if (!run(db, sql, nullptr, &err))
        die(db.name + ": " + sql + ": " + err);
}

/// The first column of the first row, or `fallback` on error / no row.
std::string value(Db &db, const std::string &sql, const std::string &fallback = "n/a")
{
    PGresult *r = nullptr;
    if (!run(db, sql, &r))
        return fallback;
    std::string v = PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : fallback;
    PQclear(r);
    return v;
}

/// All rows of a one-column result, newline-joined.
std::string text(Db &db, const std::string &sql)
{
    PGresult *r = nullptr;
    std::string err;
    if (!run(db, sql, &r, &err))
        return "ERROR: " + err;
    std::string s;
    for (int i = 0; i < PQntuples(r); i++)
        s += std::string(PQgetvalue(r, i, 0)) + "\n";
    PQclear(r);
    return s;
}

struct Config {
    std::string dataset, metric_name = "l2", base_path, query_path, gt_path, report_path, svg_path;
    Metric metric = Metric::L2;
    std::size_t queries = 1000, filter_queries = 200, buffer_sample = 50;
    double min_seconds = 2;
    std::size_t chunks = 10;
    std::vector<int> ef_list{10, 20, 40, 80, 120, 200, 400}, filter_ef_list{40, 200};
    int m = 16, ef_construction = 64;
    bool filter_index = false;  ///< also measure vecdb with the filter column inside an HNSW index
    // IVF mode (--ivf): vecdb's ivf against pgvector's ivfflat and hnsw; no filtered runs.
    bool ivf = false;
    int ivf_lists = 0;  ///< lists of both IVF indexes (0: rows / 1000 rounded, at least 10)
    std::vector<int> probes_list{1, 2, 4, 8, 16, 32, 64};
    std::size_t rounds = 3, insert_rows = 2000;
    std::string maintenance_work_mem = "1GB", vecdb_opts, pgvector_iterative = "relaxed_order";
    std::vector<std::string> dbs, notes;
    std::string type = "vector";  ///< the column's type (--type): vector or halfvec
    const char *op() const { return metric == Metric::L2 ? "<->" : metric == Metric::Cosine ? "<=>" : "<#>"; }
    std::string opclass() const
    {
        return type + (metric == Metric::L2 ? "_l2_ops" : metric == Metric::Cosine ? "_cosine_ops" : "_ip_ops");
    }
};

bool prepare_statements(Db &db, const Config &c);

/// Session settings every measurement relies on; also re-applied after a
/// reconnect.  Parallel query and JIT off: one backend does the whole query.
bool setup_session(Db &db, const Config &c)
{
    std::string sql = std::string("SET jit = off; SET max_parallel_workers_per_gather = 0; ") +
                      "SET statement_timeout = '120s'; SET maintenance_work_mem = '" + c.maintenance_work_mem + "';";
    return run(db, sql) && prepare_statements(db, c);
}

/// (Re)prepares "ann" and one "annf_<filter>" per filter.  Done before
/// every measurement: the plan cache ignores changes to enable_* settings,
/// so a generic plan cached under one setting would otherwise be reused
/// under the next.
bool prepare_statements(Db &db, const Config &c)
{
    if (!run(db, "DEALLOCATE ALL"))
        return false;
    std::vector<std::pair<std::string, std::string>> statements{{"ann", ""}};
    for (const Filter &f : FILTERS)
        statements.emplace_back(statement_of(f), std::string("WHERE ") + f.predicate + " ");
    for (const auto &[stmt, where] : statements) {
        std::string q = "SELECT id FROM " + db.table + " " + where + "ORDER BY embedding " + c.op() +
                        " $1::" + c.type + " LIMIT " + std::to_string(K);
        PGresult *r = PQprepare(db.conn, stmt.c_str(), q.c_str(), 1, nullptr);
        bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (!ok)
            return false;
    }
    return true;
}

void drop_out(Db &db, const std::string &why)
{
    std::string w = trim(why);
    std::fprintf(stderr, "ann_client: %s drops out: %s\n", db.name.c_str(), w.c_str());
    db.active = false;
    db.failure = w;
}

/// CREATE INDEX <name> ON items USING hnsw (<keys>) with the run's build
/// parameters, vecdb's own options added in database vecdb.
std::string create_index_sql(const Config &c, const Db &db, const std::string &name, const std::string &keys)
{
    return "CREATE INDEX " + name + " ON items USING hnsw (" + keys + ") WITH (m = " + std::to_string(c.m) +
           ", ef_construction = " + std::to_string(c.ef_construction) + (db.name == "vecdb" ? c.vecdb_opts : "") + ")";
}

/// Runs a CREATE INDEX without the statement timeout, timing it in
/// *seconds; on success checkpoints, so the build's dirty pages are written
/// out now rather than during timed queries, and returns the index's size.
/// Returns -1 (with *err) if the build fails.
long long build_index(Db &db, const std::string &sql, const std::string &name, double *seconds, std::string *err)
{
    std::printf("%s: %s\n", db.name.c_str(), sql.c_str());
    std::fflush(stdout);
    must(db, "SET statement_timeout = 0");
    Clock::time_point t0 = Clock::now();
    bool ok = run(db, sql, nullptr, err);
    *seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    // Not must(): a build that crashed its backend took the connection
    // along, and a reconnect sets the timeout again.
    run(db, "SET statement_timeout = '120s'");
    if (!ok)
        return -1;
    must(db, "CHECKPOINT");
    long long bytes = std::atoll(value(db, "SELECT pg_relation_size('" + name + "')").c_str());
    std::printf("%s: built %s in %.1f s, %.1f MB\n", db.name.c_str(), name.c_str(), *seconds, bytes / 1048576.0);
    return bytes;
}

/// A crash in one backend restarts the whole server, so the other
/// database's connection may be gone too: reconnect (waiting out recovery)
/// rather than lose both.
bool ensure_connected(Db &db, const Config &c)
{
    if (run(db, "SELECT 1"))
        return true;
    for (int attempt = 0; attempt < 60; attempt++) {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        PQreset(db.conn);
        if (PQstatus(db.conn) == CONNECTION_OK && setup_session(db, c)) {
            std::fprintf(stderr, "ann_client: %s: reconnected\n", db.name.c_str());
            return true;
        }
    }
    return false;
}

// --- measurements ------------------------------------------------------------------------

struct Point {
    std::string db, filter, mode, plan;  ///< filter: "" unfiltered; plan: its node lines
    std::string scan;                    ///< plan_scan(): what produced the rows
    bool hnsw = true;                    ///< the plan used the HNSW index
    int ef = 0;
    std::size_t passes = 0;
    double recall = 0, qps = 0, p50 = 0, p99 = 0, rows = 0, buffers = -1;
    double short_queries = 0;  ///< fraction of executions with fewer rows than the exact answer
};

struct Workload {
    std::string stmt;                          ///< "ann" or "annf_<filter>"
    std::string filter;                        ///< the filter's name, "" for none
    const std::vector<std::string> *literals;  ///< query vectors as text
    std::vector<std::vector<int>> truth;       ///< exact top-K ids per query (fewer if the filter keeps fewer)
};

double percentile(std::vector<double> sorted, double p)
{
    std::sort(sorted.begin(), sorted.end());
    std::size_t rank = static_cast<std::size_t>(std::ceil(p * sorted.size()));
    return sorted[std::min(sorted.size() - 1, rank ? rank - 1 : 0)];
}

/// What one database's executions at one point add up to.
struct Tally {
    std::vector<double> ms;  ///< latency of every execution
    double hits = 0, expected = 0, rows = 0, short_queries = 0, seconds = 0;
    std::size_t passes = 0;
    bool done = false;  ///< has run min_seconds in whole passes
};

/// Runs queries [lo, hi) of the set once each, adding to `t`.  Returns false
/// (with *err) if a query fails.
bool run_queries(Db &db, const Workload &w, std::size_t lo, std::size_t hi, Tally &t, std::string *err)
{
    Clock::time_point start = Clock::now();
    for (std::size_t i = lo; i < hi; i++) {
        const char *param = (*w.literals)[i].c_str();
        Clock::time_point t0 = Clock::now();
        PGresult *r = PQexecPrepared(db.conn, w.stmt.c_str(), 1, &param, nullptr, nullptr, 0);
        t.ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            *err = PQresultErrorMessage(r);
            PQclear(r);
            return false;
        }
        const std::vector<int> &truth = w.truth[i];
        for (int j = 0; j < PQntuples(r); j++) {
            int id = std::atoi(PQgetvalue(r, j, 0));
            t.hits += std::find(truth.begin(), truth.end(), id) != truth.end();
        }
        t.expected += truth.size();
        t.rows += PQntuples(r);
        t.short_queries += static_cast<std::size_t>(PQntuples(r)) < truth.size();
        PQclear(r);
    }
    t.seconds += std::chrono::duration<double>(Clock::now() - start).count();
    return true;
}

/// Mean "Shared Hit Blocks" + "Shared Read Blocks" of the top plan node
/// (which includes its children: index and heap) over an evenly spread
/// sample.  In EXPLAIN's JSON a node's own fields precede its "Plans" and the
/// "Planning" section follows "Plan", so the first occurrences are the top
/// node's.
double buffers_per_query(Db &db, const Workload &w, std::size_t sample)
{
    const auto &lits = *w.literals;
    sample = std::min(sample, lits.size());
    if (sample == 0)
        return -1;
    double total = 0;
    for (std::size_t s = 0; s < sample; s++) {
        const std::string &q = lits[s * lits.size() / sample];
        std::string json =
            value(db, std::string("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE ") + w.stmt + "('" + q + "')", "");
        for (const char *key : {"\"Shared Hit Blocks\": ", "\"Shared Read Blocks\": "}) {
            std::size_t at = json.find(key);
            if (at == std::string::npos)
                return -1;
            total += std::atof(json.c_str() + at + std::strlen(key));
        }
    }
    return total / sample;
}

/// The plan's node lines only ("Limit -> Index Scan using ... on items"),
/// for a table cell; the full text goes in the report's plan section.
std::string plan_summary(const std::string &plan)
{
    std::istringstream in(plan);
    std::string line, out;
    bool first = true;
    while (std::getline(in, line)) {
        std::size_t arrow = line.find("->  ");
        if (!first && arrow == std::string::npos)
            continue;
        std::string node = first ? line : line.substr(arrow + 4);
        out += (first ? "" : " → ") + node;
        first = false;
    }
    return out;
}

/// What produced the rows, for a table cell: "hnsw" (the main HNSW
/// index), another HNSW index by name, "btree" (an index scan of a filter's
/// btree), "bitmap" (a bitmap scan of one), "seq", or the plan's first line.
std::string plan_scan(const std::string &plan)
{
    // "Index Scan using <name> on items" or "Index Only Scan using ...";
    // bitmap index scans say "on <name>".
    std::size_t at = plan.find(" Scan using ");
    if (at != std::string::npos) {
        at += std::strlen(" Scan using ");
        std::string index = plan.substr(at, plan.find(' ', at) - at);
        if (index == INDEX_NAME)
            return "hnsw";
        return index.size() > 5 && index.compare(index.size() - 5, 5, "_hnsw") == 0 ? index : "btree";
    }
    if (plan.find("Bitmap Heap Scan") != std::string::npos)
        return "bitmap";
    if (plan.find("Seq Scan") != std::string::npos)
        return "seq";
    return plan.substr(0, plan.find('\n'));
}

/// The text plan, with the query vector shortened to '[...]'.
std::string explain(Db &db, const std::string &stmt, const std::string &literal)
{
    std::string plan = text(db, std::string("EXPLAIN (COSTS OFF) EXECUTE ") + stmt + "('" + literal + "')");
    for (std::size_t at = 0; (at = plan.find("'[", at)) != std::string::npos; at += 2) {
        std::size_t end = plan.find("]'", at);
        if (end == std::string::npos)
            break;
        plan.replace(at + 2, end - at - 2, "...");
    }
    return plan;
}

bool is_hnsw_plan(const std::string &plan) { return plan.find(std::string("using ") + INDEX_NAME) != std::string::npos; }

// --- report ---------------------------------------------------------------------------

std::string fmt(const char *f, double x)
{
    char b[64];
    std::snprintf(b, sizeof b, f, x);
    return b;
}

std::string cpu_model()
{
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("model name", 0) == 0)
            return line.substr(line.find(':') + 2);
    return "unknown";
}

/// The first three fields of /proc/loadavg: other work on the machine is noise here.
std::string load_average()
{
    std::ifstream in("/proc/loadavg");
    std::string a, b, c;
    in >> a >> b >> c;
    return a + " " + b + " " + c;
}

int online_cpus()
{
    cpu_set_t set;
    return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
}

const char *colour(const std::string &db)
{
    if (db == "vecdb" || db == "vecdb-ivf")
        return "#d62728";
    return db == "pgvector" || db == "pgvector-hnsw" ? "#1f77b4" : "#2ca02c";
}

/// Recall (x, linear) against QPS (y, log) with one polyline per database
/// (IVF mode: per index), each point labelled with its Point::ef.
std::string svg_plot(const std::string &title, const std::vector<Point> &pts, const std::vector<std::string> &dbs)
{
    const double W = 760, H = 500, L = 80, R = 30, T = 50, B = 60;
    double xmin = 0.8, qmin = 1e300, qmax = 0;
    for (const Point &p : pts) {
        xmin = std::min(xmin, std::floor(p.recall * 20) / 20);
        qmin = std::min(qmin, p.qps);
        qmax = std::max(qmax, p.qps);
    }
    if (pts.empty())
        qmin = 1, qmax = 10;
    double ylo = std::floor(std::log10(qmin)), yhi = std::ceil(std::log10(qmax));
    if (yhi <= ylo)
        yhi = ylo + 1;
    auto X = [&](double r) { return L + (r - xmin) / (1.0 - xmin) * (W - L - R); };
    auto Y = [&](double q) { return H - B - (std::log10(q) - ylo) / (yhi - ylo) * (H - T - B); };

    std::ostringstream s;
    s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H << "\" viewBox=\"0 0 " << W
      << ' ' << H << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << W / 2 << "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">" << title << "</text>\n";
    // Grid and ticks: recall every 0.02 (0.05 if the range is wide), QPS at 1, 2, 5 x 10^k.
    double step = 1.0 - xmin > 0.25 ? 0.05 : 0.02;
    for (double r = xmin; r <= 1.0 + 1e-9; r += step) {
        s << "<line x1=\"" << X(r) << "\" y1=\"" << T << "\" x2=\"" << X(r) << "\" y2=\"" << H - B
          << "\" stroke=\"#ddd\"/>\n<text x=\"" << X(r) << "\" y=\"" << H - B + 18 << "\" text-anchor=\"middle\">"
          << fmt("%.2f", r) << "</text>\n";
    }
    for (double e = ylo; e < yhi + 1e-9; e++)
        for (double mult : {1.0, 2.0, 5.0}) {
            double q = mult * std::pow(10.0, e);
            if (std::log10(q) > yhi + 1e-9)
                break;
            s << "<line x1=\"" << L << "\" y1=\"" << Y(q) << "\" x2=\"" << W - R << "\" y2=\"" << Y(q)
              << "\" stroke=\"" << (mult == 1 ? "#bbb" : "#eee") << "\"/>\n<text x=\"" << L - 6 << "\" y=\""
              << Y(q) + 4 << "\" text-anchor=\"end\">" << fmt("%g", q) << "</text>\n";
        }
    s << "<rect x=\"" << L << "\" y=\"" << T << "\" width=\"" << W - L - R << "\" height=\"" << H - T - B
      << "\" fill=\"none\" stroke=\"black\"/>\n"
      << "<text x=\"" << (L + W - R) / 2 << "\" y=\"" << H - 18 << "\" text-anchor=\"middle\">recall@10</text>\n"
      << "<text transform=\"translate(20," << (T + H - B) / 2
      << ") rotate(-90)\" text-anchor=\"middle\">queries per second (log scale)</text>\n";

    int legend = 0;
    for (const std::string &db : dbs) {
        std::vector<const Point *> line;
        for (const Point &p : pts)
            if (p.db == db)
                line.push_back(&p);
        if (line.empty())
            continue;
        std::sort(line.begin(), line.end(), [](const Point *a, const Point *b) { return a->ef < b->ef; });
        s << "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"" << colour(db) << "\" points=\"";
        for (const Point *p : line)
            s << X(p->recall) << ',' << Y(p->qps) << ' ';
        s << "\"/>\n";
        for (const Point *p : line)
            s << "<circle cx=\"" << X(p->recall) << "\" cy=\"" << Y(p->qps) << "\" r=\"3.5\" fill=\"" << colour(db)
              << "\"/>\n<text x=\"" << X(p->recall) + 5 << "\" y=\"" << Y(p->qps) - 6 << "\" font-size=\"10\" fill=\""
              << colour(db) << "\">" << p->ef << "</text>\n";
        double ly = H - B - 20 * static_cast<double>(dbs.size() - legend++);  // bottom left, top down
        s << "<line x1=\"" << L + 15 << "\" y1=\"" << ly << "\" x2=\"" << L + 45 << "\" y2=\"" << ly
          << "\" stroke-width=\"2\" stroke=\"" << colour(db) << "\"/>\n<text x=\"" << L + 52 << "\" y=\"" << ly + 4
          << "\">" << db << "</text>\n";
    }
    s << "</svg>\n";
    return s.str();
}

// --- IVF mode (--ivf) ------------------------------------------------------------------
//
// vecdb's ivf index against pgvector's ivfflat and hnsw, unfiltered only.
// Every index is its table's only vector index, so the plan cannot pick
// another: database pgvector holds items (ivfflat) and items_hnsw (hnsw), an
// identical copy made by bench_ann.sh; each index has a connection of its
// own.  Build one after the other; warm up; then ROUNDS rounds of the sweep,
// each point interleaving the indexes slice by slice as the HNSW mode does
// (QPS, p50, p99: medians over the rounds); then single-row inserts,
// interleaved the same way.

/// One index measured in IVF mode.
struct Target {
    Db db;  ///< db.name: the label ("vecdb-ivf", ...); db.table: its table
    std::string database, index, guc, param_name, create_sql, version;
    std::vector<int> params;  ///< the sweep: values of guc
    std::string build_error;  ///< why CREATE INDEX failed; "" if built
    double build_s = 0;
    long long index_bytes = 0, table_bytes = 0, index_bytes_after = 0;
    std::string settings, plan;  ///< settings: its extension's GUCs for this AM (reset values)
    std::string guc_type;        ///< pg_settings.vartype of guc after the warm-up ("integer" expected)
    bool uses_index = false;
    std::vector<double> insert_ms;
    double insert_s = 0;
    std::string insert_error;
    bool built() const { return build_error.empty(); }
    /// What a failed build shows in a table cell: "access method ... does not exist" is unsupported.
    const char *not_built() const
    {
        return build_error.find("does not exist") != std::string::npos ? "unsupported" : "build failed";
    }
};

/// One sweep point of one index over all rounds.
struct IvfPoint {
    Point p;  ///< p.ef: the parameter's value; p.hnsw: the plan used the index measured
    std::vector<double> qps, p50, p99;  ///< one per round
    double hits = 0, expected = 0;
};

double median(std::vector<double> v)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

bool plan_uses(const std::string &plan, const std::string &index)
{
    return plan.find("using " + index + " on ") != std::string::npos;
}

/// QPS and buffers/query at recall@10 = target on a curve (its points on
/// the index, by parameter), linearly interpolated between the last point
/// below the target and the first at or above it.  If the first point is
/// already above, its values are bounds (QPS at least, buffers at most).
struct AtRecall {
    bool reached = false, bound = false;
    double qps = 0, buffers = -1;
};

AtRecall at_recall(const std::vector<const Point *> &curve, double target)
{
    AtRecall a;
    for (std::size_t i = 0; i < curve.size(); i++) {
        const Point &hi = *curve[i];
        if (hi.recall < target)
            continue;
        a.reached = true;
        if (i == 0) {
            a.bound = true;
            a.qps = hi.qps;
            a.buffers = hi.buffers;
            return a;
        }
        const Point &lo = *curve[i - 1];
        double f = (target - lo.recall) / (hi.recall - lo.recall);
        a.qps = lo.qps + f * (hi.qps - lo.qps);
        if (lo.buffers >= 0 && hi.buffers >= 0)
            a.buffers = lo.buffers + f * (hi.buffers - lo.buffers);
        return a;
    }
    return a;
}

int ivf_main(Config &c, const Matrix &base, const std::vector<std::string> &literals,
             std::vector<std::vector<int>> truth, const std::string &load_at_start)
{
    int lists = c.ivf_lists > 0 ? c.ivf_lists
                                : std::max(10, static_cast<int>(std::lround(static_cast<double>(base.n) / 1000)));
    std::vector<int> probes;
    for (int p : c.probes_list)
        if (p >= 1 && p <= lists)
            probes.push_back(p);
    if (probes.empty())
        die("no value of the probes list is between 1 and lists = " + std::to_string(lists));

    // The indexes, in build order: vecdb's, then pgvector's two.
    std::vector<Target> targets;
    targets.reserve(3);
    std::string keys = std::string("embedding ") + c.opclass();
    for (const std::string &database : c.dbs) {
        if (database == "vecdb") {
            Target t;
            t.db.name = "vecdb-ivf";
            t.database = database;
            t.index = "items_embedding_ivf";
            t.guc = "ivf.probes";
            t.param_name = "probes";
            t.params = probes;
            t.create_sql = "CREATE INDEX " + t.index + " ON items USING ivf (" + keys +
                           ") WITH (lists = " + std::to_string(lists) + c.vecdb_opts + ")";
            targets.push_back(t);
        } else if (database == "pgvector") {
            Target t;
            t.db.name = "pgvector-ivfflat";
            t.database = database;
            t.index = "items_embedding_ivfflat";
            t.guc = "ivfflat.probes";
            t.param_name = "probes";
            t.params = probes;
            t.create_sql = "CREATE INDEX " + t.index + " ON items USING ivfflat (" + keys +
                           ") WITH (lists = " + std::to_string(lists) + ")";
            targets.push_back(t);
            Target h;
            h.db.name = "pgvector-hnsw";
            h.db.table = "items_hnsw";
            h.database = database;
            h.index = "items_hnsw_embedding_hnsw";
            h.guc = "hnsw.ef_search";
            h.param_name = "ef_search";
            h.params = c.ef_list;
            h.create_sql = "CREATE INDEX " + h.index + " ON items_hnsw USING hnsw (" + keys + ") WITH (m = " +
                           std::to_string(c.m) + ", ef_construction = " + std::to_string(c.ef_construction) + ")";
            targets.push_back(h);
        } else {
            die("--ivf knows databases vecdb and pgvector, not " + database);
        }
    }
    for (Target &t : targets) {
        t.db.conn = PQconnectdb(("dbname=" + t.database).c_str());
        if (PQstatus(t.db.conn) != CONNECTION_OK)
            die(t.db.name + ": " + PQerrorMessage(t.db.conn));
        if (!setup_session(t.db, c))
            die(t.db.name + ": session setup failed: " + PQerrorMessage(t.db.conn));
        t.version = value(t.db, "SELECT extname || ' ' || extversion FROM pg_extension WHERE extname IN "
                                "('vecdb', 'vector')");
    }
    Db &any = targets[0].db;
    std::string pg_version = value(any, "SHOW server_version");
    std::string shared_buffers = value(any, "SHOW shared_buffers");
    std::string maint_workers = value(any, "SHOW max_parallel_maintenance_workers");
    std::string max_workers = value(any, "SHOW max_parallel_workers");

    // 1. Build, one index after the other.  A failed build (vecdb without
    // an ivf access method, say) leaves that index out; the others go on.
    for (Target &t : targets) {
        if (!ensure_connected(t.db, c))  // an earlier build's crash restarted the server
            die(t.db.name + ": connection lost and not regained");
        must(t.db, "DROP INDEX IF EXISTS " + t.index);
        t.index_bytes = build_index(t.db, t.create_sql, t.index, &t.build_s, &t.build_error);
        if (t.index_bytes < 0) {
            t.index_bytes = 0;
            t.build_error = trim(t.build_error.empty() ? "CREATE INDEX failed" : t.build_error);
            std::fprintf(stderr, "ann_client: %s: CREATE INDEX failed, left out: %s\n", t.db.name.c_str(),
                         t.build_error.c_str());
            t.db.active = false;
            ensure_connected(t.db, c);  // a crashed build may have taken the others' connections along
            continue;
        }
        t.table_bytes = std::atoll(value(t.db, "SELECT pg_table_size('" + t.db.table + "')").c_str());
    }

    Workload plain{"ann", "", &literals, std::move(truth)};
    auto apply = [&](Target &t, int param) {
        std::string set = "SET " + t.guc + " = " + std::to_string(param) +
                          "; SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off;";
        std::string err;
        if (!run(t.db, set, nullptr, &err))
            drop_out(t.db, err);
        else if (!prepare_statements(t.db, c))
            drop_out(t.db, std::string("PREPARE failed: ") + PQerrorMessage(t.db.conn));
        return t.db.active;
    };

    // 2. Plan check and warm-up at each index's widest setting.
    for (Target &t : targets) {
        if (!t.db.active)
            continue;
        int widest = *std::max_element(t.params.begin(), t.params.end());
        if (!apply(t, widest))
            continue;
        t.plan = explain(t.db, "ann", literals[0]);
        t.uses_index = plan_uses(t.plan, t.index);
        if (!t.uses_index)
            std::fprintf(stderr, "ann_client: WARNING: %s's k-NN plan does not use %s:\n%s", t.db.name.c_str(),
                         t.index.c_str(), t.plan.c_str());
        Tally warm;
        std::string err;
        if (!run_queries(t.db, plain, 0, literals.size(), warm, &err))
            drop_out(t.db, "warm-up query failed: " + err);
        // A custom GUC nobody defines is a settable placeholder (a string):
        // the sweep would then change nothing.
        t.guc_type = value(t.db, "SELECT vartype FROM pg_settings WHERE name = '" + t.guc + "'", "missing");
        if (t.guc_type != "integer")
            std::fprintf(stderr, "ann_client: WARNING: %s: %s is %s, not an integer setting of the extension\n",
                         t.db.name.c_str(), t.guc.c_str(), t.guc_type.c_str());
        std::string prefix = t.guc.substr(0, t.guc.find('.') + 1);
        t.settings = value(t.db,
                           "SELECT string_agg(name || ' = ' || reset_val, ', ' ORDER BY name) FROM pg_settings "
                           "WHERE name LIKE '" + prefix + "%'", "");
    }

    // 3. The sweep: step i runs the i-th value of each index's list, the
    // indexes taking turns slice by slice (who goes first alternating),
    // each in whole passes until it has spent min_seconds; rounds outermost.
    std::map<std::pair<std::size_t, std::size_t>, IvfPoint> pts;  // (target, step)
    std::size_t steps = 0, turn = 0;
    for (const Target &t : targets)
        steps = std::max(steps, t.params.size());
    auto measure = [&](std::size_t step, std::size_t round) {
        std::vector<std::size_t> part;
        for (std::size_t k = 0; k < targets.size(); k++) {
            Target &t = targets[k];
            if (!t.db.active || step >= t.params.size())
                continue;
            if (!ensure_connected(t.db, c))
                drop_out(t.db, "connection lost and not regained");
            else if (apply(t, t.params[step]))
                part.push_back(k);
        }
        std::map<std::size_t, Tally> tally;
        std::size_t n = literals.size(), chunks = std::min<std::size_t>(c.chunks, n);
        for (bool more = !part.empty(); more;) {
            for (std::size_t r = 0; r < chunks; r++, turn++)
                for (std::size_t j = 0; j < part.size(); j++) {
                    std::size_t k = part[turn % 2 ? part.size() - 1 - j : j];
                    Target &t = targets[k];
                    Tally &tl = tally[k];
                    if (!t.db.active || tl.done)
                        continue;
                    // A lost connection may be another backend's crash: the
                    // slice runs again once on a new connection.
                    const Tally before = tl;
                    std::string err;
                    bool ok = false;
                    for (int attempt = 0; !ok && attempt < 2; attempt++) {
                        if (attempt && !(PQstatus(t.db.conn) == CONNECTION_BAD && ensure_connected(t.db, c) &&
                                         apply(t, t.params[step])))
                            break;
                        ok = run_queries(t.db, plain, r * n / chunks, (r + 1) * n / chunks, tl, &err);
                        if (!ok)
                            tl = before;
                    }
                    if (!ok && t.db.active)
                        drop_out(t.db, t.guc + " = " + std::to_string(t.params[step]) + ": query failed: " + err);
                }
            more = false;
            for (std::size_t k : part) {
                Tally &tl = tally[k];
                if (targets[k].db.active && !tl.done) {
                    tl.passes++;
                    tl.done = tl.seconds >= c.min_seconds;
                    more = more || !tl.done;
                }
            }
        }
        for (std::size_t k : part) {
            Target &t = targets[k];
            const Tally &tl = tally[k];
            if (!t.db.active || tl.ms.empty())
                continue;
            IvfPoint &ip = pts[{k, step}];
            Point &p = ip.p;
            p.db = t.db.name;
            p.mode = "sweep";
            p.ef = t.params[step];
            p.passes += tl.passes;
            ip.qps.push_back(tl.ms.size() / tl.seconds);
            ip.p50.push_back(percentile(tl.ms, 0.50));
            ip.p99.push_back(percentile(tl.ms, 0.99));
            ip.hits += tl.hits;
            ip.expected += tl.expected;
            p.recall = ip.expected ? ip.hits / ip.expected : 1;
            p.qps = median(ip.qps);
            p.p50 = median(ip.p50);
            p.p99 = median(ip.p99);
            if (round == 0) {  // buffers and the plan the statement settled on, once
                p.buffers = buffers_per_query(t.db, plain, c.buffer_sample);
                std::string plan = explain(t.db, "ann", literals.front());
                p.plan = plan_summary(plan);
                p.hnsw = plan_uses(plan, t.index);
                if (!p.hnsw)
                    std::fprintf(stderr, "ann_client: WARNING: %s ran the k-NN query at %s = %d without %s:\n%s",
                                 t.db.name.c_str(), t.guc.c_str(), p.ef, t.index.c_str(), plan.c_str());
            }
            std::printf("  round %zu  %-16s %-9s %4d  recall %.4f  %8.1f QPS  p50 %.3f ms  p99 %.3f ms  buffers "
                        "%7.1f  (%zu pass%s)\n",
                        round + 1, t.db.name.c_str(), t.param_name.c_str(), p.ef, tl.hits / tl.expected,
                        ip.qps.back(), ip.p50.back(), ip.p99.back(), p.buffers, tl.passes,
                        tl.passes == 1 ? "" : "es");
            std::fflush(stdout);
        }
    };
    for (std::size_t round = 0; round < c.rounds; round++) {
        std::printf("sweep, round %zu of %zu:\n", round + 1, c.rounds);
        for (std::size_t step = 0; step < steps; step++)
            measure(step, round);
    }

    // 4. Single-row inserts: rows of the table plus a little noise, one
    // autocommitted INSERT each (synchronous_commit off: the index's work,
    // not the WAL flush), the indexes taking turns slice by slice.
    std::vector<std::string> new_rows;
    {
        std::mt19937_64 rng(42);
        std::normal_distribution<double> gauss(0, 1);
        std::vector<float> x(base.d);
        for (std::size_t i = 0; i < c.insert_rows; i++) {
            const float *src = base.row((i * 7919) % base.n);
            double rms = 0;
            for (std::size_t j = 0; j < base.d; j++)
                rms += double(src[j]) * src[j];
            rms = std::sqrt(rms / base.d);
            for (std::size_t j = 0; j < base.d; j++)
                x[j] = static_cast<float>(src[j] + 0.01 * rms * gauss(rng));
            new_rows.push_back(vector_literal(x.data(), base.d));
        }
    }
    std::map<std::size_t, long long> first_id;
    auto prepare_insert = [&](Target &t) {
        if (!run(t.db, "SET synchronous_commit = off"))
            return false;
        std::string q =
            "INSERT INTO " + t.db.table + " (id, category, u, c, embedding) VALUES ($1, -1, -1, -1, $2::vector)";
        PGresult *r = PQprepare(t.db.conn, "ins", q.c_str(), 2, nullptr);
        bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok)
            t.insert_error = trim(PQresultErrorMessage(r));
        PQclear(r);
        return ok;
    };
    std::vector<std::size_t> inserting;
    if (!new_rows.empty()) {
        for (std::size_t k = 0; k < targets.size(); k++) {
            Target &t = targets[k];
            if (!t.db.active || !ensure_connected(t.db, c) || !prepare_insert(t))
                continue;
            first_id[k] = std::atoll(value(t.db, "SELECT coalesce(max(id), -1) + 1 FROM " + t.db.table, "0").c_str());
            inserting.push_back(k);
        }
        std::printf("single-row inserts: %zu rows per index\n", new_rows.size());
    }
    std::size_t n_ins = new_rows.size(), ins_chunks = std::min<std::size_t>(c.chunks, std::max<std::size_t>(1, n_ins));
    for (std::size_t r = 0; r < ins_chunks && n_ins; r++, turn++)
        for (std::size_t j = 0; j < inserting.size(); j++) {
            std::size_t k = inserting[turn % 2 ? inserting.size() - 1 - j : j];
            Target &t = targets[k];
            if (!t.insert_error.empty())
                continue;
            Clock::time_point start = Clock::now();
            for (std::size_t i = r * n_ins / ins_chunks; i < (r + 1) * n_ins / ins_chunks; i++) {
                std::string id = std::to_string(first_id[k] + static_cast<long long>(i));
                const char *params[2] = {id.c_str(), new_rows[i].c_str()};
                Clock::time_point t0 = Clock::now();
                PGresult *res = PQexecPrepared(t.db.conn, "ins", 2, params, nullptr, nullptr, 0);
                t.insert_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
                bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
                if (!ok)
                    t.insert_error = trim(PQresultErrorMessage(res));
                PQclear(res);
                if (!ok) {
                    std::fprintf(stderr, "ann_client: %s: INSERT failed: %s\n", t.db.name.c_str(),
                                 t.insert_error.c_str());
                    ensure_connected(t.db, c);
                    break;
                }
            }
            t.insert_s += std::chrono::duration<double>(Clock::now() - start).count();
        }
    for (std::size_t k : inserting) {
        Target &t = targets[k];
        t.index_bytes_after = std::atoll(value(t.db, "SELECT pg_relation_size('" + t.index + "')", "0").c_str());
        if (t.insert_error.empty())
            std::printf("  %-16s %zu rows in %.2f s: %.1f rows/s, p50 %.3f ms, p99 %.3f ms\n", t.db.name.c_str(),
                        t.insert_ms.size(), t.insert_s, t.insert_ms.size() / t.insert_s,
                        percentile(t.insert_ms, 0.5), percentile(t.insert_ms, 0.99));
    }

    // 5. Report.
    std::vector<std::string> names;
    for (const Target &t : targets)
        names.push_back(t.db.name);
    std::ostringstream md;
    md << "# ANN benchmark, IVF: " << c.dataset << "\n\n";
    md << "- data: " << base.n << " x " << base.d << ", metric " << c.metric_name << " (`" << c.op() << "`, "
       << c.opclass() << "), " << literals.size() << " queries, recall@" << K
       << " against the data set's ground truth\n";
    md << "- machine: " << online_cpus() << " CPUs (nproc), " << cpu_model() << "; load average (1/5/15 min) "
       << load_at_start << " at start, " << load_average() << " at end\n";
    md << "- PostgreSQL " << pg_version << "; shared_buffers " << shared_buffers << ", maintenance_work_mem "
       << c.maintenance_work_mem << " (all builds), max_parallel_maintenance_workers " << maint_workers
       << " (server default; max_parallel_workers " << max_workers << ")\n";
    md << "- indexes (lists = " << lists << " for both IVF indexes"
       << (c.ivf_lists > 0 ? "" : ": rows / 1000 rounded, at least 10") << "):\n";
    for (const Target &t : targets)
        md << "  - " << t.db.name << " (" << t.version << ", database " << t.database << ", table " << t.db.table
           << "): `" << t.create_sql << "`; sweep `" << t.guc << "`"
           << (t.settings.empty() ? "" : "; defaults: " + t.settings) << "\n";
    md << "- pgvector's two indexes are on two tables, items and items_hnsw (`CREATE TABLE items_hnsw (LIKE items "
          "INCLUDING ALL)` filled from items in id order, then VACUUM ANALYZE): the same rows, each index its "
          "table's only vector index, each measured over a connection of its own\n";
    md << "- queries: one client over a Unix socket, prepared `SELECT id FROM <table> ORDER BY embedding " << c.op()
       << " $1::vector LIMIT " << K
       << "` (vector sent as text), `SET jit = off; SET max_parallel_workers_per_gather = 0`, and `enable_seqscan`, "
          "`enable_bitmapscan`, `enable_sort` off so the rows come from the index measured (checked in the plan); "
          "whole query set run once untimed first (each index at its widest setting)\n";
    md << "- buffers/query: mean shared hit + read blocks of the top plan node (index + heap) from EXPLAIN (ANALYZE, "
          "BUFFERS) over "
       << std::min(c.buffer_sample, literals.size()) << " queries (first round)\n";
    md << "- timing: " << c.rounds << " round" << (c.rounds == 1 ? "" : "s")
       << " of the whole sweep; at each point the query set runs in " << c.chunks
       << " slices, the indexes taking turns slice by slice (who goes first alternating), each in whole passes until "
          "it has spent "
       << fmt("%g", c.min_seconds)
       << " s (at least one pass); the i-th probes value of the IVF indexes runs beside the i-th ef_search of "
          "pgvector-hnsw; QPS = executions / time spent; QPS, p50 and p99: medians over the rounds; recall over all "
          "executions\n";
    for (const std::string &n : c.notes)
        md << "- " << n << "\n";

    md << "\n## Build\n\n| index | build s | index MB | table MB |\n|---|---:|---:|---:|\n";
    for (const Target &t : targets)
        if (t.built())
            md << "| " << t.db.name << " | " << fmt("%.2f", t.build_s) << " | "
               << fmt("%.1f", t.index_bytes / 1048576.0) << " | " << fmt("%.1f", t.table_bytes / 1048576.0) << " |\n";
        else
            md << "| " << t.db.name << " | " << t.not_built() << " | - | - |\n";
    for (const Target &t : targets)
        if (!t.built())
            md << "\n**" << t.db.name << " not measured"
               << (t.build_error.find("does not exist") != std::string::npos ? ", unsupported by this build" : "")
               << ":** `" << t.create_sql << "` failed: `" << t.build_error << "`\n";
        else if (!t.db.failure.empty())
            md << "\n**" << t.db.name << " dropped out:** `" << t.db.failure << "`\n";
    for (const Target &t : targets)
        if (t.built() && !t.guc_type.empty() && t.guc_type != "integer")
            md << "\n**WARNING: " << t.db.name << ": `" << t.guc << "` is " << t.guc_type
               << " in pg_settings, not an integer setting of the extension: the sweep may change nothing.**\n";
    for (const Target &t : targets)
        if (t.built() && !t.plan.empty() && !t.uses_index)
            md << "\n**WARNING: " << t.db.name << "'s k-NN plan does not use " << t.index << ":**\n\n```\n" << t.plan
               << "```\n";

    md << "\n## Sweep\n\n| index | parameter | recall@10 | QPS | p50 ms | p99 ms | buffers/query | QPS per round "
          "|\n|---|---:|---:|---:|---:|---:|---:|---|\n";
    std::vector<Point> curve_points;  // on the index measured
    std::map<std::string, std::vector<const Point *>> curves;
    std::string off_index;
    for (std::size_t k = 0; k < targets.size(); k++)
        for (std::size_t step = 0; step < steps; step++) {
            auto it = pts.find({k, step});
            if (it == pts.end())
                continue;
            const IvfPoint &ip = it->second;
            const Point &p = ip.p;
            if (p.hnsw)
                curve_points.push_back(p);
            else
                off_index += "- " + p.db + " at " + targets[k].param_name + " " + std::to_string(p.ef) + ": " +
                             p.plan + "\n";
            std::string rounds;
            for (double q : ip.qps)
                rounds += (rounds.empty() ? "" : ", ") + fmt("%.0f", q);
            md << "| " << p.db << " | " << targets[k].param_name << " " << p.ef << (p.hnsw ? "" : " †") << " | "
               << fmt("%.4f", p.recall) << " | " << fmt("%.1f", p.qps) << " | " << fmt("%.3f", p.p50) << " | "
               << fmt("%.3f", p.p99) << " | " << fmt("%.1f", p.buffers) << " | " << rounds << " |\n";
        }
    if (!off_index.empty())
        md << "\n† **Not a measurement of the index**: the plan did not use it (left out of the summary and the "
              "plot):\n\n"
           << off_index;
    for (const Point &p : curve_points)
        curves[p.db].push_back(&p);
    for (auto &[name, curve] : curves)
        std::sort(curve.begin(), curve.end(), [](const Point *a, const Point *b) { return a->ef < b->ef; });

    // Summary: each curve at recall 0.95 and 0.99, then the ratios.
    std::map<std::string, std::map<double, AtRecall>> at;
    for (const std::string &n : names)
        for (double target : {0.95, 0.99})
            at[n][target] = at_recall(curves[n], target);
    auto show_qps = [&](const AtRecall &a) {
        return !a.reached ? std::string("not reached") : (a.bound ? "≥ " : "") + fmt("%.1f", a.qps);
    };
    auto show_buf = [&](const AtRecall &a) {
        return !a.reached || a.buffers < 0 ? std::string("-") : (a.bound ? "≤ " : "") + fmt("%.1f", a.buffers);
    };
    md << "\n## Summary\n\nBy linear interpolation on each curve between the last point below the recall and the "
          "first at or above it (≥ / ≤: the curve's first point is already above it, so its values bound those at "
          "the recall).\n\n"
          "| index | QPS at recall 0.95 | buffers/query at 0.95 | QPS at recall 0.99 | buffers/query at 0.99 | build "
          "s | index MB |\n|---|---:|---:|---:|---:|---:|---:|\n";
    for (const Target &t : targets) {
        const std::string &n = t.db.name;
        if (!t.built()) {
            md << "| " << n << " | " << t.not_built() << " | | | | | |\n";
            continue;
        }
        md << "| " << n << " | " << show_qps(at[n][0.95]) << " | " << show_buf(at[n][0.95]) << " | "
           << show_qps(at[n][0.99]) << " | " << show_buf(at[n][0.99]) << " | " << fmt("%.2f", t.build_s) << " | "
           << fmt("%.1f", t.index_bytes / 1048576.0) << " |\n";
    }
    auto find = [&](const std::string &n) -> const Target * {
        for (const Target &t : targets)
            if (t.db.name == n && t.built())
                return &t;
        return nullptr;
    };
    const Target *vi = find("vecdb-ivf");
    bool any_ratio = false;
    for (const char *other : {"pgvector-hnsw", "pgvector-ivfflat"}) {
        const Target *o = find(other);
        if (!vi || !o)
            continue;
        if (!any_ratio)
            md << "\n| ratio | QPS at 0.95 | QPS at 0.99 | build time | index size | buffers/query at 0.95 "
                  "|\n|---|---:|---:|---:|---:|---:|\n";
        any_ratio = true;
        auto ratio = [](double a, double b, bool ok, bool bound) {
            return ok && b > 0 ? fmt("%.2f", a / b) + (bound ? " *" : "") : std::string("-");
        };
        const AtRecall &v95 = at["vecdb-ivf"][0.95], &o95 = at[other][0.95];
        const AtRecall &v99 = at["vecdb-ivf"][0.99], &o99 = at[other][0.99];
        md << "| vecdb-ivf : " << other << " | "
           << ratio(v95.qps, o95.qps, v95.reached && o95.reached, v95.bound || o95.bound) << " | "
           << ratio(v99.qps, o99.qps, v99.reached && o99.reached, v99.bound || o99.bound) << " | "
           << ratio(vi->build_s, o->build_s, true, false) << " | "
           << ratio(double(vi->index_bytes), double(o->index_bytes), true, false) << " | "
           << ratio(v95.buffers, o95.buffers, v95.reached && o95.reached && v95.buffers >= 0 && o95.buffers >= 0,
                    v95.bound || o95.bound)
           << " |\n";
    }
    if (any_ratio)
        md << "\n(QPS above 1: vecdb-ivf faster; build time, size, buffers below 1: vecdb-ivf smaller. *: from a "
              "bound.)\n";
    else
        md << "\nNo ratios: vecdb-ivf or both pgvector indexes were not measured.\n";
    md << "\nPlot: `" << c.svg_path.substr(c.svg_path.find_last_of('/') + 1) << "`\n";

    md << "\n## Single-row inserts\n\n" << new_rows.size()
       << " rows per index, each a row of the data set plus Gaussian noise (σ = 1% of the row's RMS component), one "
          "autocommitted prepared INSERT per row (the filter btrees and primary key maintained too), "
          "`synchronous_commit = off`, the indexes taking turns in "
       << ins_chunks << " slices, after the sweep.\n\n"
          "| index | rows | rows/s | p50 ms | p99 ms | index MB before → after |\n|---|---:|---:|---:|---:|---|\n";
    for (std::size_t k : inserting) {
        const Target &t = targets[k];
        std::string sizes =
            fmt("%.1f", t.index_bytes / 1048576.0) + " → " + fmt("%.1f", t.index_bytes_after / 1048576.0);
        if (!t.insert_error.empty())
            md << "| " << t.db.name << " | failed after " << (t.insert_ms.empty() ? 0 : t.insert_ms.size() - 1)
               << ": `" << t.insert_error << "` | | | | " << sizes << " |\n";
        else if (!t.insert_ms.empty())
            md << "| " << t.db.name << " | " << t.insert_ms.size() << " | "
               << fmt("%.1f", t.insert_ms.size() / t.insert_s) << " | " << fmt("%.3f", percentile(t.insert_ms, 0.5))
               << " | " << fmt("%.3f", percentile(t.insert_ms, 0.99)) << " | " << sizes << " |\n";
    }
    const Target *vh = find("pgvector-hnsw");
    if (vi && vh && vi->insert_error.empty() && vh->insert_error.empty() && !vi->insert_ms.empty() &&
        !vh->insert_ms.empty())
        md << "\nvecdb-ivf : pgvector-hnsw insert rows/s "
           << fmt("%.2f", (vi->insert_ms.size() / vi->insert_s) / (vh->insert_ms.size() / vh->insert_s)) << "\n";

    md << "\n<details><summary>Plans (EXPLAIN (COSTS OFF) EXECUTE, first query, after the first round's timed "
          "run)</summary>\n\n";
    for (std::size_t k = 0; k < targets.size(); k++) {
        std::map<std::string, std::string> by_plan;  // plan -> settings that ran it
        std::vector<std::string> order;
        for (std::size_t step = 0; step < steps; step++) {
            auto it = pts.find({k, step});
            if (it == pts.end())
                continue;
            const Point &p = it->second.p;
            if (!by_plan.count(p.plan))
                order.push_back(p.plan);
            std::string &s = by_plan[p.plan];
            s += (s.empty() ? "" : ", ") + std::to_string(p.ef);
        }
        for (const std::string &plan : order)
            md << "- " << targets[k].db.name << " (" << targets[k].param_name << " " << by_plan[plan] << "): " << plan
               << "\n";
    }
    md << "\n</details>\n";

    std::string report = md.str();
    std::ofstream(c.report_path) << report;
    std::ofstream(c.svg_path) << svg_plot(c.dataset + ": recall@10 vs QPS, IVF lists=" + std::to_string(lists) +
                                              ", HNSW m=" + std::to_string(c.m) + " ef_construction=" +
                                              std::to_string(c.ef_construction) +
                                              " (labels: probes / ef_search)",
                                          curve_points, names);
    std::printf("\n%s\n", report.c_str());
    for (Target &t : targets)
        PQfinish(t.db.conn);
    return 0;
}

void usage(const char *prog)
{
    std::fprintf(stderr,
                 "usage: %s --dataset NAME --metric l2|cosine|ip --base B.fvecs --query Q.fvecs --groundtruth G.ivecs\n"
                 "          --db vecdb --db pgvector --report OUT.md --svg OUT.svg\n"
                 "          [--queries N] [--min-seconds S] [--chunks N] [--ef-list \"10 20 ...\"] [--filter-ef-list \"40 ...\"]\n"
                 "          [--filter-queries N] [--filter-index] [--buffer-sample N]\n"
                 "          [--m M] [--ef-construction N] [--maintenance-work-mem 1GB] [--vecdb-opts \", k = v\"]\n"
                 "          [--pgvector-iterative relaxed_order] [--type vector|halfvec] [--note \"header line\"]...\n"
                 "          [--ivf [--ivf-lists N] [--probes-list \"1 2 ...\"] [--rounds N] [--insert-rows N]]\n",
                 prog);
    std::exit(2);
}

std::vector<int> int_list(const char *s)
{
    std::vector<int> out;
    std::istringstream in(s);
    for (int x; in >> x;)
        out.push_back(x);
    return out;
}

}  // namespace

int main(int argc, char **argv)
{
    Config c;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--filter-index" || a == "--ivf") {
            (a == "--ivf" ? c.ivf : c.filter_index) = true;
            continue;
        }
        if (i + 1 >= argc)
            usage(argv[0]);
        const char *v = argv[++i];
        if (a == "--dataset") c.dataset = v;
        else if (a == "--metric") c.metric_name = v;
        else if (a == "--base") c.base_path = v;
        else if (a == "--query") c.query_path = v;
        else if (a == "--groundtruth") c.gt_path = v;
        else if (a == "--report") c.report_path = v;
        else if (a == "--svg") c.svg_path = v;
        else if (a == "--db") c.dbs.push_back(v);
        else if (a == "--queries") c.queries = std::strtoull(v, nullptr, 10);
        else if (a == "--filter-queries") c.filter_queries = std::strtoull(v, nullptr, 10);
        else if (a == "--buffer-sample") c.buffer_sample = std::strtoull(v, nullptr, 10);
        else if (a == "--min-seconds") c.min_seconds = std::atof(v);
        else if (a == "--chunks") c.chunks = std::max<std::size_t>(1, std::strtoull(v, nullptr, 10));
        else if (a == "--ef-list") c.ef_list = int_list(v);
        else if (a == "--filter-ef-list") c.filter_ef_list = int_list(v);
        else if (a == "--m") c.m = std::atoi(v);
        else if (a == "--ef-construction") c.ef_construction = std::atoi(v);
        else if (a == "--maintenance-work-mem") c.maintenance_work_mem = v;
        else if (a == "--vecdb-opts") c.vecdb_opts = v;
        else if (a == "--pgvector-iterative") c.pgvector_iterative = v;
        else if (a == "--note") c.notes.push_back(v);
        else if (a == "--type") c.type = v;
        else if (a == "--ivf-lists") c.ivf_lists = std::atoi(v);
        else if (a == "--probes-list") c.probes_list = int_list(v);
        else if (a == "--rounds") c.rounds = std::max<std::size_t>(1, std::strtoull(v, nullptr, 10));
        else if (a == "--insert-rows") c.insert_rows = std::strtoull(v, nullptr, 10);
        else usage(argv[0]);
    }
    if (c.metric_name != "l2" && c.metric_name != "cosine" && c.metric_name != "ip")
        usage(argv[0]);
    c.metric = c.metric_name == "cosine" ? Metric::Cosine : c.metric_name == "ip" ? Metric::IP : Metric::L2;
    if (c.dataset.empty() || c.base_path.empty() || c.query_path.empty() || c.gt_path.empty() || c.dbs.empty() ||
        c.report_path.empty() || c.svg_path.empty() || c.ef_list.empty())
        usage(argv[0]);

    std::string load_at_start = load_average();

    // Inputs.
    Matrix base = to_matrix(read_vecs<float>(c.base_path, SIZE_MAX));
    Matrix queries = to_matrix(read_vecs<float>(c.query_path, c.queries));
    auto gt_rows = read_vecs<std::int32_t>(c.gt_path, queries.n);
    if (queries.d != base.d)
        die("queries have " + std::to_string(queries.d) + " dimensions, base " + std::to_string(base.d));
    if (gt_rows.size() < queries.n || gt_rows[0].size() < std::size_t(K))
        die(c.gt_path + ": too few rows or columns for the queries");
    std::vector<std::vector<int>> truth(queries.n);
    for (std::size_t i = 0; i < queries.n; i++)
        truth[i].assign(gt_rows[i].begin(), gt_rows[i].begin() + K);
    std::vector<std::string> literals;
    for (std::size_t i = 0; i < queries.n; i++)
        literals.push_back(vector_literal(queries.row(i), queries.d));
    std::printf("== %s: base %zu x %zu, %zu queries, metric %s\n", c.dataset.c_str(), base.n, base.d, queries.n,
                c.metric_name.c_str());
    if (c.ivf)
        return ivf_main(c, base, literals, std::move(truth), load_at_start);

    std::vector<Db> dbs;
    for (const std::string &name : c.dbs) {
        Db db;
        db.name = name;
        db.conn = PQconnectdb(("dbname=" + name).c_str());
        if (PQstatus(db.conn) != CONNECTION_OK)
            die(name + ": " + PQerrorMessage(db.conn));
        if (!setup_session(db, c))
            die(name + ": session setup failed: " + PQerrorMessage(db.conn));
        db.ext_version = value(db, "SELECT extname || ' ' || extversion FROM pg_extension WHERE extname IN "
                                   "('vecdb', 'vector')");
        dbs.push_back(db);
    }
    Db &any = dbs[0];
    std::string pg_version = value(any, "SHOW server_version");
    std::string shared_buffers = value(any, "SHOW shared_buffers");
    std::string maint_workers = value(any, "SHOW max_parallel_maintenance_workers");
    std::string max_workers = value(any, "SHOW max_parallel_workers");

    // 1. Build, one database after the other (a build uses the whole machine).
    for (Db &db : dbs) {
        must(db, std::string("DROP INDEX IF EXISTS ") + INDEX_NAME);
        std::string err;
        db.index_bytes = build_index(db, create_index_sql(c, db, INDEX_NAME, std::string("embedding ") + c.opclass()),
                                     INDEX_NAME, &db.build_s, &err);
        if (db.index_bytes < 0) {
            db.index_bytes = 0;
            drop_out(db, "CREATE INDEX failed: " + err);
            continue;
        }
        db.table_bytes = std::atoll(value(db, "SELECT pg_table_size('items')").c_str());
    }

    // The filtered runs' queries, evenly spaced over the set, and per
    // filter the exact answers among the ids it keeps (read from every
    // database: the same ids everywhere, checked).
    std::vector<std::string> fliterals;
    std::vector<std::size_t> fquery;  // index into `queries` of each filtered query
    for (std::size_t i = 0, nf = std::min(c.filter_queries, queries.n); i < nf; i++) {
        fquery.push_back(i * queries.n / nf);
        fliterals.push_back(literals[fquery.back()]);
    }
    std::vector<Workload> fworkloads;
    std::map<std::string, std::size_t> kept;  // filter name -> rows it keeps
    for (const Filter &f : FILTERS) {
        std::vector<int> ids;
        for (Db &db : dbs) {
            std::vector<int> mine = int_list(text(db, std::string("SELECT id FROM items WHERE ") + f.predicate +
                                                          " ORDER BY id").c_str());
            if (&db == &dbs[0])
                ids = mine;
            else if (mine != ids)
                die(db.name + " holds other rows for " + f.predicate + " than " + dbs[0].name + ": data differ");
        }
        kept[f.name] = ids.size();
        Workload w{statement_of(f), f.name, &fliterals, {}};
        for (std::size_t q : fquery)
            w.truth.push_back(brute_force(c.metric, base, queries.row(q), ids));
        fworkloads.push_back(std::move(w));
        std::printf("filter %s: %zu of %zu rows (%.2f%%)\n", f.predicate, ids.size(), base.n,
                    100.0 * ids.size() / base.n);
    }

    Workload plain{"ann", "", &literals, std::move(truth)};

    // 2. The plan at the default ef_search, once per database (each
    // measurement checks its own too); 3a. warm-up at the widest ef_search.
    int widest = *std::max_element(c.ef_list.begin(), c.ef_list.end());
    for (Db &db : dbs) {
        if (!db.active)
            continue;
        db.plan = explain(db, "ann", literals[0]);
        db.uses_index = is_hnsw_plan(db.plan);
        if (!db.uses_index)
            std::fprintf(stderr, "ann_client: WARNING: %s does not use %s for the k-NN query:\n%s", db.name.c_str(),
                         INDEX_NAME, db.plan.c_str());
        std::string err;
        Tally warm;
        must(db, "SET hnsw.ef_search = " + std::to_string(widest));
        if (!run_queries(db, plain, 0, literals.size(), warm, &err))
            drop_out(db, "warm-up query failed: " + err);
        // After a query the extension's library is loaded and its GUCs are real.
        db.iterative_default = value(db, "SHOW hnsw.iterative_scan");
        db.max_scan_tuples = value(db, "SHOW hnsw.max_scan_tuples");
    }

    // One point: every database set up alike, then the query set in
    // `chunks` slices, the databases taking turns slice by slice (who goes
    // first alternating), in passes until each database has run for
    // min_seconds; then buffers and the plan the statement settled on.
    struct Step {
        const Workload *w;
        std::string mode;
        int ef;
        bool forced;       ///< seq scans, bitmap scans and sorts off: the HNSW index or nothing
        std::string only;  ///< the one database measured, "" for all
    };
    auto apply = [&](Db &db, const Step &s) {
        std::string set = "SET hnsw.ef_search = " + std::to_string(s.ef) + "; ";
        // Filtered: pgvector's iterative scan is off by default; use its
        // recommended setting.  Every other database keeps its own default.
        if (db.name == "pgvector")
            set += "SET hnsw.iterative_scan = " + (s.w->filter.empty() ? "off" : c.pgvector_iterative) + "; ";
        set += s.forced ? "SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off;"
                        : "RESET enable_seqscan; RESET enable_bitmapscan; RESET enable_sort;";
        std::string err;
        if (!run(db, set, nullptr, &err))
            drop_out(db, err);
        else if (!prepare_statements(db, c))
            drop_out(db, std::string("PREPARE failed: ") + PQerrorMessage(db.conn));
        return db.active;
    };
    std::vector<Point> points;
    std::size_t turn = 0;
    auto measure = [&](const Step &s) {
        auto takes_part = [&s](const Db &db) { return db.active && (s.only.empty() || db.name == s.only); };
        std::map<std::string, Tally> tally;
        for (Db &db : dbs)
            if (takes_part(db) && ensure_connected(db, c))
                apply(db, s);
        std::size_t n = s.w->literals->size(), chunks = std::min<std::size_t>(c.chunks, n);
        for (bool more = true; more;) {
            for (std::size_t r = 0; r < chunks; r++, turn++)
                for (std::size_t k = 0; k < dbs.size(); k++) {
                    Db &db = dbs[turn % 2 ? dbs.size() - 1 - k : k];
                    if (!takes_part(db) || tally[db.name].done)
                        continue;
                    // A crash elsewhere restarts the server: reconnect, set up again.
                    bool was_up = run(db, "SELECT 1");
                    if (!was_up && !(ensure_connected(db, c) && apply(db, s))) {
                        drop_out(db, "connection lost and not regained");
                        continue;
                    }
                    // A lost connection may be another backend's crash: the
                    // slice is run again once on a new connection; a backend
                    // that crashes itself does so again and drops out.
                    Tally &t = tally[db.name];
                    const Tally before = t;
                    std::string err;
                    bool ok = false;
                    for (int attempt = 0; !ok && attempt < 2; attempt++) {
                        if (attempt && !(PQstatus(db.conn) == CONNECTION_BAD && ensure_connected(db, c) && apply(db, s)))
                            break;
                        ok = run_queries(db, *s.w, r * n / chunks, (r + 1) * n / chunks, t, &err);
                        if (!ok)  // forget the partial slice
                            t = before;
                    }
                    if (!ok && db.active)
                        drop_out(db, s.w->stmt + " at ef_search " + std::to_string(s.ef) +
                                         " failed: " + err);
                }
            more = false;
            for (Db &db : dbs) {
                Tally &t = tally[db.name];
                if (takes_part(db) && !t.done) {
                    t.passes++;
                    t.done = t.seconds >= c.min_seconds;
                    more = more || !t.done;
                }
            }
        }
        for (Db &db : dbs) {
            if (!takes_part(db))
                continue;
            const Tally &t = tally[db.name];
            Point p;
            p.db = db.name;
            p.filter = s.w->filter;
            p.mode = s.mode;
            p.ef = s.ef;
            p.passes = t.passes;
            p.recall = t.expected ? t.hits / t.expected : 1;
            p.rows = t.rows / t.ms.size();
            p.short_queries = t.short_queries / t.ms.size();
            p.qps = t.ms.size() / t.seconds;
            p.p50 = percentile(t.ms, 0.50);
            p.p99 = percentile(t.ms, 0.99);
            p.buffers = buffers_per_query(db, *s.w, c.buffer_sample);
            // The plan the statement ran with: by now the plan cache has
            // settled on its generic or custom plan.
            std::string plan = explain(db, s.w->stmt, s.w->literals->front());
            p.plan = plan_summary(plan);
            p.scan = plan_scan(plan);
            p.hnsw = is_hnsw_plan(plan);
            if (s.w->filter.empty() && !p.hnsw)
                std::fprintf(stderr, "ann_client: WARNING: %s ran the k-NN query at ef_search %d without %s:\n%s",
                             db.name.c_str(), s.ef, INDEX_NAME, plan.c_str());
            std::printf("  %-8s %-8s %-8s ef %4d  recall %.4f  %8.1f QPS  p50 %.3f ms  p99 %.3f ms  rows %.2f  "
                        "short %.3f  buffers %7.1f  %s  (%zu pass%s)\n",
                        p.db.c_str(), s.w->filter.empty() ? "-" : s.w->filter.c_str(), s.mode.c_str(), s.ef,
                        p.recall, p.qps, p.p50, p.p99, p.rows, p.short_queries, p.buffers, p.scan.c_str(), p.passes,
                        p.passes == 1 ? "" : "es");
            std::fflush(stdout);
            points.push_back(p);
        }
    };

    // 3b. The sweep.
    std::printf("sweep:\n");
    for (int ef : c.ef_list)
        measure({&plain, "sweep", ef, false, ""});

    // 4. Filtered, filter by filter: the planner's choice, then forced
    // onto the HNSW index.
    if (!fliterals.empty()) {
        std::printf("filtered (%zu queries):\n", fliterals.size());
        for (const Workload &w : fworkloads)
            for (bool forced : {false, true})
                for (int ef : c.filter_ef_list)
                    measure({&w, forced ? "forced" : "planner", ef, forced, ""});
    }

    // 4b. vecdb with each filter column inside an HNSW index of its own,
    // one at a time, as the table's only HNSW index (the main one dropped
    // inside a transaction rolled back afterwards: with both, the planner
    // may walk the main one and filter on the heap): the planner's choice,
    // then forced onto it.
    struct InIndex {
        std::string column, sql, error;  ///< error: why the build failed, "" if built
        double build_s = 0;
        long long bytes = 0;
    };
    std::vector<InIndex> in_index;
    Db *vecdb = nullptr;
    for (Db &db : dbs)
        if (db.name == "vecdb" && db.active)
            vecdb = &db;
    if (c.filter_index && vecdb && !fliterals.empty() && ensure_connected(*vecdb, c)) {
        for (const char *column : FILTER_INDEX_COLUMNS) {
            InIndex r;
            r.column = column;
            std::string name = std::string("items_") + column + "_hnsw";
            r.sql = create_index_sql(c, *vecdb, name, std::string("embedding ") + c.opclass() + ", " + column);
            r.bytes = build_index(*vecdb, r.sql, name, &r.build_s, &r.error);
            in_index.push_back(r);
            if (r.bytes < 0) {
                std::fprintf(stderr, "ann_client: vecdb: in-index %s: %s", column, r.error.c_str());
                if (!ensure_connected(*vecdb, c))
                    break;
                continue;
            }
            if (!run(*vecdb, std::string("BEGIN; DROP INDEX ") + INDEX_NAME))
                break;
            for (std::size_t i = 0; i < fworkloads.size(); i++)
                if (FILTERS[i].column && r.column == FILTERS[i].column)
                    for (bool forced : {false, true})
                        for (int ef : c.filter_ef_list)
                            measure({&fworkloads[i], forced ? "in-index forced" : "in-index", ef, forced, "vecdb"});
            if (!vecdb->active || !run(*vecdb, "ROLLBACK") || !run(*vecdb, "DROP INDEX " + name))
                break;  // vecdb dropped out while measuring: its failure is in the report
        }
    }

    // 5. Report.
    std::vector<std::string> names;
    for (Db &db : dbs)
        names.push_back(db.name);
    auto find_db = [&](const std::string &n) -> Db * {
        for (Db &db : dbs)
            if (db.name == n)
                return &db;
        return nullptr;
    };
    std::ostringstream md;
    md << "# ANN benchmark: " << c.dataset << "\n\n";
    md << "- data: " << base.n << " x " << base.d << ", metric " << c.metric_name << " (`" << c.op() << "`, "
       << c.opclass() << "), " << queries.n << " queries, recall@" << K << " against the data set's ground truth\n";
    md << "- machine: " << online_cpus() << " CPUs (nproc), " << cpu_model() << "; load average (1/5/15 min) "
       << load_at_start << " at start, " << load_average() << " at end\n";
    md << "- PostgreSQL " << pg_version << "; shared_buffers " << shared_buffers << ", maintenance_work_mem "
       << c.maintenance_work_mem << " (both builds), max_parallel_maintenance_workers " << maint_workers
       << " (server default; max_parallel_workers " << max_workers << ")\n";
    for (Db &db : dbs)
        md << "- " << db.name << ": " << db.ext_version << "; hnsw.iterative_scan default " << db.iterative_default
           << ", hnsw.max_scan_tuples " << db.max_scan_tuples << "\n";
    md << "- index: `CREATE INDEX ON items USING hnsw (embedding " << c.opclass() << ") WITH (m = " << c.m
       << ", ef_construction = " << c.ef_construction << ")`"
       << (c.vecdb_opts.empty() ? "" : ", vecdb adds `" + c.vecdb_opts + "`") << "\n";
    md << "- queries: one client over a Unix socket, prepared `SELECT id FROM items [WHERE <filter>] ORDER BY "
          "embedding "
       << c.op() << " $1::vector LIMIT " << K
       << "` (vector sent as text), `SET jit = off; SET max_parallel_workers_per_gather = 0`, other planner "
          "settings default (but for the filtered \"forced\" mode); whole query set run once untimed first (ef_search "
       << widest << ")\n";
    md << "- buffers/query: mean shared hit + read blocks of the top plan node (index + heap) from EXPLAIN (ANALYZE, "
          "BUFFERS) over "
       << std::min(c.buffer_sample, queries.n) << " queries\n";
    md << "- timing: at each point the query set runs in " << c.chunks
       << " slices, the databases taking turns slice by slice (who goes first alternating), each database in whole passes until it "
          "has spent "
       << fmt("%g", c.min_seconds)
       << " s (at least one pass); QPS = executions / time spent, p50/p99 over all executions\n";
    md << "- filtered: " << fliterals.size() << " of the queries, evenly spaced; exact ground truth by brute force "
          "over the rows each filter keeps (if fewer than "
       << K << ", recall is against all of them); a btree on each filter column; pgvector runs with "
          "`hnsw.iterative_scan = "
       << c.pgvector_iterative << "` (unfiltered sweep: off, its default), vecdb with its default\n";
    for (const std::string &n : c.notes)
        md << "- " << n << "\n";

    md << "\n## Build\n\n| extension | build s | index MB | table MB |\n|---|---:|---:|---:|\n";
    for (Db &db : dbs) {
        if (db.index_bytes)
            md << "| " << db.name << " | " << fmt("%.1f", db.build_s) << " | " << fmt("%.1f", db.index_bytes / 1048576.0)
               << " | " << fmt("%.1f", db.table_bytes / 1048576.0) << " |\n";
        else
            md << "| " << db.name << " | failed | - | - |\n";
    }
    Db *v = find_db("vecdb"), *p = find_db("pgvector");
    if (v && p && v->index_bytes && p->index_bytes)
        md << "| vecdb / pgvector | " << fmt("%.2f", v->build_s / p->build_s) << " | "
           << fmt("%.2f", double(v->index_bytes) / p->index_bytes) << " | |\n";
    for (Db &db : dbs)
        if (!db.failure.empty())
            md << "\n**" << db.name << " dropped out:** `" << db.failure << "`\n";
    for (Db &db : dbs)
        if (db.index_bytes && !db.uses_index)
            md << "\n**WARNING: " << db.name
               << "'s k-NN plan (default ef_search) does not use the HNSW index:**\n\n```\n" << db.plan << "```\n";

    md << "\n## Sweep (no filter)\n\n| extension | ef_search | recall@10 | QPS | p50 ms | p99 ms | buffers/query "
          "|\n|---|---:|---:|---:|---:|---:|---:|\n";
    std::vector<Point> sweep;  // the points that measured the HNSW index
    std::string not_hnsw;
    for (const std::string &n : names)
        for (const Point &pt : points)
            if (pt.db == n && pt.mode == "sweep") {
                if (pt.hnsw)
                    sweep.push_back(pt);
                else
                    not_hnsw += "- " + pt.db + " at ef_search " + std::to_string(pt.ef) + ": " + pt.plan + "\n";
                md << "| " << pt.db << " | " << pt.ef << (pt.hnsw ? "" : " †") << " | " << fmt("%.4f", pt.recall) << " | " << fmt("%.1f", pt.qps)
                   << " | " << fmt("%.3f", pt.p50) << " | " << fmt("%.3f", pt.p99) << " | " << fmt("%.1f", pt.buffers)
                   << " |\n";
            }
    if (!not_hnsw.empty())
        md << "\n† **Not an HNSW measurement**: the planner chose another plan (left out of the summary and the "
              "plot):\n\n"
           << not_hnsw;
    md << "\n";
    for (double target : {0.99, 0.95}) {
        std::map<std::string, const Point *> best;
        for (const Point &pt : sweep)
            if (pt.recall >= target && (!best[pt.db] || pt.qps > best[pt.db]->qps))
                best[pt.db] = &pt;
        auto show = [&](const std::string &n) {
            const Point *b = best[n];
            return b ? fmt("%.1f", b->qps) + " (ef_search " + std::to_string(b->ef) + ")" : std::string("none");
        };
        md << "- at recall ≥ " << fmt("%.2f", target) << ": best QPS (HNSW plans only) ";
        for (std::size_t i = 0; i < names.size(); i++)
            md << (i ? " vs " : "") << names[i] << " " << show(names[i]);
        if (best["vecdb"] && best["pgvector"])
            md << " (vecdb/pgvector " << fmt("%.2f", best["vecdb"]->qps / best["pgvector"]->qps) << "x)";
        md << "\n";
    }
    md << "\nPlot: `" << c.svg_path.substr(c.svg_path.find_last_of('/') + 1) << "`\n";

    md << "\n## Filtered\n\n"
          "Modes: \"planner\": default planner settings (it may choose a btree, bitmap or seq scan and sort); "
          "\"forced\": `enable_seqscan`, `enable_bitmapscan` and `enable_sort` off, so the rows come in order from "
          "the HNSW index; \"in-index\": vecdb only, default settings, with the filter column inside the table's "
          "only HNSW index as its second column (`--filter-index`; the plan shows it as an Index Cond); \"in-index "
          "forced\": the same, forced onto that index. Short queries: share of executions returning fewer rows than the "
          "exact answer. Plan scan: what produced the rows (`hnsw`: "
       << INDEX_NAME << ").\n";
    if (c.filter_index) {
        md << "\n";
        if (in_index.empty())
            md << "- in-index: not run (vecdb is not measured)\n";
        for (const InIndex &r : in_index)
            if (r.bytes < 0)
                md << "- in-index " << r.column << ": not supported by this build: `" << r.sql << "` failed: `"
                   << trim(r.error) << "`\n";
            else
                md << "- in-index " << r.column << ": `" << r.sql << "` built in " << fmt("%.1f", r.build_s)
                   << " s, " << fmt("%.1f", r.bytes / 1048576.0) << " MB\n";
    }
    md << "\n| filter | selectivity % | correlated? | extension | mode | ef_search | recall@10 | rows/query | short "
          "queries | QPS | p50 ms | buffers/query | plan scan |\n"
          "|---|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n";
    const char *const FMODES[] = {"planner", "forced", "in-index", "in-index forced"};
    for (const Filter &f : FILTERS)
        for (const char *mode : FMODES)
            for (int ef : c.filter_ef_list)
                for (const std::string &n : names)
                    for (const Point &pt : points)
                        if (pt.filter == f.name && pt.mode == mode && pt.ef == ef && pt.db == n)
                            md << "| `" << f.predicate << "` | " << fmt("%.2f", 100.0 * kept[f.name] / base.n)
                               << " | " << (f.correlated ? "yes" : "no") << " | " << pt.db << " | " << mode << " | "
                               << pt.ef << " | " << fmt("%.4f", pt.recall) << " | " << fmt("%.2f", pt.rows) << " | "
                               << fmt("%.1f%%", 100 * pt.short_queries) << " | " << fmt("%.1f", pt.qps) << " | "
                               << fmt("%.3f", pt.p50) << " | " << fmt("%.1f", pt.buffers) << " | " << pt.scan
                               << " |\n";

    // Per filter and mode, each database's best-recall point (ties: the
    // faster); the ratio compares speed there, so the recalls are shown too.
    md << "\nvecdb : pgvector QPS at each one's best recall@10 (over ef_search):\n\n";
    for (const Filter &f : FILTERS) {
        md << "- `" << f.predicate << "`:";
        const char *sep = " ";
        for (const char *mode : FMODES) {
            std::map<std::string, const Point *> best;
            for (const Point &pt : points)
                if (pt.filter == f.name && pt.mode == mode) {
                    const Point *&b = best[pt.db];
                    if (!b || pt.recall > b->recall || (pt.recall == b->recall && pt.qps > b->qps))
                        b = &pt;
                }
            if (best.empty())
                continue;
            md << sep << mode << ":";
            sep = "; ";
            const char *vs = " ";
            for (const std::string &n : names)
                if (best[n]) {
                    md << vs << n << " " << fmt("%.1f", best[n]->qps) << " QPS at recall "
                       << fmt("%.3f", best[n]->recall) << " (ef " << best[n]->ef << ")";
                    vs = " vs ";
                }
            if (best["vecdb"] && best["pgvector"])
                md << " = **" << fmt("%.2f", best["vecdb"]->qps / best["pgvector"]->qps) << "x**";
        }
        md << "\n";
    }

    // The plans behind the scan column, once per filter, mode and database
    // (with the ef_search values that ran them).
    md << "\n<details><summary>Plans (EXPLAIN (COSTS OFF) EXECUTE, first filtered query, after each timed run: the "
          "plan the plan cache settled on)</summary>\n\n";
    struct PlanLine {
        std::string who, plan, efs;  ///< who: filter, mode, database
    };
    std::vector<PlanLine> plan_lines;
    for (const Filter &f : FILTERS)
        for (const char *mode : FMODES)
            for (const std::string &n : names)
                for (const Point &pt : points)
                    if (pt.filter == f.name && pt.mode == mode && pt.db == n) {
                        std::string who = std::string("`") + f.predicate + "` " + mode + " " + n;
                        auto same = [&](const PlanLine &l) { return l.who == who && l.plan == pt.plan; };
                        auto it = std::find_if(plan_lines.begin(), plan_lines.end(), same);
                        if (it == plan_lines.end())
                            plan_lines.push_back({who, pt.plan, std::to_string(pt.ef)});
                        else
                            it->efs += ", " + std::to_string(pt.ef);
                    }
    for (const PlanLine &l : plan_lines)
        md << "- " << l.who << " (ef_search " << l.efs << "): " << l.plan << "\n";
    md << "\n</details>\n";

    std::string report = md.str();
    std::ofstream(c.report_path) << report;
    std::ofstream(c.svg_path) << svg_plot(c.dataset + ": recall@10 vs QPS, HNSW m=" + std::to_string(c.m) +
                                              " ef_construction=" + std::to_string(c.ef_construction) +
                                              ", one client (labels: ef_search)",
                                          sweep, names);
    std::printf("\n%s\n", report.c_str());
    for (Db &db : dbs)
        PQfinish(db.conn);
    return 0;
}
