/*
 * sparse_test.cpp -- the sparse vector text form (parse, sort and index
 * checks, format) and the sparse distances, checked against dense
 * references computed independently on the expanded vectors.
 */
#include <algorithm>
#include <array>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../../src/core/sparse_distance.h"
#include "../../src/core/sparse_text.h"

namespace vecdb {
namespace {

constexpr std::size_t kCapacity = 16;

// --- Parsing ------------------------------------------------------------

struct Accepted {
    const char *text;
    std::int32_t dims;
    std::vector<SparseElement> sorted;  // 0-based, after sort_sparse_elements
};

/// Parses, sorts and checks like sparsevec_in; fails the test on any error.
std::vector<SparseElement> parse_ok(const char *text, std::int32_t *dims)
{
    SparseElement out[kCapacity];
    SparseParseResult r = parse_sparse_text(text, out, kCapacity);
    EXPECT_EQ(r.status, SparseParseStatus::Ok);
    if (r.status != SparseParseStatus::Ok)
        return {};
    sort_sparse_elements(out, r.nnz);
    std::vector<std::int32_t> indices;
    for (std::size_t i = 0; i < r.nnz; i++) {
        indices.push_back(out[i].index);
        EXPECT_EQ(check_sparse_index(indices.data(), i, r.dims), SparseIndexStatus::Ok) << "element " << i;
    }
    *dims = r.dims;
    return std::vector<SparseElement>(out, out + r.nnz);
}

TEST(ParseSparseTextTest, AcceptedForms)
{
    const Accepted cases[] = {
        {"{1:1.5,3:3.5}/5", 5, {{0, 1.5f}, {2, 3.5f}}},
        {" { 1 : 1.5 ,  3  :  3.5  } / 5 ", 5, {{0, 1.5f}, {2, 3.5f}}},
        {"\t{\n1:-2\r,3:\f-4}\v/5\n", 5, {{0, -2.0f}, {2, -4.0f}}},
        {"{1:2.,3:4.}/5", 5, {{0, 2.0f}, {2, 4.0f}}},
        {"{}/1", 1, {}},
        {"{ }/1", 1, {}},
        {"{}/1000000000", 1000000000, {}},
        {"{}/+7", 7, {}},
        {"{+2:1e3}/2", 2, {{1, 1000.0f}}},
        // Written in any order, stored sorted.
        {"{3:3,1:1,2:2}/3", 3, {{0, 1.0f}, {1, 2.0f}, {2, 3.0f}}},
        // Zeros are dropped, whatever their index.
        {"{1:0,2:1,3:0}/3", 3, {{1, 1.0f}}},
        {"{1:-0,2:0.0}/2", 2, {}},
        {"{9:0}/3", 3, {}},
        {"{-5:0}/3", 3, {}},
        {"{2:0,2:5}/3", 3, {{1, 5.0f}}},
        // Subnormals are values, not range errors.
        {"{1:1e-40}/1", 1, {{0, 1e-40f}}},
        {"{1:3.4e38,2:-3.4e38}/2", 2, {{0, 3.4e38f}, {1, -3.4e38f}}},
    };
    for (const Accepted &c : cases) {
        SCOPED_TRACE(c.text);
        std::int32_t dims = -1;
        std::vector<SparseElement> got = parse_ok(c.text, &dims);
        EXPECT_EQ(dims, c.dims);
        ASSERT_EQ(got.size(), c.sorted.size());
        for (std::size_t i = 0; i < got.size(); i++) {
            EXPECT_EQ(got[i].index, c.sorted[i].index) << "element " << i;
            EXPECT_EQ(got[i].value, c.sorted[i].value) << "element " << i;
        }
    }
}

struct Rejected {
    const char *text;
    SparseParseStatus status;
};

TEST(ParseSparseTextTest, RejectedForms)
{
    using S = SparseParseStatus;
    const Rejected cases[] = {
        {"", S::MissingOpenBrace},
        {"  ", S::MissingOpenBrace},
        {"1:1}/1", S::MissingOpenBrace},
        {"[1,2]", S::MissingOpenBrace},
        {"{", S::Malformed},
        {"{ ", S::Malformed},
        {"{:", S::Malformed},
        {"{,", S::Malformed},
        {"{:}/1", S::Malformed},
        {"{,}/1", S::Malformed},
        {"{1,}/1", S::Malformed},
        {"{:1}/1", S::Malformed},
        {"{1:}/1", S::Malformed},
        {"{1a:1}/1", S::Malformed},
        {"{1:1a}/1", S::Malformed},
        {"{1:1,}/1", S::Malformed},
        {"{1.5:1}/2", S::Malformed},
        {"{1:hello,2:1}/2", S::Malformed},
        {"{1:1 2:2}/2", S::Malformed},
        {"{}/", S::Malformed},
        {"{}/ x", S::Malformed},
        {"{}", S::MissingSlash},
        {"{1:1}", S::MissingSlash},
        {"{1:1} 3", S::MissingSlash},
        {"{}/1a", S::JunkAfterDims},
        {"{}/1.0", S::JunkAfterDims},
        {"{}/1/2", S::JunkAfterDims},
        {"{1:NaN,2:1}/2", S::NaNValue},
        {"{1:Infinity,2:1}/2", S::InfiniteValue},
        {"{1:-inf}/2", S::InfiniteValue},
        {"{1:4e38,2:1}/2", S::OutOfRange},
        {"{1:-4e38}/2", S::OutOfRange},
        {"{1:1e-46}/2", S::OutOfRange},
        // The first error in reading order wins.
        {"{1:NaN,x}/2", S::NaNValue},
        {"{x,1:NaN}/2", S::Malformed},
    };
    for (const Rejected &c : cases) {
        SCOPED_TRACE(std::string("\"") + c.text + "\"");
        SparseElement out[kCapacity];
        EXPECT_EQ(parse_sparse_text(c.text, out, kCapacity).status, c.status);
    }
}

TEST(ParseSparseTextTest, OutOfRangeTokenIsTheNumber)
{
    SparseElement out[kCapacity];
    const char *text = "{2: -4e38 }/2";
    SparseParseResult r = parse_sparse_text(text, out, kCapacity);
    ASSERT_EQ(r.status, SparseParseStatus::OutOfRange);
    EXPECT_EQ(std::string(r.token, r.token_length), "-4e38");
}

TEST(ParseSparseTextTest, NumbersBeyondInt32AreClamped)
{
    SparseElement out[kCapacity];
    // Dimension counts clamp to int32 so that the caller's range check fails.
    EXPECT_EQ(parse_sparse_text("{}/2147483648", out, kCapacity).dims, INT32_MAX);
    EXPECT_EQ(parse_sparse_text("{}/-9223372036854775809", out, kCapacity).dims, INT32_MIN);
    // Indices land outside every valid range, never wrap into it.
    const std::pair<const char *, std::int32_t> cases[] = {
        {"{2147483647:1}/1", 2147483646},
        {"{2147483648:1}/1", 2147483646},
        {"{99999999999999999999:1}/1", 2147483646},
        {"{-2147483648:1}/1", INT32_MIN},
        {"{-2147483649:1}/1", INT32_MIN},
        {"{0:1}/1", -1},
    };
    for (const auto &[text, index] : cases) {
        SCOPED_TRACE(text);
        SparseParseResult r = parse_sparse_text(text, out, kCapacity);
        ASSERT_EQ(r.status, SparseParseStatus::Ok);
        ASSERT_EQ(r.nnz, 1u);
        EXPECT_EQ(out[0].index, index);
        std::int32_t indices[] = {out[0].index};
        EXPECT_EQ(check_sparse_index(indices, 0, r.dims), SparseIndexStatus::OutOfBounds);
    }
}

TEST(ParseSparseTextTest, ElementsBoundCountsEveryComma)
{
    EXPECT_EQ(sparse_text_elements_bound("{}/1"), 1u);
    EXPECT_EQ(sparse_text_elements_bound("{1:0,2:0,3:0}/3"), 3u);
    EXPECT_EQ(sparse_text_elements_bound(",,,,"), 5u);
}

TEST(CheckSparseIndexTest, BoundsOrderAndDuplicates)
{
    const std::int32_t sorted[] = {0, 2, 4};
    for (std::size_t i = 0; i < 3; i++)
        EXPECT_EQ(check_sparse_index(sorted, i, 5), SparseIndexStatus::Ok);
    EXPECT_EQ(check_sparse_index(sorted, 2, 4), SparseIndexStatus::OutOfBounds);

    const std::int32_t descending[] = {3, 1};
    EXPECT_EQ(check_sparse_index(descending, 1, 5), SparseIndexStatus::NotAscending);
    const std::int32_t repeated[] = {1, 1};
    EXPECT_EQ(check_sparse_index(repeated, 1, 5), SparseIndexStatus::Duplicate);
    // Bounds are checked before order.
    const std::int32_t negative[] = {3, -1};
    EXPECT_EQ(check_sparse_index(negative, 1, 5), SparseIndexStatus::OutOfBounds);

    // Duplicates written apart end up adjacent after sorting.
    SparseElement elements[] = {{0, 1.0f}, {1, 1.0f}, {0, 2.0f}};
    sort_sparse_elements(elements, 3);
    const std::int32_t after[] = {elements[0].index, elements[1].index, elements[2].index};
    EXPECT_EQ(check_sparse_index(after, 0, 2), SparseIndexStatus::Ok);
    EXPECT_EQ(check_sparse_index(after, 1, 2), SparseIndexStatus::Duplicate);
}

// --- Formatting ------------------------------------------------------------

/// Nine significant digits read back to the same float.
int format_exact(float value, char *out) { return std::sprintf(out, "%.9g", double(value)); }

TEST(FormatSparseTextTest, Layout)
{
    const std::int32_t indices[] = {0, 2};
    const float values[] = {1.5f, -3.5f};
    char out[128];
    std::size_t length = format_sparse_text(indices, values, 2, 5, format_exact, out);
    EXPECT_STREQ(out, "{1:1.5,3:-3.5}/5");
    EXPECT_EQ(length, std::strlen(out));

    format_sparse_text(nullptr, nullptr, 0, 1000000000, format_exact, out);
    EXPECT_STREQ(out, "{}/1000000000");

    const std::int32_t last[] = {999999999};
    const float one[] = {1.0f};
    format_sparse_text(last, one, 1, 1000000000, format_exact, out);
    EXPECT_STREQ(out, "{1000000000:1}/1000000000");
}

TEST(FormatSparseTextTest, RoundTripsThroughTheParser)
{
    std::mt19937 rng(7);
    std::uniform_int_distribution<std::int32_t> gap(1, 1000000);
    std::uniform_real_distribution<float> value(-1e6f, 1e6f);
    for (int trial = 0; trial < 200; trial++) {
        std::vector<std::int32_t> indices;
        std::vector<float> values;
        std::int32_t next = gap(rng) - 1;
        for (std::size_t k = 0; k < kCapacity; k++, next += gap(rng)) {
            indices.push_back(next);
            values.push_back(value(rng));
        }
        const std::int32_t dims = next + 1;
        // %.9g needs at most 15 characters ("-1.23456789e+38").
        std::vector<char> text(sparse_text_max_length(kCapacity, 15));
        std::size_t length = format_sparse_text(indices.data(), values.data(), kCapacity, dims, format_exact,
                                                text.data());
        ASSERT_LT(length, text.size());

        std::int32_t parsed_dims = 0;
        std::vector<SparseElement> parsed = parse_ok(text.data(), &parsed_dims);
        ASSERT_EQ(parsed.size(), kCapacity) << text.data();
        EXPECT_EQ(parsed_dims, dims);
        for (std::size_t k = 0; k < kCapacity; k++) {
            EXPECT_EQ(parsed[k].index, indices[k]);
            EXPECT_EQ(parsed[k].value, values[k]);
        }
    }
}

// --- Distances against dense references ---------------------------------------

struct Sparse {
    std::int32_t dims;
    std::vector<std::int32_t> indices;
    std::vector<float> values;
    SparseView view() const { return SparseView{indices.data(), values.data(), indices.size()}; }
    std::vector<float> dense() const
    {
        std::vector<float> x(std::size_t(dims), 0.0f);
        for (std::size_t k = 0; k < indices.size(); k++)
            x[std::size_t(indices[k])] = values[k];
        return x;
    }
};

/// Each index present with probability `density`, values from `value`.
template <class Dist>
Sparse random_sparse(std::int32_t dims, double density, Dist &value, std::mt19937 &rng)
{
    std::bernoulli_distribution present(density);
    Sparse s{dims, {}, {}};
    for (std::int32_t i = 0; i < dims; i++) {
        if (!present(rng))
            continue;
        float v = 0.0f;
        while (v == 0.0f)
            v = float(value(rng));
        s.indices.push_back(i);
        s.values.push_back(v);
    }
    return s;
}

// Dense loops, plain and in index order: the float ones add the same
// non-zero terms in the same order as the merge (a missing pair adds +0),
// so their results must be identical.
float dense_l2_float(const std::vector<float> &a, const std::vector<float> &b)
{
    float sum = 0;
    for (std::size_t i = 0; i < a.size(); i++)
        sum += (a[i] - b[i]) * (a[i] - b[i]);
    return sum;
}
float dense_dot_float(const std::vector<float> &a, const std::vector<float> &b)
{
    float sum = 0;
    for (std::size_t i = 0; i < a.size(); i++)
        sum += a[i] * b[i];
    return sum;
}
float dense_l1_float(const std::vector<float> &a, const std::vector<float> &b)
{
    float sum = 0;
    for (std::size_t i = 0; i < a.size(); i++)
        sum += std::fabs(a[i] - b[i]);
    return sum;
}

struct DenseDouble {
    double l2, dot, l1, norm_a, norm_b;
};
DenseDouble dense_double(const std::vector<float> &a, const std::vector<float> &b)
{
    DenseDouble r{0, 0, 0, 0, 0};
    for (std::size_t i = 0; i < a.size(); i++) {
        const double x = a[i], y = b[i];
        r.l2 += (x - y) * (x - y);
        r.dot += x * y;
        r.l1 += std::fabs(x - y);
        r.norm_a += x * x;
        r.norm_b += y * y;
    }
    return r;
}

void expect_near_rel(double got, double want, double rel, const char *what)
{
    EXPECT_NEAR(got, want, rel * std::fabs(want) + 1e-300) << what;
}

TEST(SparseDistanceTest, MatchesDenseReferences)
{
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> value(-2.0f, 2.0f);
    const std::int32_t dims_cases[] = {1, 2, 3, 17, 100, 1000};
    const double densities[] = {0.0, 0.05, 0.3, 0.9, 1.0};
    int nonzero_dots = 0;
    for (std::int32_t dims : dims_cases)
        for (double da : densities)
            for (double db : densities)
                for (int trial = 0; trial < 3; trial++) {
                    Sparse a = random_sparse(dims, da, value, rng);
                    Sparse b = random_sparse(dims, db, value, rng);
                    SCOPED_TRACE(testing::Message() << "dims " << dims << " nnz " << a.indices.size() << ", "
                                                    << b.indices.size());
                    const std::vector<float> x = a.dense(), y = b.dense();

                    EXPECT_EQ(sparse_l2_squared_float(a.view(), b.view()), dense_l2_float(x, y));
                    EXPECT_EQ(sparse_dot_float(a.view(), b.view()), dense_dot_float(x, y));
                    EXPECT_EQ(sparse_l1_float(a.view(), b.view()), dense_l1_float(x, y));

                    const DenseDouble ref = dense_double(x, y);
                    expect_near_rel(sparse_l2_squared(a.view(), b.view()), ref.l2, 1e-5, "l2 squared");
                    expect_near_rel(sparse_l1(a.view(), b.view()), ref.l1, 1e-5, "l1");
                    // A dot of mixed signs cancels: bound its error by sum |terms|.
                    double abs_terms = 0;
                    for (std::size_t i = 0; i < x.size(); i++)
                        abs_terms += std::fabs(double(x[i]) * y[i]);
                    EXPECT_NEAR(sparse_dot(a.view(), b.view()), ref.dot, 1e-5 * abs_terms + 1e-30);
                    nonzero_dots += ref.dot != 0;
                    expect_near_rel(sparse_norm(a.view()), std::sqrt(ref.norm_a), 1e-12, "norm");

                    const double cosine = sparse_cosine_distance(a.view(), b.view());
                    if (ref.norm_a == 0 || ref.norm_b == 0) {
                        EXPECT_TRUE(std::isnan(cosine));
                    } else {
                        const double want = 1.0 - ref.dot / std::sqrt(ref.norm_a * ref.norm_b);
                        EXPECT_NEAR(cosine, want, 1e-5 * abs_terms / std::sqrt(ref.norm_a * ref.norm_b) + 1e-6);
                        EXPECT_GE(cosine, 0.0);
                        EXPECT_LE(cosine, 2.0);
                    }
                }
    EXPECT_GT(nonzero_dots, 100);  // the data exercised shared indices
}

TEST(SparseDistanceTest, HandWorkedValues)
{
    // a = (3, 0, 0, 4), b = (0, 0, 1, 4) as sparse vectors of 4 dimensions.
    const std::int32_t ai[] = {0, 3}, bi[] = {2, 3};
    const float av[] = {3, 4}, bv[] = {1, 4};
    const SparseView a{ai, av, 2}, b{bi, bv, 2};
    EXPECT_EQ(sparse_l2_squared(a, b), 10.0);  // 9 + 1 + 0
    EXPECT_EQ(sparse_dot(a, b), 16.0);
    EXPECT_EQ(sparse_l1(a, b), 4.0);  // 3 + 1 + 0
    EXPECT_EQ(sparse_norm(a), 5.0);
    EXPECT_NEAR(sparse_cosine_distance(a, b), 1.0 - 16.0 / (5.0 * std::sqrt(17.0)), 1e-7);
    const SparseView empty{nullptr, nullptr, 0};
    EXPECT_EQ(sparse_l2_squared(a, empty), 25.0);
    EXPECT_EQ(sparse_l2_squared(empty, a), 25.0);
    EXPECT_EQ(sparse_dot(a, empty), 0.0);
    EXPECT_TRUE(std::isnan(sparse_cosine_distance(a, empty)));
    EXPECT_TRUE(std::isnan(sparse_cosine_distance(empty, empty)));
}

TEST(SparseDistanceTest, ExtremeValuesAreRedoneInDouble)
{
    // Float sums overflow or underflow here; the checked results must not.
    const std::int32_t i01[] = {0, 1}, i0[] = {0};
    const float big[] = {3e38f, -3e38f}, neg_big[] = {-3e38f, 3e38f};
    const SparseView a{i01, big, 2}, b{i01, neg_big, 2};
    EXPECT_TRUE(std::isinf(sparse_l2_squared_float(a, b)));
    const double m = 3e38f;  // the float nearest 3e38
    EXPECT_NEAR(sparse_l2_squared(a, b), 2 * (2 * m) * (2 * m), 1e-12 * 8 * m * m);
    EXPECT_NEAR(sparse_l1(a, b), 4 * m, 1e-12 * 4 * m);
    EXPECT_NEAR(sparse_dot(a, a), 2 * m * m, 1e-12 * 2 * m * m);
    EXPECT_NEAR(sparse_cosine_distance(a, b), 2.0, 1e-12);

    const float tiny[] = {1e-40f}, tiny_b[] = {1e-40f};
    const std::int32_t i1[] = {1};
    const SparseView t{i0, tiny, 1}, u{i1, tiny_b, 1};
    EXPECT_EQ(sparse_l2_squared_float(t, u), 0.0f);  // the squares underflow
    EXPECT_NEAR(sparse_l2_squared(t, u), 2.0 * double(1e-40f) * double(1e-40f), 1e-90);
    EXPECT_NEAR(sparse_cosine_distance(t, u), 1.0, 1e-12);
    EXPECT_NEAR(sparse_cosine_distance(t, t), 0.0, 1e-12);
}

// --- Comparison --------------------------------------------------------------

int dense_compare(const std::vector<float> &a, const std::vector<float> &b)
{
    const std::size_t common = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < common; i++) {
        if (a[i] < b[i])
            return -1;
        if (a[i] > b[i])
            return 1;
    }
    return (a.size() > b.size()) - (a.size() < b.size());
}

TEST(SparseCompareTest, MatchesDenseLexicographicOrder)
{
    // Few dimensions and values from {-1, 1, 2} make ties and shared
    // prefixes common, so every branch is reached.
    std::mt19937 rng(3);
    std::discrete_distribution<int> pick({1, 1, 1});
    auto value = [&](std::mt19937 &) { return float(std::array<int, 3>{-1, 1, 2}[std::size_t(pick(rng))]); };
    int outcomes[3] = {0, 0, 0};
    for (int trial = 0; trial < 20000; trial++) {
        const std::int32_t da = 1 + std::int32_t(rng() % 5), db = 1 + std::int32_t(rng() % 5);
        Sparse a = random_sparse(da, 0.4, value, rng);
        Sparse b = random_sparse(db, 0.4, value, rng);
        const int want = dense_compare(a.dense(), b.dense());
        ASSERT_EQ(sparse_compare(a.view(), a.dims, b.view(), b.dims), want) << "trial " << trial;
        ASSERT_EQ(sparse_compare(b.view(), b.dims, a.view(), a.dims), -want) << "trial " << trial;
        outcomes[want + 1]++;
    }
    EXPECT_GT(outcomes[0], 5000);
    EXPECT_GT(outcomes[1], 300);  // equal
    EXPECT_GT(outcomes[2], 5000);
}

}  // namespace
}  // namespace vecdb
