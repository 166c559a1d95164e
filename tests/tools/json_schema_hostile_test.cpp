// Hostile schemas and instances: every one must finish quickly with an error, never hang,
// crash or silently pass.
#include "schema_test_util.h"

#include <atomic>
#include <thread>

namespace agentd::tools::test {
namespace {

/// prefix + number (string concatenation helper; avoids a GCC 12 -Wrestrict false positive
/// with `"literal" + std::to_string(i)`).
std::string numbered(const char* prefix, int i) {
    std::string out = prefix;
    out += std::to_string(i);
    return out;
}

bool mentions(const std::vector<SchemaError>& errors, const std::string& text) {
    for (const auto& e : errors) {
        if (e.message.find(text) != std::string::npos) {
            return true;
        }
    }
    return false;
}

TEST(JsonSchemaHostile, DeeplyNestedSchemaIsRefused) {
    nlohmann::json schema = {{"type", "string"}};
    for (int i = 0; i < 200; ++i) {
        schema = nlohmann::json{{"items", std::move(schema)}};
    }
    const auto compiled = JsonSchema::compile(schema);
    ASSERT_FALSE(compiled.has_value());
    EXPECT_NE(compiled.error().message.find("nested deeper than 128 levels"), std::string::npos);
}

TEST(JsonSchemaHostile, DeeplyNestedInstanceIsAnErrorNotACrash) {
    const auto s = compile_ok(R"({"items":{"$ref":"#"}})");
    nlohmann::json value = nlohmann::json::array();
    for (int i = 0; i < 100000; ++i) {
        nlohmann::json outer = nlohmann::json::array();
        outer.push_back(std::move(value));
        value = std::move(outer);
    }
    const auto errors = s->validate(value);
    EXPECT_TRUE(mentions(errors, "nested deeper than 128 levels"));
    EXPECT_FALSE(s->accepts(value));
}

TEST(JsonSchemaHostile, CatastrophicRegexIsBounded) {
    const auto s = compile_ok(R"({"pattern":"^(a+)+$"})");
    const std::string evil = nlohmann::json(std::string(64, 'a') + "!").dump();
    const auto errors = s->validate(nlohmann::json::parse(evil));
    EXPECT_TRUE(mentions(errors, "too expensive")) << describe_schema_errors(errors);
    EXPECT_FALSE(valid(*s, evil));
    // Failing closed: an aborted evaluation inside "not" must not turn into a pass.
    EXPECT_FALSE(valid(R"({"not":{"pattern":"^(a+)+$"}})", evil));
    EXPECT_FALSE(valid(R"({"propertyNames":{"pattern":"^(a|aa)+$"}})",
                       nlohmann::json{{std::string(64, 'a') + "b", 1}}.dump()));
    // The same pattern still answers ordinary inputs.
    EXPECT_TRUE(valid(*s, R"("aaaa")"));
}

TEST(JsonSchemaHostile, ExponentialApplicatorGraphHitsTheStepBudget) {
    nlohmann::json defs = nlohmann::json::object();
    const int levels = 40;
    for (int i = 0; i < levels; ++i) {
        const std::string next = numbered("#/$defs/d", i + 1);
        defs[numbered("d", i)] = {
            {"anyOf", nlohmann::json::array({{{"$ref", next}}, {{"$ref", next}}})}};
    }
    defs[numbered("d", levels)] = false;
    nlohmann::json schema = {{"$defs", defs}, {"$ref", "#/$defs/d0"}};
    const auto compiled = JsonSchema::compile(schema);
    ASSERT_TRUE(compiled.has_value()) << compiled.error().message;
    const auto errors = (*compiled)->validate(1);
    EXPECT_TRUE(mentions(errors, "too expensive")) << describe_schema_errors(errors);
    EXPECT_FALSE((*compiled)->accepts(1));

    // All-true leaves under oneOf: every branch must be evaluated to count matches.
    defs[numbered("d", levels)] = true;
    for (int i = 0; i < levels; ++i) {
        defs[numbered("d", i)]["oneOf"] = defs[numbered("d", i)]["anyOf"];
        defs[numbered("d", i)].erase("anyOf");
    }
    const auto one = JsonSchema::compile({{"$defs", defs}, {"$ref", "#/$defs/d0"}});
    ASSERT_TRUE(one.has_value());
    EXPECT_FALSE((*one)->accepts(1));
}

TEST(JsonSchemaHostile, LongRefChainIsBoundedByEvaluationDepth) {
    nlohmann::json defs = nlohmann::json::object();
    const int length = 3000;
    for (int i = 0; i < length; ++i) {
        defs[numbered("d", i)] = {{"$ref", numbered("#/$defs/d", i + 1)}};
    }
    defs[numbered("d", length)] = {{"type", "integer"}};
    const auto compiled = JsonSchema::compile({{"$defs", defs}, {"$ref", "#/$defs/d0"}});
    ASSERT_TRUE(compiled.has_value()) << compiled.error().message;
    const auto errors = (*compiled)->validate(1);
    EXPECT_TRUE(mentions(errors, "nest deeper than")) << describe_schema_errors(errors);
}

TEST(JsonSchemaHostile, TooManySubschemasOrPatterns) {
    nlohmann::json props = nlohmann::json::object();
    for (int i = 0; i < 25000; ++i) {
        props[numbered("p", i)] = {{"type", "string"}};
    }
    const auto big = JsonSchema::compile({{"properties", props}});
    ASSERT_FALSE(big.has_value());
    EXPECT_NE(big.error().message.find("more than 20000 subschemas"), std::string::npos);

    nlohmann::json patterns = nlohmann::json::object();
    for (int i = 0; i < 2500; ++i) {
        patterns[numbered("^p", i) + std::string("$")] = true;
    }
    const auto many = JsonSchema::compile({{"patternProperties", patterns}});
    ASSERT_FALSE(many.has_value());
    EXPECT_NE(many.error().message.find("too many distinct patterns"), std::string::npos);
}

TEST(JsonSchemaHostile, RegexSizeAndNestingLimits) {
    const auto long_pattern = JsonSchema::compile({{"pattern", std::string(5000, 'a')}});
    ASSERT_FALSE(long_pattern.has_value());
    EXPECT_NE(long_pattern.error().message.find("the limit is 4096"), std::string::npos);
    const auto nested =
        JsonSchema::compile({{"pattern", std::string(200, '(') + "a" + std::string(200, ')')}});
    ASSERT_FALSE(nested.has_value());
    EXPECT_NE(nested.error().message.find("/pattern: invalid regular expression"),
              std::string::npos);
}

TEST(JsonSchemaHostile, ErrorCountIsCapped) {
    const auto s = compile_ok(R"({"items":{"type":"string"}})");
    nlohmann::json many = nlohmann::json::array();
    for (int i = 0; i < 100000; ++i) {
        many.push_back(i);
    }
    EXPECT_EQ(s->validate(many).size(), 32U);
}

TEST(JsonSchemaHostile, ProblemsListIsCappedToo) {
    nlohmann::json props = nlohmann::json::object();
    for (int i = 0; i < 500; ++i) {
        props[numbered("p", i)] = {{"type", "bogus"}};
    }
    const auto compiled = JsonSchema::compile({{"properties", props}});
    ASSERT_FALSE(compiled.has_value());
    EXPECT_LT(compiled.error().message.size(), 4000U);
}

TEST(JsonSchemaConcurrency, ValidateFromManyThreads) {
    const auto s = compile_ok(R"({"type":"object","properties":{"s":{"pattern":"^[a-z]+$"},
        "n":{"type":"integer"}},"required":["s"],"unevaluatedProperties":false})");
    const auto good = nlohmann::json::parse(R"({"s":"abc","n":1})");
    const auto bad = nlohmann::json::parse(R"({"s":"ABC","x":1})");
    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 2000; ++i) {
                if (!s->accepts(good) || s->accepts(bad) || s->validate(bad).size() != 2) {
                    ++mismatches;
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(mismatches.load(), 0);
}

} // namespace
} // namespace agentd::tools::test

namespace agentd::tools::test {
namespace {

TEST(JsonSchemaHostile, OrdinaryPatternsHandleLongStrings) {
    // Simple patterns over 1 MiB; repeated groups (which backtrack per repetition) over 64 KiB.
    const std::string text(1 << 20, 'a');
    const std::string shorter(1 << 16, 'a');
    for (const char* pattern :
         {"^[a-z0-9 ]+$", "a{3}", "^\\w+$", "^.*$", "^(a|b)*$", "(x|a)+$", "^(?:a|b)+$"}) {
        nlohmann::json schema = {{"pattern", pattern}};
        const auto s = JsonSchema::compile(schema);
        ASSERT_TRUE(s.has_value());
        const bool group = std::string_view(pattern).find('|') != std::string_view::npos;
        const auto errors = (*s)->validate(group ? shorter : text);
        EXPECT_TRUE(errors.empty()) << pattern << ": " << describe_schema_errors(errors);
    }
}

} // namespace
} // namespace agentd::tools::test
