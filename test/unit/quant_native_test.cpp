// decode_native / to_native: the code's own coordinates keep distances and
// inner products, so inserts may compare codes there (skipping the inverse
// rotation where no padding is needed).  For every quantizer, at a padded
// (100) and an unpadded (128) dimension: |to_native(x) - decode_native(c)| equals |x - decode(c)|, and
// <decode_native(a), decode_native(b)> equals <decode(a), decode(b)>, up to
// float rounding.
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

class NativeTest : public ::testing::TestWithParam<Kind> {};

TEST_P(NativeTest, NativeCoordinatesKeepDistances)
{
    for (std::size_t d : {100, 128}) {
        const std::size_t n = 40;
        const std::vector<float> x = gaussian_vectors(n, d, 11 + d);
        auto box = make_quantizer(GetParam(), d, Metric::L2, 5, x);
        const std::vector<std::uint8_t> codes = box->encode_all(x);
        const std::size_t size = box->q().code_size(), nd = d;
        std::vector<float> dec(n * d), nat(n * nd), xn(nd);
        for (std::size_t i = 0; i < n; i++) {
            box->q().decode(&codes[i * size], &dec[i * d], box->work.data());
            box->q().decode_native(&codes[i * size], &nat[i * nd], box->work.data());
        }
        for (std::size_t i = 0; i < n; i++) {
            box->q().to_native(&x[i * d], xn.data());
            const double want = l2(&x[i * d], &dec[i * d], d), got = l2(xn.data(), &nat[i * nd], nd);
            EXPECT_NEAR(got, want, 1e-4 * (1 + dot(&x[i * d], &x[i * d], d))) << "d " << d << " row " << i;
            const std::size_t j = (i + 1) % n;
            const double ip = dot(&dec[i * d], &dec[j * d], d), ip_native = dot(&nat[i * nd], &nat[j * nd], nd);
            EXPECT_NEAR(ip_native, ip, 1e-4 * (1 + std::fabs(ip))) << "d " << d << " rows " << i << ", " << j;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(AllQuantizers, NativeTest, ::testing::ValuesIn(kAllKinds),
                         [](const ::testing::TestParamInfo<Kind> &info) { return std::string(kind_name(info.param)); });

}  // namespace
}  // namespace vecdb
