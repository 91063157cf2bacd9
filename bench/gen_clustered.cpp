/*
 * gen_clustered.cpp -- a generated data set for `make bench-ann-large`, in
 * the TEXMEX files the ANN benchmark reads: base.fvecs, query.fvecs and the
 * exact ground truth (the 100 nearest base rows of every query by L2,
 * computed here by brute force in double) as groundtruth.ivecs.
 *
 * The rows are a Gaussian mixture unlike GloVe or SIFT, with a decaying
 * spectrum as embeddings have (dimension j scaled by 1 / sqrt(1 + j / 16)):
 * `clusters` centres drawn from N(0, scale^2), each with its own spread
 * (sigma uniform in [0.4, 0.9] by default) and its own share of the rows
 * (weights uniform in [0.2, 1.8], so lists of a k-means index come out
 * uneven); a row is its centre plus N(0, (sigma scale)^2) noise.  Queries
 * are fresh draws from the same mixture.  Deterministic for a given seed.
 * The clusters overlap: at 100,000 x 128 the median relative contrast (mean
 * distance over the 10th nearest's, printed at the end) is 2.06, against
 * 1.95 for siftsmall and 2.15 for mnist-10k; sigma in [0.15, 0.6] gave 3.3
 * and a data set far easier for IVF than for HNSW.
 *
 * Usage: gen_clustered --rows N --dims D --queries Q [--clusters K] [--seed S]
 *                      [--sigma-min-pct 40] [--sigma-max-pct 90] OUTDIR
 *        (writes OUTDIR/synth_base.fvecs, synth_query.fvecs, synth_groundtruth.ivecs)
 */
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

constexpr int kTruth = 100;

struct Random {
    std::uint64_t state;
    std::uint64_t next()
    {
        std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    double uniform() { return double(next() >> 11) * 0x1p-53; }  // [0, 1)
    double gaussian()
    {
        double u = uniform(), v = uniform();
        return std::sqrt(-2.0 * std::log1p(-u)) * std::cos(2.0 * M_PI * v);
    }
};

struct Mixture {
    std::size_t dims;
    std::vector<float> centres;
    std::vector<double> sigma, cumulative;

    std::vector<double> scale;  ///< per dimension: a decaying spectrum, as embeddings have

    Mixture(std::size_t k, std::size_t d, double sigma_min, double sigma_max, Random &rng)
        : dims(d), centres(k * d), sigma(k), cumulative(k), scale(d)
    {
        for (std::size_t j = 0; j < d; j++)
            scale[j] = 1.0 / std::sqrt(1.0 + double(j) / 16.0);
        for (std::size_t i = 0; i < centres.size(); i++)
            centres[i] = float(rng.gaussian() * scale[i % d]);
        double total = 0;
        for (std::size_t i = 0; i < k; i++) {
            sigma[i] = sigma_min + (sigma_max - sigma_min) * rng.uniform();
            total += 0.2 + 1.6 * rng.uniform();
            cumulative[i] = total;
        }
        for (auto &c : cumulative)
            c /= total;
    }
    void draw(Random &rng, float *out) const
    {
        const std::size_t c = std::min<std::size_t>(
            std::lower_bound(cumulative.begin(), cumulative.end(), rng.uniform()) - cumulative.begin(),
            sigma.size() - 1);
        for (std::size_t j = 0; j < dims; j++)
            out[j] = float(centres[c * dims + j] + sigma[c] * scale[j] * rng.gaussian());
    }
};

void write_vectors(const std::string &path, const std::vector<float> &v, std::size_t dims)
{
    FILE *f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) {
        std::perror(path.c_str());
        std::exit(1);
    }
    const std::int32_t d = std::int32_t(dims);
    for (std::size_t i = 0; i < v.size() / dims; i++) {
        std::fwrite(&d, 4, 1, f);
        std::fwrite(&v[i * dims], 4, dims, f);
    }
    std::fclose(f);
}

/// The kTruth nearest rows of query q, nearest first (ties to the smaller id);
/// *contrast := the mean distance to all rows over the 10th nearest's
/// (relative contrast, He et al. 2012: smaller is harder).
void nearest(const std::vector<float> &base, std::size_t dims, const float *q, std::int32_t *out, double *contrast)
{
    double total = 0;
    std::vector<std::pair<double, std::int32_t>> heap;  // max-heap of the best so far
    heap.reserve(kTruth + 1);
    const std::size_t n = base.size() / dims;
    for (std::size_t i = 0; i < n; i++) {
        const float *x = &base[i * dims];
        double s = 0;
        for (std::size_t j = 0; j < dims; j++) {
            const double t = double(q[j]) - double(x[j]);
            s += t * t;
        }
        total += std::sqrt(s);
        if (heap.size() < std::size_t(kTruth) || s < heap.front().first) {
            heap.emplace_back(s, std::int32_t(i));
            std::push_heap(heap.begin(), heap.end());
            if (heap.size() > std::size_t(kTruth)) {
                std::pop_heap(heap.begin(), heap.end());
                heap.pop_back();
            }
        }
    }
    std::sort_heap(heap.begin(), heap.end());
    for (int i = 0; i < kTruth; i++)
        out[i] = heap[i].second;
    *contrast = total / double(n) / std::sqrt(heap[9].first);
}

long option(int argc, char **argv, const char *name, long fallback)
{
    for (int i = 1; i + 1 < argc; i++)
        if (std::strcmp(argv[i], name) == 0)
            return std::atol(argv[i + 1]);
    return fallback;
}

}  // namespace

int main(int argc, char **argv)
{
    const long rows = option(argc, argv, "--rows", 1000000), dims = option(argc, argv, "--dims", 128);
    const long queries = option(argc, argv, "--queries", 1000), clusters = option(argc, argv, "--clusters", 2000);
    const long seed = option(argc, argv, "--seed", 7);
    const double sigma_min = double(option(argc, argv, "--sigma-min-pct", 40)) / 100.0;
    const double sigma_max = double(option(argc, argv, "--sigma-max-pct", 90)) / 100.0;
    if (argc < 2 || argv[argc - 1][0] == '-' || rows < kTruth || dims < 1 || queries < 1 || clusters < 1) {
        std::fprintf(stderr, "usage: gen_clustered --rows N --dims D --queries Q [--clusters K] [--seed S] OUTDIR\n"
                             "       (N >= %d)\n", kTruth);
        return 2;
    }
    const std::string dir = argv[argc - 1];
    Random rng{std::uint64_t(seed)};
    const Mixture mixture(std::size_t(clusters), std::size_t(dims), sigma_min, sigma_max, rng);

    std::vector<float> base(std::size_t(rows) * dims), query(std::size_t(queries) * dims);
    for (long i = 0; i < rows; i++)
        mixture.draw(rng, &base[std::size_t(i) * dims]);
    for (long i = 0; i < queries; i++)
        mixture.draw(rng, &query[std::size_t(i) * dims]);
    write_vectors(dir + "/synth_base.fvecs", base, std::size_t(dims));
    write_vectors(dir + "/synth_query.fvecs", query, std::size_t(dims));

    std::vector<std::int32_t> truth(std::size_t(queries) * kTruth);
    std::vector<double> contrast(static_cast<std::size_t>(queries));
    const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < threads; t++)
        workers.emplace_back([&, t] {
            for (long i = t; i < queries; i += threads)
                nearest(base, std::size_t(dims), &query[std::size_t(i) * dims], &truth[std::size_t(i) * kTruth],
                        &contrast[std::size_t(i)]);
        });
    for (auto &w : workers)
        w.join();
    FILE *f = std::fopen((dir + "/synth_groundtruth.ivecs").c_str(), "wb");
    if (f == nullptr) {
        std::perror("groundtruth");
        return 1;
    }
    const std::int32_t k = kTruth;
    for (long i = 0; i < queries; i++) {
        std::fwrite(&k, 4, 1, f);
        std::fwrite(&truth[std::size_t(i) * kTruth], 4, kTruth, f);
    }
    std::fclose(f);
    std::sort(contrast.begin(), contrast.end());
    std::printf("gen_clustered: %ld rows, %ld queries, %ld dims, %ld clusters in %s; median relative contrast %.2f\n",
                rows, queries, dims, clusters, dir.c_str(), contrast[contrast.size() / 2]);
    return 0;
}
