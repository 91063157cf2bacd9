/*
 * quant_eval.cpp -- accuracy and speed of every quantizer on a real data set.
 *
 * For each quantizer: bytes per vector, bits per dimension, relative MSE
 * (mean r^2 / |x|^2 from the codes), recall@10 of a pure code scan against
 * exact brute force, recall@10 after re-ranking the best 20 / 40 / 80 by
 * exact distance, the exact distances a bound-guided search needs to return
 * the guaranteed exact top 10 (VectorChord's rerank loop: visit codes by
 * lower bound until the next bound exceeds the 10th exact distance), and
 * encode / scan time per vector (one thread).
 *
 * Recall is tie-aware: a returned id counts when its exact distance is <= the
 * true 10th distance.  Exact distances are the SQL operator's (fp32 sums with
 * the best kernels of simd/distance.h).
 *
 * Input: plain TEXMEX .fvecs (per vector an int32 dimension, then that many
 * float32, little endian).  Gzipped files need decompressing first:
 *   zcat /work/shared/data/glove-100-angular/glove-100_base.fvecs.gz > /tmp/glove_base.fvecs
 * Build and run on the project's data sets: `make bench-quant`.  By hand:
 *   ./bench/quant_eval [--metric l2|ip|cosine] [--queries N] [--base N] [--seed S] base.fvecs query.fvecs
 */
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "../src/core/quant/binary.h"
#include "../src/core/quant/e8.h"
#include "../src/core/quant/h4.h"
#include "../src/core/quant/quantizer.h"
#include "../src/core/quant/sq8.h"
#include "../src/core/simd/distance.h"
#include "eval_util.h"

namespace {

using namespace vecdb;
using namespace vecdb::eval;

/// Indices of the k smallest values, ascending.
std::vector<std::size_t> smallest(const std::vector<double> &values, std::size_t k)
{
    std::vector<std::size_t> idx(values.size());
    std::iota(idx.begin(), idx.end(), 0);
    k = std::min(k, idx.size());
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                      [&](std::size_t a, std::size_t b) { return values[a] < values[b] || (values[a] == values[b] && a < b); });
    idx.resize(k);
    return idx;
}

struct Candidate {
    const char *name;
    std::shared_ptr<void> owner;  // the concrete quantizer (the interface has no public destructor)
    Quantizer *quantizer;
    std::shared_ptr<std::vector<float>> ranges;  // SQ8's caller memory

    template <typename Q, typename... Args>
    static Candidate make(const char *name, Args &&...args)
    {
        auto q = std::make_shared<Q>(std::forward<Args>(args)...);
        return Candidate{name, q, q.get(), nullptr};
    }
};

}  // namespace

int main(int argc, char **argv)
{
    Options opt;
    opt.max_queries = 100;
    if (!parse_options(argc, argv, opt))
        return 2;
    Dataset base, queries;
    load_inputs(opt, base, queries);
    const Metric metric = opt.metric;
    const std::uint64_t seed = opt.seed;
    const std::size_t n = base.n, d = base.d, nq = queries.n, k = 10;

    // Exact brute force: all distances (re-ranking looks them up).
    std::vector<std::vector<double>> exact(nq, std::vector<double>(n));
    std::vector<double> kth(nq);
    for (std::size_t j = 0; j < nq; j++) {
        for (std::size_t i = 0; i < n; i++)
            exact[j][i] = exact_distance(metric, &queries.v[j * d], &base.v[i * d], d);
        kth[j] = exact[j][smallest(exact[j], k).back()];
    }
    auto recall = [&](std::size_t j, const std::vector<std::size_t> &ids) {
        std::size_t hits = 0;
        for (std::size_t t = 0; t < std::min(k, ids.size()); t++)
            hits += exact[j][ids[t]] <= kth[j];
        return static_cast<double>(hits) / k;
    };

    std::vector<Candidate> candidates;
    candidates.push_back(Candidate::make<E8Quantizer>("E8P 2-bit", d, metric, seed, E8Quantizer::Mode::E8P));
    candidates.push_back(Candidate::make<E8Quantizer>("E8 RVQ 4-bit", d, metric, seed, E8Quantizer::Mode::Residual4));
    candidates.push_back(Candidate::make<H4Quantizer>("H4 600-cell", d, metric, seed));
    auto ranges = std::make_shared<std::vector<float>>(2 * d);
    Candidate sq8 = Candidate::make<SQ8Quantizer>("SQ8", d, metric, ranges->data());
    sq8.ranges = ranges;
    candidates.push_back(sq8);
    candidates.push_back(Candidate::make<BinaryQuantizer>("Binary 1-bit", d, metric, seed));

    std::printf("\n| quantizer | bytes/vec | bits/dim | r^2/|x|^2 | R@10 scan | R@10 rr20 | R@10 rr40 | R@10 rr80 | "
                "exact/q (bounds) | encode ns/vec | scan ns/vec |\n");
    std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Candidate &c : candidates) {
        Quantizer &quant = *c.quantizer;
        std::vector<float> work(quant.work_floats());
        if (quant.needs_training())
            quant.train(n, base.v.data(), work.data());  // the whole base set
        const std::size_t size = quant.code_size();
        std::vector<std::uint8_t> codes(n * size);
        auto t0 = Clock::now();
        for (std::size_t i = 0; i < n; i++)
            quant.encode(&base.v[i * d], &codes[i * size], work.data());
        double encode_ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / n;

        // Relative MSE from the stored residuals (offset 4 in rotated codes,
        // 0 in SQ8 codes; the norm follows it).
        double rel = 0.0;
        const std::size_t r_at = dynamic_cast<SQ8Quantizer *>(&quant) ? 0 : 4;
        for (std::size_t i = 0; i < n; i++) {
            float r, norm;
            std::memcpy(&r, &codes[i * size + r_at], 4);
            std::memcpy(&norm, &codes[i * size + r_at + 4], 4);
            rel += norm > 0 ? static_cast<double>(r) * r / (static_cast<double>(norm) * norm) : 0.0;
        }
        rel /= n;

        std::vector<unsigned char> memory(quant.distance_computer_bytes());
        DistanceComputer *dc = quant.distance_computer(memory.data());
        std::vector<double> est(n), bound(n);
        double scan_ns = 0.0, r_scan = 0.0, r_rr[3] = {0, 0, 0}, exact_needed = 0.0;
        const std::size_t rerank[3] = {20, 40, 80};
        for (std::size_t j = 0; j < nq; j++) {
            dc->set_query(&queries.v[j * d]);
            auto s0 = Clock::now();
            for (std::size_t i = 0; i < n; i++)
                est[i] = dc->distance(&codes[i * size]);
            scan_ns += std::chrono::duration<double, std::nano>(Clock::now() - s0).count();
            for (std::size_t i = 0; i < n; i++)
                bound[i] = dc->lower_bound(&codes[i * size]);

            std::vector<std::size_t> order = smallest(est, std::max<std::size_t>(80, k));
            r_scan += recall(j, std::vector<std::size_t>(order.begin(), order.begin() + k));
            for (int t = 0; t < 3; t++) {
                std::vector<std::size_t> top(order.begin(), order.begin() + std::min(rerank[t], order.size()));
                std::stable_sort(top.begin(), top.end(), [&](std::size_t a, std::size_t b) { return exact[j][a] < exact[j][b]; });
                r_rr[t] += recall(j, top);
            }
            // Bound-guided exact top 10: visit by lower bound, stop once the
            // next bound is above the 10th exact distance seen so far.
            std::vector<std::size_t> by_bound(n);
            std::iota(by_bound.begin(), by_bound.end(), 0);
            std::sort(by_bound.begin(), by_bound.end(), [&](std::size_t a, std::size_t b) { return bound[a] < bound[b]; });
            std::vector<double> best;  // the k smallest exact distances so far, ascending
            std::size_t visited = 0;
            for (std::size_t i : by_bound) {
                if (best.size() == k && bound[i] > best.back())
                    break;
                visited++;
                best.insert(std::upper_bound(best.begin(), best.end(), exact[j][i]), exact[j][i]);
                if (best.size() > k)
                    best.pop_back();
            }
            exact_needed += visited;
        }
        std::printf("| %s | %zu | %.2f (%.2f) | %.2e | %.3f | %.3f | %.3f | %.3f | %.0f | %.0f | %.1f |\n", c.name, size,
                    8.0 * (size - 12) / d, 8.0 * size / d, rel, r_scan / nq, r_rr[0] / nq, r_rr[1] / nq, r_rr[2] / nq, exact_needed / nq,
                    encode_ns, scan_ns / (static_cast<double>(n) * nq));
    }
    std::printf("\nbytes/vec includes the 12-byte header (3 float32); bits/dim: payload (with header); exact/q: exact\n"
                "distances the bound-guided search computes per query to return the guaranteed top 10 (of %zu).\n", n);
    return 0;
}
