/*
 * fvecs_copy.cpp -- turns a TEXMEX .fvecs file into COPY text rows for
 * `make bench-ann` (scripts/bench_ann.sh):
 *
 *   id <TAB> category <TAB> u <TAB> c <TAB> [v1,v2,...]
 *
 * id is the 0-based row number (what the ground-truth .ivecs files hold).
 * The other columns are int filters for the filtered k-NN runs:
 *
 *   category  a fixed hash of id into 0..99: `category = 0` keeps ~1%
 *   u         uncorrelated with the vectors: the row's rank in a fixed hash
 *             order of the ids, scaled to 0..9999 as floor(rank * 10000 / n)
 *   c         correlated: the row's rank by descending distance from the
 *             data set's mean vector (with --metric cosine: of the
 *             normalized vectors), scaled the same way
 *
 * So `u < 1000`, `u < 100`, `u < 10` keep 10%, 1%, 0.1% of the rows spread
 * over the whole table, and `c < 1000`, `c < 100`, `c < 10` the 10%, 1%,
 * 0.1% farthest from the mean: the hard case, as typical queries lie near
 * the mean and an index walk from the query meets few matching rows.  int
 * rather than bool because a custom index AM gets no boolean quals as scan
 * keys, while `c < 100` can be one (e.g. a filter column inside the HNSW
 * index).  `col < t` keeps exactly ceil(t * n / 10000) rows; ties in the
 * order go to the smaller id.  The output is deterministic: every database
 * gets the same rows.  Floats are printed shortest-round-trip, so every
 * extension parses exactly the fp32 values of the file.
 *
 * Reads the file three times: the mean, the distances to it, the rows.
 *
 * Usage: fvecs_copy [--limit N] [--metric l2|cosine] base.fvecs > rows.txt
 *        (plain .fvecs; zcat .gz first)
 */
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

namespace {

/// Fibonacci hashing: the top bits of id * 2^32/phi, scaled to [0, 100).
/// Unlike id % 100 (or any low-bit hash) category 0 is not every 100th row.
unsigned category_of(std::uint32_t id)
{
    std::uint32_t h = id * 2654435761u;
    return static_cast<unsigned>((static_cast<std::uint64_t>(h) * 100) >> 32);
}

/// splitmix64's finalizer over id and a seed: an ordering of the ids
/// unrelated to the vectors and to category's hash.
std::uint64_t id_hash(std::uint64_t id, std::uint64_t seed)
{
    std::uint64_t z = id + seed * 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/// The file's vectors one at a time, each checked (same dimension, finite).
/// Calls visit(id, vector) for up to `limit` vectors; returns how many, or
/// exits with a message.
std::uint64_t for_each_vector(const char *path, std::uint64_t limit,
                              const std::function<void(std::uint64_t, const std::vector<float> &)> &visit)
{
    FILE *f = std::fopen(path, "rb");
    if (!f) {
        std::fprintf(stderr, "fvecs_copy: cannot open %s\n", path);
        std::exit(1);
    }
    std::vector<float> v;
    std::int32_t dim, first_dim = 0;
    std::uint64_t n = 0;
    for (; n < limit && std::fread(&dim, 4, 1, f) == 1; n++) {
        if (dim <= 0 || (first_dim && dim != first_dim) || n > UINT32_MAX) {
            std::fprintf(stderr, "fvecs_copy: %s: vector %llu has dimension %d\n", path, (unsigned long long)n, dim);
            std::exit(1);
        }
        first_dim = dim;
        v.resize(static_cast<std::size_t>(dim));
        if (std::fread(v.data(), 4, v.size(), f) != v.size()) {
            std::fprintf(stderr, "fvecs_copy: %s: truncated vector %llu (gzipped? zcat it first)\n", path,
                         (unsigned long long)n);
            std::exit(1);
        }
        // The vector types reject NaN and infinity; say where, not just that COPY failed.
        for (float x : v)
            if (!std::isfinite(x)) {
                std::fprintf(stderr, "fvecs_copy: %s: vector %llu holds a non-finite value\n", path,
                             (unsigned long long)n);
                std::exit(1);
            }
        visit(n, v);
    }
    std::fclose(f);
    if (n == 0) {
        std::fprintf(stderr, "fvecs_copy: %s: no vectors\n", path);
        std::exit(1);
    }
    return n;
}

/// The vector as the metric sees it, in double: cosine compares directions,
/// so its vectors are normalized (a zero vector stays zero).
void as_point(const std::vector<float> &v, bool cosine, std::vector<double> &out)
{
    out.assign(v.begin(), v.end());
    if (!cosine)
        return;
    double norm = 0;
    for (double x : out)
        norm += x * x;
    if (norm > 0)
        for (double &x : out)
            x /= std::sqrt(norm);
}

/// Each id's rank under `before` (a strict order of the ids 0..n-1) as
/// floor(rank * 10000 / n): `scaled < t` keeps the first ceil(t * n / 10000)
/// ids of the order, so one column serves every selectivity.
template <class Before>
std::vector<unsigned> scaled_rank(std::size_t n, Before before)
{
    std::vector<std::uint32_t> order(n);
    std::iota(order.begin(), order.end(), 0u);
    std::sort(order.begin(), order.end(), before);
    std::vector<unsigned> scaled(n);
    for (std::size_t rank = 0; rank < n; rank++)
        scaled[order[rank]] = static_cast<unsigned>(rank * 10000 / n);
    return scaled;
}

}  // namespace

int main(int argc, char **argv)
{
    const char *path = nullptr;
    std::uint64_t limit = UINT64_MAX;
    bool cosine = false, bad = false;
    for (int i = 1; i < argc && !bad; i++) {
        if (std::strcmp(argv[i], "--limit") == 0 && i + 1 < argc)
            limit = std::strtoull(argv[++i], nullptr, 10);
        else if (std::strcmp(argv[i], "--metric") == 0 && i + 1 < argc) {
            cosine = std::strcmp(argv[++i], "cosine") == 0;
            bad = !cosine && std::strcmp(argv[i], "l2") != 0;
        } else if (!path && argv[i][0] != '-')
            path = argv[i];
        else
            bad = true;
    }
    if (!path || bad) {
        std::fprintf(stderr, "usage: %s [--limit N] [--metric l2|cosine] base.fvecs > rows.txt\n", argv[0]);
        return 2;
    }

    // Pass 1: the mean vector.
    std::vector<double> mean, point;
    std::uint64_t n = for_each_vector(path, limit, [&](std::uint64_t, const std::vector<float> &v) {
        as_point(v, cosine, point);
        mean.resize(point.size());
        for (std::size_t j = 0; j < point.size(); j++)
            mean[j] += point[j];
    });
    for (double &x : mean)
        x /= double(n);

    // Pass 2: each row's squared distance to the mean.
    std::vector<double> far(n);
    for_each_vector(path, n, [&](std::uint64_t id, const std::vector<float> &v) {
        as_point(v, cosine, point);
        double d = 0;
        for (std::size_t j = 0; j < point.size(); j++)
            d += (point[j] - mean[j]) * (point[j] - mean[j]);
        far[id] = d;
    });
    std::vector<unsigned> u = scaled_rank(n, [](std::uint32_t a, std::uint32_t b) {
        std::uint64_t ha = id_hash(a, 1), hb = id_hash(b, 1);
        return ha != hb ? ha < hb : a < b;
    });
    std::vector<unsigned> c = scaled_rank(n, [&far](std::uint32_t a, std::uint32_t b) {
        return far[a] != far[b] ? far[a] > far[b] : a < b;
    });

    // Pass 3: the rows.
    std::string line;
    char num[32];
    for_each_vector(path, n, [&](std::uint64_t id, const std::vector<float> &v) {
        line = std::to_string(id) + '\t' + std::to_string(category_of(static_cast<std::uint32_t>(id))) + '\t' +
               std::to_string(u[id]) + '\t' + std::to_string(c[id]) + "\t[";
        for (std::size_t j = 0; j < v.size(); j++) {
            auto r = std::to_chars(num, num + sizeof num, v[j]);
            if (j)
                line += ',';
            line.append(num, r.ptr);
        }
        line += "]\n";
        if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size()) {
            std::perror("fvecs_copy: write");
            std::exit(1);
        }
    });
    return std::fflush(stdout) == 0 ? 0 : 1;
}
