#include "agentd/memory/errc.h"

#include "vector/metadata_filter.h"

#include <gtest/gtest.h>

namespace agentd::memory::vector {
namespace {

bool match(const char* filter, const char* meta) {
    auto f = MetadataFilter::compile(filter);
    EXPECT_TRUE(f) << filter << ": " << f.error().what();
    return f && f->matches(FlatMeta::from_json(meta));
}

TEST(MetadataFilter, EqualityPathsAndArrays) {
    const char* doc = R"({"kind":"note","n":3,"ok":true,"tags":["a","b"],"user":{"id":"u1"},
                          "items":[{"sku":"x"},{"sku":"y"}],"none":null})";
    EXPECT_TRUE(match("", doc));
    EXPECT_TRUE(match("{}", doc));
    EXPECT_TRUE(match(R"({"kind":"note"})", doc));
    EXPECT_FALSE(match(R"({"kind":"fact"})", doc));
    EXPECT_TRUE(match(R"({"n":3})", doc));
    EXPECT_TRUE(match(R"({"n":3.0})", doc));
    EXPECT_FALSE(match(R"({"n":"3"})", doc)); // no type coercion
    EXPECT_TRUE(match(R"({"ok":true})", doc));
    EXPECT_FALSE(match(R"({"ok":1})", doc));
    EXPECT_TRUE(match(R"({"tags":"b"})", doc));
    EXPECT_TRUE(match(R"({"user.id":"u1"})", doc));
    EXPECT_TRUE(match(R"({"items.sku":"y"})", doc));
    EXPECT_TRUE(match(R"({"none":null})", doc));
    EXPECT_FALSE(match(R"({"missing":null})", doc));
    EXPECT_TRUE(match(R"({"kind":"note","n":3})", doc));
    EXPECT_FALSE(match(R"({"kind":"note","n":4})", doc));
}

TEST(MetadataFilter, OperatorsAndCombinators) {
    const char* doc = R"({"n":5,"s":"m","tags":["x","y"],"obj":{}})";
    EXPECT_TRUE(match(R"({"n":{"$gt":4,"$lte":5}})", doc));
    EXPECT_FALSE(match(R"({"n":{"$gt":5}})", doc));
    EXPECT_TRUE(match(R"({"n":{"$gte":5}})", doc));
    EXPECT_TRUE(match(R"({"n":{"$lt":6}})", doc));
    EXPECT_FALSE(match(R"({"n":{"$lt":"z"}})", doc)); // number vs string: not comparable
    EXPECT_TRUE(match(R"({"s":{"$gt":"a","$lt":"z"}})", doc));
    EXPECT_TRUE(match(R"({"n":{"$ne":4}})", doc));
    EXPECT_TRUE(match(R"({"missing":{"$ne":4}})", doc));
    EXPECT_TRUE(match(R"({"n":{"$in":[1,5,9]}})", doc));
    EXPECT_FALSE(match(R"({"n":{"$nin":[1,5,9]}})", doc));
    EXPECT_TRUE(match(R"({"tags":{"$in":["y","z"]}})", doc));
    EXPECT_FALSE(match(R"({"tags":{"$nin":["y"]}})", doc));
    EXPECT_TRUE(match(R"({"obj":{"$exists":true}})", doc));
    EXPECT_TRUE(match(R"({"nope":{"$exists":false}})", doc));
    EXPECT_TRUE(match(R"({"$or":[{"n":1},{"s":"m"}]})", doc));
    EXPECT_FALSE(match(R"({"$and":[{"n":5},{"s":"q"}]})", doc));
    EXPECT_TRUE(match(R"({"$not":{"s":"q"}})", doc));
    EXPECT_TRUE(match(R"({"$and":[{"$or":[{"n":1},{"n":5}]},{"$not":{"tags":"z"}}]})", doc));
}

TEST(MetadataFilter, RejectsMalformedFiltersPrecisely) {
    struct Case {
        const char* filter;
        const char* says;
    };
    const Case cases[] = {
        {"[1]", "expected an object"},
        {"{", "not valid JSON"},
        {R"({"$foo":1})", "unknown operator $foo"},
        {R"({"a":{"$foo":1}})", "unknown operator $foo"},
        {R"({"a":{}})", "empty operator object"},
        {R"({"a":[1,2]})", "$in"},
        {R"({"a":{"$gt":true}})", "number or a string"},
        {R"({"a":{"$in":5}})", "array"},
        {R"({"a":{"$exists":"yes"}})", "true or false"},
        {R"({"$and":{}})", "non-empty array"},
    };
    for (const auto& c : cases) {
        auto f = MetadataFilter::compile(c.filter);
        ASSERT_FALSE(f) << c.filter;
        EXPECT_EQ(f.error().code, errc::invalid_argument);
        EXPECT_NE(f.error().message.find(c.says), std::string::npos)
            << c.filter << " -> " << f.error().message;
    }
}

TEST(MetadataFilter, NonObjectMetadataMatchesOnlyNegations) {
    EXPECT_FALSE(match(R"({"a":1})", "[1,2]"));
    EXPECT_TRUE(match(R"({"a":{"$exists":false}})", "not json"));
}

} // namespace
} // namespace agentd::memory::vector
