/*
 * vector_text_test.cpp -- parse_vector_text and vector_text_dims_bound: the
 * accepted forms, each error status, and where an error token points.
 */
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../../src/core/vector_text.h"

namespace vecdb {
namespace {

constexpr std::size_t kCapacity = 16;

struct Valid {
    const char *text;
    std::vector<float> values;
};

TEST(ParseVectorTextTest, ValidForms)
{
    const Valid cases[] = {
        {"[1,2,3]", {1.0f, 2.0f, 3.0f}},
        {" [ 1 , 2 ] ", {1.0f, 2.0f}},
        {"\t[\n1.5,\r-0.25\f]\v", {1.5f, -0.25f}},
        {"[42]", {42.0f}},
        {"[1e3]", {1000.0f}},
        {"[-2.5E-2]", {-2.5e-2f}},
        {"[+4, +0.5]", {4.0f, 0.5f}},
        {"[.5, -7., 1e+2]", {0.5f, -7.0f, 100.0f}},
        {"[3.4e38]", {3.4e38f}},
        {"[0, -0]", {0.0f, -0.0f}},
    };
    for (const Valid &c : cases) {
        SCOPED_TRACE(c.text);
        float out[kCapacity];
        ParseResult r = parse_vector_text(c.text, out, kCapacity);
        ASSERT_EQ(r.status, ParseStatus::Ok);
        ASSERT_EQ(r.dims, c.values.size());
        for (std::size_t i = 0; i < r.dims; i++) {
            EXPECT_EQ(out[i], c.values[i]) << "element " << i;
            EXPECT_EQ(std::signbit(out[i]), std::signbit(c.values[i])) << "element " << i;
        }
    }
}

TEST(ParseVectorTextTest, Malformed)
{
    const char *cases[] = {
        "",     "   ",   "1,2",   "[1,2",  "[1,,2]", "[,1]", "[1,]", "[1 2]", "[1]x",
        "[a]",  "[1]]",  "[",     "]",     "1]",     "[1;2]", "[--1]", "[1,2]3", "[]x",
        "[1e]x", "(1,2)", "[1,2,]", "[ , ]",
    };
    for (const char *text : cases) {
        SCOPED_TRACE(std::string("\"") + text + "\"");
        float out[kCapacity];
        ParseResult r = parse_vector_text(text, out, kCapacity);
        EXPECT_EQ(r.status, ParseStatus::Malformed);
        EXPECT_EQ(r.dims, 0u);
    }
}

TEST(ParseVectorTextTest, Empty)
{
    for (const char *text : {"[]", "[ ]", " [\t] "}) {
        SCOPED_TRACE(text);
        float out[kCapacity];
        ParseResult r = parse_vector_text(text, out, kCapacity);
        EXPECT_EQ(r.status, ParseStatus::Empty);
        EXPECT_EQ(r.dims, 0u);
    }
}

TEST(ParseVectorTextTest, TooManyDimensions)
{
    // One guard element past the capacity: the parser must not write it.
    const float guard = -12345.0f;
    float out[4] = {guard, guard, guard, guard};

    ParseResult r = parse_vector_text("[1,2,3]", out, 2);
    EXPECT_EQ(r.status, ParseStatus::TooManyDimensions);
    EXPECT_EQ(r.dims, 0u);
    EXPECT_EQ(out[2], guard);

    r = parse_vector_text("[1]", out, 0);
    EXPECT_EQ(r.status, ParseStatus::TooManyDimensions);

    r = parse_vector_text("[1,2,3]", out, 3);
    ASSERT_EQ(r.status, ParseStatus::Ok);
    EXPECT_EQ(r.dims, 3u);
    EXPECT_EQ(out[2], 3.0f);
    EXPECT_EQ(out[3], guard);
}

TEST(ParseVectorTextTest, OutOfRange)
{
    struct Case {
        const char *text;
        const char *token;
    };
    for (Case c : {Case{"[1e39]", "1e39"}, Case{"[1, -1e39 ]", "-1e39"}, Case{"[ 3.5e38,2]", "3.5e38"}}) {
        SCOPED_TRACE(c.text);
        float out[kCapacity];
        ParseResult r = parse_vector_text(c.text, out, kCapacity);
        ASSERT_EQ(r.status, ParseStatus::OutOfRange);
        EXPECT_EQ(r.dims, 0u);
        ASSERT_NE(r.token, nullptr);
        EXPECT_EQ(r.token, std::strstr(c.text, c.token));
        EXPECT_EQ(r.token_length, std::strlen(c.token));
    }

    // The case the SQL error message quotes.
    const char *text = "[1e39]";
    float out[kCapacity];
    ParseResult r = parse_vector_text(text, out, kCapacity);
    EXPECT_EQ(r.token, text + 1);
    EXPECT_EQ(r.token_length, 4u);
    EXPECT_EQ(std::string(r.token, r.token_length), "1e39");
}

TEST(ParseVectorTextTest, NotFinite)
{
    struct Case {
        const char *text;
        const char *token;
    };
    for (Case c : {Case{"[nan]", "nan"}, Case{"[inf]", "inf"}, Case{"[-Infinity]", "-Infinity"},
                   Case{"[1, NaN, 2]", "NaN"}, Case{"[ +INF ]", "+INF"}}) {
        SCOPED_TRACE(c.text);
        float out[kCapacity];
        ParseResult r = parse_vector_text(c.text, out, kCapacity);
        ASSERT_EQ(r.status, ParseStatus::NotFinite);
        EXPECT_EQ(r.dims, 0u);
        ASSERT_NE(r.token, nullptr);
        EXPECT_EQ(r.token, std::strstr(c.text, c.token));
        EXPECT_EQ(r.token_length, std::strlen(c.token));
    }
}

TEST(VectorTextDimsBoundTest, CountsCommasPlusOne)
{
    EXPECT_EQ(vector_text_dims_bound("[1]"), 1u);
    EXPECT_EQ(vector_text_dims_bound("[1,2,3]"), 3u);
    EXPECT_EQ(vector_text_dims_bound("[]"), 1u);
    EXPECT_EQ(vector_text_dims_bound(""), 1u);
    EXPECT_EQ(vector_text_dims_bound("[,,]"), 3u);
}

TEST(VectorTextDimsBoundTest, BoundsWhatTheParserStores)
{
    // A buffer of exactly the bound is always big enough for valid text.
    for (const char *text : {"[1]", " [ 1 , 2 ] ", "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20]"}) {
        SCOPED_TRACE(text);
        std::size_t bound = vector_text_dims_bound(text);
        std::vector<float> out(bound);
        ParseResult r = parse_vector_text(text, out.data(), bound);
        ASSERT_EQ(r.status, ParseStatus::Ok);
        EXPECT_EQ(r.dims, bound);
        for (std::size_t i = 0; i < r.dims; i++)
            EXPECT_EQ(out[i], static_cast<float>(i + 1));
    }
}

}  // namespace
}  // namespace vecdb
