// JSON Schema -> grammar: random walks through the token mask always produce JSON that parses
// and validates against the schema, the cached masks equal the byte-level decision at every
// step, and invalid continuations are masked.

#include "agentd/inference/errc.h"
#include "agentd/inference/grammar.h"
#include "agentd/inference/value_json.h"

#include "schema_validator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <regex>
#include <set>

namespace agentd::inference {
namespace {

using schema_test::validate;

Value json(std::string_view text) {
    auto v = parse_json(text);
    EXPECT_TRUE(v) << text;
    return v ? *v : Value();
}

// Every byte plus fragments real tokenizers have: JSON punctuation runs, keywords, words with
// leading spaces, digits, escapes and UTF-8 pieces.
std::shared_ptr<const GrammarVocabulary> json_vocab() {
    std::vector<std::string> t;
    for (int b = 0; b < 256; ++b) {
        t.emplace_back(1, static_cast<char>(b));
    }
    for (const char* s : {"{\"",      "\":",      "\": ",    "\",",   "\", \"",   "\"}",
                          "\"]",      "}]",       "}}",      "]}",    "[{",       "[\"",
                          "[]",       "{}",       ", ",      ": ",    "true",     "false",
                          "null",     "tr",       "ue",      "nu",    "ll",       "12",
                          "345",      "0.",       ".5",      "e+",    "-1",       "00",
                          "\\\"",     "\\n",      "\\\\",    "\\u00", "name",     "age",
                          "city",     " the",     " cat",    "Paris", "\xC3\xA9", "\xE2\x82\xAC",
                          "\xF0\x9F", "\x98\x80", "  ",      "\n  ",  "items",    "id",
                          "abc",      "2024",     "-0",      "1e",    "\"a",      "b\"",
                          "\"name\"", "\"age\":", "\": {\"", "\"}}"}) {
        t.emplace_back(s);
    }
    t.emplace_back("<|eos|>");
    std::vector<bool> special(t.size(), false);
    special.back() = true;
    return GrammarVocabulary::build(t, special, {static_cast<std::int32_t>(t.size() - 1)});
}

// ---- random walks ------------------------------------------------------------------------

bool mask_has(const std::vector<std::uint32_t>& m, std::int32_t t) {
    return (m[static_cast<std::size_t>(t) / 32] >> (t % 32)) & 1u;
}

// Walks the grammar choosing random allowed tokens (biased towards closing punctuation so walks
// end); returns the generated text, or nullopt if the step budget ran out.
std::optional<std::string> random_walk(GrammarMatcher& m, const GrammarVocabulary& vocab,
                                       std::mt19937& rng, bool check_masks) {
    std::vector<std::uint32_t> mask(m.mask_words());
    std::string out;
    for (int step = 0; step < 400; ++step) {
        m.fill_next_token_bitmask(mask);
        if (check_masks) {
            for (std::int32_t t = 0; t < vocab.size(); ++t) {
                EXPECT_EQ(mask_has(mask, t), m.allows_for_test(t))
                    << "after '" << out << "', token '" << vocab.bytes(t) << "'";
            }
        }
        std::vector<std::int32_t> allowed;
        std::vector<std::int32_t> closing;
        for (std::int32_t t = 0; t < vocab.size(); ++t) {
            if (!mask_has(mask, t)) {
                continue;
            }
            allowed.push_back(t);
            const std::string& b = vocab.bytes(t);
            if (vocab.is_eos(t) || b == "\"" || b == "}" || b == "]" || b == "\"}" || b == "}]" ||
                b == "\"]" || b == "]}" || b == "}}") {
                closing.push_back(t);
            }
        }
        EXPECT_FALSE(allowed.empty()) << "dead end after '" << out << "'";
        if (allowed.empty()) {
            return std::nullopt;
        }
        bool close =
            !closing.empty() && std::uniform_int_distribution<int>(0, 9)(rng) < (step > 60 ? 8 : 2);
        const auto& pool = close ? closing : allowed;
        std::int32_t t = pool[std::uniform_int_distribution<std::size_t>(0, pool.size() - 1)(rng)];
        EXPECT_TRUE(m.accept_token(t));
        if (vocab.is_eos(t)) {
            EXPECT_TRUE(m.is_terminated());
            return out;
        }
        out += vocab.bytes(t);
    }
    return std::nullopt;
}

void check_schema(const char* schema_text, int walks, bool check_masks = false,
                  JsonSchemaOptions options = {}, int min_finished_percent = 50) {
    Value schema = json(schema_text);
    auto g = Grammar::from_json_schema(schema, options);
    ASSERT_TRUE(g) << g.error().what();
    auto vocab = json_vocab();
    auto cg = CompiledGrammar::create(*g, vocab);
    ASSERT_TRUE(cg);
    std::mt19937 rng(1234);
    int finished = 0;
    for (int w = 0; w < walks; ++w) {
        GrammarMatcher m(*cg);
        auto text = random_walk(m, *vocab, rng, check_masks && w < 3);
        if (!text) {
            continue;
        }
        ++finished;
        auto v = parse_json(*text);
        ASSERT_TRUE(v) << "generated invalid JSON: " << *text << " (" << v.error().what() << ")";
        EXPECT_TRUE(validate(*v, schema, schema)) << "does not validate: " << *text;
    }
    EXPECT_GE(finished * 100, walks * min_finished_percent) << "too few walks finished";
}

TEST(JsonSchemaGrammar, ScalarTypes) {
    check_schema(R"({"type": "string"})", 40, true);
    check_schema(R"({"type": "integer"})", 40, true);
    check_schema(R"({"type": "number"})", 40, true);
    check_schema(R"({"type": "boolean"})", 10, true);
    check_schema(R"({"type": ["string", "null"]})", 20, true);
}

TEST(JsonSchemaGrammar, ObjectsWithRequiredAndOptionalProperties) {
    check_schema(R"({"type": "object", "properties": {
        "name": {"type": "string"}, "age": {"type": "integer"}, "city": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}}},
        "required": ["age"], "additionalProperties": false})",
                 60, true);
    check_schema(
        R"({"type": "object", "properties": {"a": {"type": "boolean"}, "b": {"type": "null"}}})",
        40, true);
}

TEST(JsonSchemaGrammar, AdditionalPropertiesNeverRepeatDeclaredKeys) {
    check_schema(R"({"type": "object", "properties": {"id": {"type": "integer"}},
        "additionalProperties": {"type": "string"}})",
                 60, true);
    check_schema(R"({"type": "object", "additionalProperties": {"type": "integer"}})", 40);
}

TEST(JsonSchemaGrammar, ArraysWithBoundsAndTuples) {
    check_schema(R"({"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 3})",
                 40, true);
    check_schema(R"({"type": "array", "prefixItems": [{"type": "string"}, {"type": "boolean"}],
        "items": false, "minItems": 1})",
                 30, true);
    check_schema(R"({"type": "array", "items": {"type": "number"}, "maxItems": 10})", 30);
}

TEST(JsonSchemaGrammar, EnumConstAnyOfAndNesting) {
    check_schema(R"({"enum": ["red", "green", 3, null, {"x": [1, 2]}]})", 30, true);
    check_schema(R"({"const": {"kind": "fixed", "n": 1.5}})", 10, true);
    check_schema(R"({"anyOf": [{"type": "integer"}, {"type": "object", "properties":
        {"v": {"type": "string"}}, "required": ["v"]}]})",
                 40, true);
    check_schema(R"({"type": "object", "properties": {"outer": {"type": "object", "properties":
        {"inner": {"type": "object", "properties": {"leaf": {"type": "boolean"}}, "required": ["leaf"]}},
        "required": ["inner"]}}, "required": ["outer"]})",
                 30, true);
}

TEST(JsonSchemaGrammar, RecursiveRefsAndDefs) {
    check_schema(R"({"$defs": {"node": {"type": "object", "properties": {
        "value": {"type": "integer"}, "children": {"type": "array", "items": {"$ref": "#/$defs/node"}, "maxItems": 2}},
        "required": ["value"]}}, "$ref": "#/$defs/node"})",
                 60, true);
}

TEST(JsonSchemaGrammar, StringConstraints) {
    check_schema(R"({"type": "string", "minLength": 2, "maxLength": 5})", 40, true);
    check_schema(R"({"type": "string", "pattern": "^[A-Z]{2}-\\d{3}$"})", 30, true);
    // Unanchored: random walks must stumble on "ab+c" before they may close the string.
    check_schema(R"({"type": "string", "pattern": "ab+c"})", 30, false, {}, 10);
    check_schema(R"({"type": "string", "format": "date"})", 30);
    check_schema(R"({"type": "string", "format": "uuid"})", 20);
}

TEST(JsonSchemaGrammar, GenericJsonAndCompactWhitespace) {
    check_schema(R"({})", 60, true);
    JsonSchemaOptions compact;
    compact.max_whitespace = 0;
    check_schema(
        R"({"type": "object", "properties": {"a": {"type": "array", "items": {"type": "integer"}}}})",
        30, true, compact);
}

bool accepts_exactly(const std::shared_ptr<CompiledGrammar>& cg, const std::string& text) {
    GrammarMatcher m(cg);
    return m.accept_text(text) && m.is_complete();
}

TEST(JsonSchemaGrammar, IntegerRangesAreExact) {
    auto vocab = json_vocab();
    for (const char* schema :
         {R"({"type": "integer", "minimum": -37, "maximum": 1205})",
          R"({"type": "integer", "exclusiveMinimum": 9, "exclusiveMaximum": 100})",
          R"({"type": "integer", "minimum": 95})", R"({"type": "integer", "maximum": -3})"}) {
        Value s = json(schema);
        auto g = Grammar::from_json_schema(s);
        ASSERT_TRUE(g) << g.error().what();
        auto cg = *CompiledGrammar::create(*g, vocab);
        for (int n = -2000; n <= 2000; ++n) {
            bool want = validate(Value(n), s, s);
            ASSERT_EQ(accepts_exactly(cg, std::to_string(n)), want) << schema << " n=" << n;
        }
        EXPECT_FALSE(accepts_exactly(cg, "007"));
        EXPECT_FALSE(accepts_exactly(cg, "-0"));
    }
}

TEST(JsonSchemaGrammar, InvalidContinuationsAreMasked) {
    Value s =
        json(R"({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]})");
    auto g = Grammar::from_json_schema(s);
    ASSERT_TRUE(g);
    auto vocab = json_vocab();
    auto cg = *CompiledGrammar::create(*g, vocab);
    GrammarMatcher m(cg);
    ASSERT_TRUE(m.accept_text("{\"n\": "));
    EXPECT_FALSE(m.accept_text("\""));
    EXPECT_FALSE(m.accept_text("true"));
    EXPECT_FALSE(m.accept_token(vocab->eos()[0]));
    ASSERT_TRUE(m.accept_text("42"));
    EXPECT_FALSE(m.accept_text(", \"x\": 1")); // no undeclared keys
    ASSERT_TRUE(m.accept_text(" }"));
    EXPECT_TRUE(m.is_complete());
    EXPECT_FALSE(accepts_exactly(cg, "{}"));
    EXPECT_FALSE(accepts_exactly(cg, "{\"n\": 1, \"n\": 2}"));
    EXPECT_TRUE(accepts_exactly(cg, "  {\"n\":-5}\n"));
}

TEST(JsonSchemaGrammar, UnsupportedOrInvalidSchemasAreRejectedWithAPointer) {
    auto err = [](const char* text) {
        auto g = Grammar::from_json_schema(json(text));
        EXPECT_FALSE(g) << text;
        return g ? std::string() : g.error().message;
    };
    EXPECT_NE(err(R"({"$ref": "https://example.com/s.json"})").find("local $ref"),
              std::string::npos);
    EXPECT_NE(err(R"({"$ref": "#/$defs/missing"})").find("does not resolve"), std::string::npos);
    EXPECT_NE(err(R"({"properties": {"a": {"type": "strin"}}})").find("#/properties/a"),
              std::string::npos);
    EXPECT_NE(err(R"({"allOf": [{"type": "string"}, {"minLength": 2}]})").find("allOf"),
              std::string::npos);
    EXPECT_NE(err(R"j({"type": "string", "pattern": "(?=x)"})j").find("lookaround"),
              std::string::npos);
    EXPECT_NE(err(R"({"type": "array", "minItems": 3, "maxItems": 2})").find("minItems"),
              std::string::npos);
    EXPECT_NE(err(R"({"type": "integer", "minimum": 5, "maximum": 1})").find("empty"),
              std::string::npos);
    EXPECT_NE(err("false").find("accepts no value"), std::string::npos);
    EXPECT_NE(
        err(R"({"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"})").find("grammar"),
        std::string::npos);
}

} // namespace
} // namespace agentd::inference
