#include "agentd/inference/errc.h"
#include "agentd/inference/value_json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace agentd::inference {
namespace {

TEST(ValueJson, ParsesAllKindsAndKeepsKeyOrder) {
    auto v = parse_json(R"( {"z": 1, "a": [true, false, null, 1.5, -0, "x"], "m": {}} )");
    ASSERT_TRUE(v) << v.error().what();
    ASSERT_TRUE(v->is_object());
    const Object& o = v->as_object();
    ASSERT_EQ(o.size(), 3u);
    EXPECT_EQ(o.at(0).first, "z");
    EXPECT_EQ(o.at(1).first, "a");
    EXPECT_EQ(o.at(2).first, "m");
    const Array& a = v->find("a")->as_array();
    EXPECT_TRUE(a[0].as_bool());
    EXPECT_TRUE(a[2].is_null());
    EXPECT_TRUE(a[3].is_double());
    EXPECT_TRUE(a[4].is_int());
    EXPECT_EQ(a[5].as_string(), "x");
}

TEST(ValueJson, DuplicateKeyLastWinsAtFirstPosition) {
    auto v = parse_json(R"({"a": 1, "b": 2, "a": 3})");
    ASSERT_TRUE(v);
    EXPECT_EQ(to_json(*v), R"({"a":3,"b":2})");
}

TEST(ValueJson, DecodesEscapesAndSurrogates) {
    auto v = parse_json(R"("\u00e9\ud83d\ude00\n\t\"\\\/\ud800x")");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->as_string(), "\xC3\xA9\xF0\x9F\x98\x80\n\t\"\\/\xEF\xBF\xBDx");
}

TEST(ValueJson, RejectsMalformedInputWithPosition) {
    for (const char* bad :
         {"", "{", "[1,]", "{\"a\" 1}", "01", "1.", "1e", "tru", "\"abc", "\"\x01\"", "[1] x",
          "{\"a\":1,}", "NaN", "\"\\x\"", "\"\xC3\x28\"", "-", "[1 2]", "\"\\ud83d\\u12\""}) {
        auto v = parse_json(bad);
        ASSERT_FALSE(v) << "accepted: " << bad;
        EXPECT_EQ(v.error().code, make_error_code(errc::invalid_json));
        EXPECT_NE(v.error().message.find("byte"), std::string::npos) << v.error().message;
    }
}

TEST(ValueJson, EnforcesDepthAndSizeLimits) {
    std::string deep(200, '[');
    deep += std::string(200, ']');
    auto v = parse_json(deep);
    ASSERT_FALSE(v);
    EXPECT_NE(v.error().message.find("nesting"), std::string::npos);

    JsonParseLimits small;
    small.max_bytes = 10;
    EXPECT_FALSE(parse_json("[1,2,3,4,5,6]", small));
    small = {};
    small.max_string_bytes = 3;
    EXPECT_FALSE(parse_json("\"abcdef\"", small));
    small = {};
    small.max_elements = 3;
    EXPECT_FALSE(parse_json("[1,2,3,4]", small));
    EXPECT_TRUE(parse_json("[1,2,3]", small));
}

TEST(ValueJson, NumbersKeepTheirKind) {
    auto v = parse_json("[1, 1.0, 1e2, 12345678901234567890, -9223372036854775808, 1e-400]");
    ASSERT_TRUE(v);
    const Array& a = v->as_array();
    EXPECT_TRUE(a[0].is_int());
    EXPECT_TRUE(a[1].is_double());
    EXPECT_TRUE(a[2].is_double());
    EXPECT_TRUE(a[3].is_double()); // beyond int64
    EXPECT_EQ(a[4].as_int(), std::numeric_limits<std::int64_t>::min());
    EXPECT_EQ(a[5].as_double(), 0.0);
    EXPECT_FALSE(parse_json("1e999"));
}

TEST(ValueJson, PrefixParseStopsAfterValue) {
    auto p = parse_json_prefix(R"(  {"a": [1]}</tool_call>)");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->consumed, 12u);
    EXPECT_EQ(to_json(p->value), R"({"a":[1]})");
}

TEST(ValueJson, PythonFloatRepr) {
    EXPECT_EQ(python_float_repr(1.0), "1.0");
    EXPECT_EQ(python_float_repr(100.0), "100.0");
    EXPECT_EQ(python_float_repr(0.1 + 0.2), "0.30000000000000004");
    EXPECT_EQ(python_float_repr(1e16), "1e+16");
    EXPECT_EQ(python_float_repr(1.5e-5), "1.5e-05");
    EXPECT_EQ(python_float_repr(1e-4), "0.0001");
    EXPECT_EQ(python_float_repr(-0.0), "-0.0");
    EXPECT_EQ(python_float_repr(1e100), "1e+100");
    EXPECT_EQ(python_float_repr(123456789012345678.0), "1.2345678901234568e+17");
    EXPECT_EQ(python_float_repr(9999999999999998.0), "9999999999999998.0");
    EXPECT_EQ(python_float_repr(std::nan("")), "nan");
    EXPECT_EQ(python_float_repr(-std::numeric_limits<double>::infinity(), true), "-Infinity");
}

TEST(ValueJson, WritesLikePythonJsonDumps) {
    auto v =
        parse_json(R"({"a": 1.0, "b": "\u00e9<>&'", "c": [1e16, 0.1, -0.0], "d": {}, "e": []})");
    ASSERT_TRUE(v);
    EXPECT_EQ(to_json(*v, JsonWriteOptions::python()),
              "{\"a\": 1.0, \"b\": \"\xC3\xA9<>&'\", \"c\": [1e+16, 0.1, -0.0], \"d\": {}, "
              "\"e\": []}");
    JsonWriteOptions ascii = JsonWriteOptions::python();
    ascii.ensure_ascii = true;
    EXPECT_EQ(to_json(Value("\xC3\xA9\xF0\x9F\x98\x80\x7F\x01"), ascii),
              "\"\\u00e9\\ud83d\\ude00\\u007f\\u0001\"");
    EXPECT_EQ(to_json(*parse_json(R"({"a":[1,{"b":2}],"c":{}})"), JsonWriteOptions::python(2)),
              "{\n  \"a\": [\n    1,\n    {\n      \"b\": 2\n    }\n  ],\n  \"c\": {}\n}");
    JsonWriteOptions sorted = JsonWriteOptions::compact();
    sorted.sort_keys = true;
    EXPECT_EQ(to_json(*parse_json(R"({"b":1,"a":2})"), sorted), R"({"a":2,"b":1})");
}

TEST(ValueJson, InvalidUtf8IsReplacedOnOutput) {
    EXPECT_EQ(to_json(Value(std::string("a\xFF"
                                        "b"))),
              "\"a\xEF\xBF\xBD"
              "b\"");
}

TEST(Value, ObjectEqualityIgnoresOrderAndNumbersCompareByValue) {
    auto a = parse_json(R"({"x": 1, "y": [1, 2.0]})");
    auto b = parse_json(R"({"y": [1.0, 2], "x": 1.0})");
    ASSERT_TRUE(a && b);
    EXPECT_EQ(*a, *b);
    EXPECT_FALSE(*a == Value(Object{}));
}

TEST(Value, LargeObjectsStayIndexedAcrossCopiesAndErase) {
    Object o;
    for (int i = 0; i < 1000; ++i) {
        std::string key = "k"; // (not "k" + to_string: GCC 12 -Wrestrict false positive)
        key += std::to_string(i);
        o.set(std::move(key), Value(i));
    }
    Object copy = o;
    ASSERT_NE(copy.find("k999"), nullptr);
    EXPECT_EQ(copy.find("k999")->as_int(), 999);
    EXPECT_TRUE(copy.erase("k500"));
    EXPECT_EQ(copy.find("k500"), nullptr);
    EXPECT_EQ(copy.find("k501")->as_int(), 501);
    EXPECT_EQ(copy.size(), 999u);
    EXPECT_EQ(o.size(), 1000u);
}

} // namespace
} // namespace agentd::inference
