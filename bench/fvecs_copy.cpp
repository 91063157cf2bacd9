/*
 * fvecs_copy.cpp -- turns a TEXMEX .fvecs file into COPY text rows for
 * `make bench-ann` (scripts/bench_ann.sh):
 *
 *   id <TAB> category <TAB> [v1,v2,...]
 *
 * id is the 0-based row number (what the ground-truth .ivecs files hold) and
 * category a fixed hash of id into 0..99, so `WHERE category = 0` keeps about
 * 1% of the rows, spread over the whole table rather than in one id range.
 * Floats are printed shortest-round-trip, so every extension parses exactly
 * the fp32 values of the file and all databases get identical data.
 *
 * Usage: fvecs_copy [--limit N] base.fvecs > rows.txt   (plain .fvecs; zcat .gz first)
 */
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

}  // namespace

int main(int argc, char **argv)
{
    const char *path = nullptr;
    std::uint64_t limit = UINT64_MAX;
    for (int i = 1; i < argc; i++) {
        if (std::strcmp(argv[i], "--limit") == 0 && i + 1 < argc)
            limit = std::strtoull(argv[++i], nullptr, 10);
        else if (!path && argv[i][0] != '-')
            path = argv[i];
        else
            path = nullptr, i = argc;
    }
    if (!path) {
        std::fprintf(stderr, "usage: %s [--limit N] base.fvecs > rows.txt\n", argv[0]);
        return 2;
    }
    FILE *f = std::fopen(path, "rb");
    if (!f) {
        std::fprintf(stderr, "fvecs_copy: cannot open %s\n", path);
        return 1;
    }

    std::vector<float> v;
    std::string line;
    std::int32_t dim, first_dim = 0;
    std::uint64_t n = 0;
    char num[32];
    for (; n < limit && std::fread(&dim, 4, 1, f) == 1; n++) {
        if (dim <= 0 || (first_dim && dim != first_dim) || n > UINT32_MAX) {
            std::fprintf(stderr, "fvecs_copy: %s: vector %llu has dimension %d\n", path, (unsigned long long)n, dim);
            return 1;
        }
        first_dim = dim;
        v.resize(static_cast<std::size_t>(dim));
        if (std::fread(v.data(), 4, v.size(), f) != v.size()) {
            std::fprintf(stderr, "fvecs_copy: %s: truncated vector %llu (gzipped? zcat it first)\n", path,
                         (unsigned long long)n);
            return 1;
        }
        line = std::to_string(n) + '\t' + std::to_string(category_of(static_cast<std::uint32_t>(n))) + "\t[";
        for (std::size_t j = 0; j < v.size(); j++) {
            // The vector types reject NaN and infinity; say where, not just that COPY failed.
            if (!std::isfinite(v[j])) {
                std::fprintf(stderr, "fvecs_copy: %s: vector %llu holds a non-finite value\n", path,
                             (unsigned long long)n);
                return 1;
            }
            auto r = std::to_chars(num, num + sizeof num, v[j]);
            if (j)
                line += ',';
            line.append(num, r.ptr);
        }
        line += "]\n";
        if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size()) {
            std::perror("fvecs_copy: write");
            return 1;
        }
    }
    std::fclose(f);
    if (n == 0) {
        std::fprintf(stderr, "fvecs_copy: %s: no vectors\n", path);
        return 1;
    }
    return std::fflush(stdout) == 0 ? 0 : 1;
}
