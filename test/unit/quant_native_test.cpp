// decode_native / to_native: the code's own coordinates keep distances and
// inner products up to the error that falls in padding coordinates, so
// inserts may compare codes there (skipping the inverse rotation).  For
// every quantizer, at an unpadded (128) and a padded (100 -> 104)
// dimension: |to_native(x) - decode_native(c)|^2 equals |x - decode(c)|^2
// without padding and exceeds it by at most r^2 with padding; inner
// products of two reconstructions differ by at most r_a r_b.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "quant_test_util.h"

namespace vecdb {
namespace {

using namespace quant_test;

double dot(const float *a, const float *b, std::size_t n)
{
    double s = 0;
    for (std::size_t i = 0; i < n; i++)
        s += double(a[i]) * b[i];
    return s;
}

double l2(const float *a, const float *b, std::size_t n)
{
    double s = 0;
    for (std::size_t i = 0; i < n; i++)
        s += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    return s;
}

/// The residual norm r (rotated codes' header) where padding is involved,
/// else 0: the most the padding coordinates can hold of the error.
double residual(const Quantizer &q, const std::uint8_t *code)
{
    if (q.native_dim() == q.dim())
        return 0;
    return load_rotated_header(code).r;
}

class NativeTest : public ::testing::TestWithParam<Kind> {};

TEST_P(NativeTest, NativeCoordinatesKeepDistances)
{
    for (std::size_t d : {128, 100}) {
        const std::size_t n = 40;
        const std::vector<float> x = gaussian_vectors(n, d, 11 + d);
        auto box = make_quantizer(GetParam(), d, Metric::L2, 5, x);
        const std::vector<std::uint8_t> codes = box->encode_all(x);
        const std::size_t size = box->q().code_size(), nd = box->q().native_dim();
        ASSERT_GE(nd, d);
        if (GetParam() == Kind::SQ8) {
            ASSERT_EQ(nd, d);
        }
        std::vector<float> dec(n * d), nat(n * nd), xn(nd);
        for (std::size_t i = 0; i < n; i++) {
            box->q().decode(&codes[i * size], &dec[i * d], box->work.data());
            box->q().decode_native(&codes[i * size], &nat[i * nd], box->work.data());
        }
        for (std::size_t i = 0; i < n; i++) {
            const double tol = 1e-4 * (1 + dot(&x[i * d], &x[i * d], d));
            const double r = residual(box->q(), &codes[i * size]);
            box->q().to_native(&x[i * d], xn.data());
            const double want = l2(&x[i * d], &dec[i * d], d), got = l2(xn.data(), &nat[i * nd], nd);
            EXPECT_GE(got, want - tol) << "d " << d << " row " << i;
            EXPECT_LE(got, want + r * r + tol) << "d " << d << " row " << i;
            const std::size_t j = (i + 1) % n;
            const double rj = residual(box->q(), &codes[j * size]);
            const double ip = dot(&dec[i * d], &dec[j * d], d), ip_native = dot(&nat[i * nd], &nat[j * nd], nd);
            EXPECT_NEAR(ip_native, ip, r * rj + 1e-4 * (1 + std::fabs(ip))) << "d " << d << " rows " << i << ", " << j;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(AllQuantizers, NativeTest, ::testing::ValuesIn(kAllKinds),
                         [](const ::testing::TestParamInfo<Kind> &info) { return std::string(kind_name(info.param)); });

}  // namespace
}  // namespace vecdb
