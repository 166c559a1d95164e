// $ref / $defs / $id / $anchor resolution and the unevaluated* keywords.
#include "schema_test_util.h"

namespace agentd::tools::test {
namespace {

TEST(JsonSchemaRefs, DefsAndDefinitions) {
    EXPECT_TRUE(valid(R"({"$defs":{"n":{"type":"integer"}},"$ref":"#/$defs/n"})", "1"));
    EXPECT_FALSE(valid(R"({"$defs":{"n":{"type":"integer"}},"$ref":"#/$defs/n"})", R"("a")"));
    EXPECT_TRUE(valid(R"({"definitions":{"n":{"type":"integer"}},
                          "properties":{"x":{"$ref":"#/definitions/n"}}})",
                      R"({"x":1})"));
    EXPECT_FALSE(valid(R"({"definitions":{"n":{"type":"integer"}},
                           "properties":{"x":{"$ref":"#/definitions/n"}}})",
                       R"({"x":"1"})"));
}

TEST(JsonSchemaRefs, SiblingKeywordsStillApply) {
    const auto s =
        compile_ok(R"({"$defs":{"s":{"type":"string"}},"$ref":"#/$defs/s","maxLength":2})");
    EXPECT_TRUE(valid(*s, R"("ab")"));
    EXPECT_FALSE(valid(*s, R"("abc")"));
    EXPECT_FALSE(valid(*s, "1"));
}

TEST(JsonSchemaRefs, PointerEscapes) {
    const auto s = compile_ok(R"({
        "$defs":{"a/b":{"type":"integer"},"c~d":{"type":"string"},"e%f":{"type":"null"},
                 "sp ace":{"type":"boolean"}},
        "properties":{"1":{"$ref":"#/$defs/a~1b"},"2":{"$ref":"#/$defs/c~0d"},
                      "3":{"$ref":"#/$defs/e%25f"},"4":{"$ref":"#/$defs/sp%20ace"}}})");
    EXPECT_TRUE(valid(*s, R"({"1":1,"2":"x","3":null,"4":true})"));
    EXPECT_FALSE(valid(*s, R"({"1":"x"})"));
    EXPECT_FALSE(valid(*s, R"({"2":1})"));
    EXPECT_FALSE(valid(*s, R"({"3":1})"));
    EXPECT_FALSE(valid(*s, R"({"4":1})"));
}

TEST(JsonSchemaRefs, RefIntoArraysAndNonDefsLocations) {
    const auto s = compile_ok(R"({"properties":{"a":{"type":"integer"},
                                                "b":{"$ref":"#/properties/a"},
                                                "c":{"anyOf":[{"type":"null"}]},
                                                "d":{"$ref":"#/properties/c/anyOf/0"}}})");
    EXPECT_TRUE(valid(*s, R"({"b":1,"d":null})"));
    EXPECT_FALSE(valid(*s, R"({"b":"x"})"));
    EXPECT_FALSE(valid(*s, R"({"d":1})"));
}

TEST(JsonSchemaRefs, RecursiveSchemaDescendsIntoInstance) {
    const auto s = compile_ok(R"({
        "$defs":{"node":{"type":"object","properties":{
            "value":{"type":"integer"},
            "children":{"type":"array","items":{"$ref":"#/$defs/node"}}},
            "required":["value"]}},
        "$ref":"#/$defs/node"})");
    EXPECT_TRUE(valid(*s, R"({"value":1,"children":[{"value":2,"children":[{"value":3}]}]})"));
    const auto errors = s->validate(nlohmann::json::parse(
        R"({"value":1,"children":[{"value":2,"children":[{"value":"x"}]}]})"));
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_EQ(errors[0].instance_path, "/children/0/children/0/value");
    EXPECT_EQ(errors[0].schema_path, "/$defs/node/properties/value/type");
    EXPECT_TRUE(valid(R"({"items":{"$ref":"#"},"type":"array"})", "[[[[]]],[]]"));
    EXPECT_FALSE(valid(R"({"items":{"$ref":"#"},"type":"array"})", "[[[[1]]],[]]"));
}

TEST(JsonSchemaRefs, AnchorsAndEmbeddedResources) {
    const auto s = compile_ok(R"({
        "$id":"https://example.com/root.json",
        "$defs":{
            "name":{"$anchor":"name","type":"string","minLength":1},
            "item":{"$id":"item.json","type":"object",
                    "properties":{"n":{"$ref":"#/$defs/inner"}},
                    "$defs":{"inner":{"type":"integer"}}}},
        "properties":{"a":{"$ref":"#name"},"b":{"$ref":"item.json"},
                      "c":{"$ref":"https://example.com/item.json#/$defs/inner"}}})");
    EXPECT_TRUE(valid(*s, R"({"a":"x","b":{"n":1},"c":2})"));
    EXPECT_FALSE(valid(*s, R"({"a":""})"));
    EXPECT_FALSE(valid(*s, R"({"b":{"n":"1"}})"));
    EXPECT_FALSE(valid(*s, R"({"c":"2"})"));
    // draft-07 plain-name $id fragments are anchors.
    EXPECT_TRUE(valid(R"({"definitions":{"x":{"$id":"#pos","minimum":0}},"$ref":"#pos"})", "1"));
    EXPECT_FALSE(valid(R"({"definitions":{"x":{"$id":"#pos","minimum":0}},"$ref":"#pos"})", "-1"));
}

TEST(JsonSchemaRefs, UnresolvableReferencesAreRefused) {
    EXPECT_NE(compile_error(R"({"$ref":"#/$defs/missing"})")
                  .find("/$ref: \"#/$defs/missing\" "
                        "points to nothing"),
              std::string::npos);
    EXPECT_NE(compile_error(R"({"$ref":"https://example.com/schema.json"})")
                  .find("remote references are not supported"),
              std::string::npos);
    EXPECT_NE(compile_error(R"({"$ref":"other.json#/x"})").find("no $id"), std::string::npos);
    EXPECT_NE(compile_error(R"({"$ref":"#nope"})").find("anchor \"nope\""), std::string::npos);
    EXPECT_NE(compile_error(R"({"$ref":"#/$defs/~2"})").find("malformed JSON pointer"),
              std::string::npos);
    EXPECT_NE(compile_error(R"({"$ref":"#/$defs/%zz"})").find("percent"), std::string::npos);
    EXPECT_NE(compile_error(R"({"x":[1],"$ref":"#/x/0"})").find("not a schema"), std::string::npos);
    EXPECT_NE(compile_error(R"({"$ref":5})").find("/$ref: must be a string"), std::string::npos);
    EXPECT_NE(compile_error(R"({"$defs":{"a":{"$anchor":"1bad"}}})").find("$anchor"),
              std::string::npos);
}

TEST(JsonSchemaRefs, CyclesThatNeverConsumeInputAreRefused) {
    EXPECT_NE(compile_error(R"({"$ref":"#"})").find("would never end"), std::string::npos);
    const std::string error = compile_error(R"({"$defs":{
        "a":{"anyOf":[{"type":"string"},{"$ref":"#/$defs/b"}]},
        "b":{"allOf":[{"$ref":"#/$defs/a"}]}},"$ref":"#/$defs/a"})");
    EXPECT_NE(error.find("/$defs/a → "), std::string::npos) << error;
    EXPECT_NE(compile_error(R"({"$defs":{"a":{"not":{"$ref":"#/$defs/a"}}}})").find("never end"),
              std::string::npos);
    EXPECT_NE(compile_error(R"({"$defs":{"a":{"if":{"$ref":"#/$defs/a"}}}})").find("never end"),
              std::string::npos);
}

TEST(JsonSchemaRefs, UnusedDefinitionsAreStillChecked) {
    EXPECT_NE(compile_error(R"({"$defs":{"unused":{"type":"nope"}}})").find("/$defs/unused/type"),
              std::string::npos);
}

TEST(JsonSchemaUnevaluated, PropertiesSeeThroughInPlaceApplicators) {
    const auto s = compile_ok(R"({
        "properties":{"a":{}},
        "allOf":[{"properties":{"b":{}}}],
        "anyOf":[{"properties":{"c":{}},"required":["c"]},{"properties":{"d":{}},"required":["d"]}],
        "if":{"properties":{"e":{}},"required":["e"]},"then":{"properties":{"f":{}}},
        "unevaluatedProperties":false})");
    EXPECT_TRUE(valid(*s, R"({"a":1,"b":1,"c":1})"));
    EXPECT_TRUE(valid(*s, R"({"d":1,"c":1})"));
    EXPECT_TRUE(valid(*s, R"({"d":1,"e":1,"f":1})"));
    EXPECT_FALSE(valid(*s, R"({"d":1,"f":1})"));
    EXPECT_FALSE(valid(*s, R"({"c":1,"z":1})"));
    EXPECT_EQ(s->validate(nlohmann::json::parse(R"({"c":1,"z":1})")).at(0).message,
              "unexpected property \"z\" (unevaluatedProperties is false)");
}

TEST(JsonSchemaUnevaluated, FailedBranchesContributeNothing) {
    const auto s = compile_ok(R"({
        "anyOf":[{"properties":{"a":{"type":"string"}}},{"properties":{"b":{}}}],
        "unevaluatedProperties":false})");
    EXPECT_TRUE(valid(*s, R"({"a":"x"})"));
    // {"a":1} fails branch 0, so "a" was evaluated only by branch 1's nothing.
    EXPECT_FALSE(valid(*s, R"({"a":1})"));
    const auto n = compile_ok(R"({"not":{"not":{"properties":{"a":{}}}},
                                  "unevaluatedProperties":false})");
    EXPECT_FALSE(valid(*n, R"({"a":1})"));
}

TEST(JsonSchemaUnevaluated, PropertiesThroughRefsAndSchemaValued) {
    const auto s = compile_ok(R"({
        "$defs":{"base":{"properties":{"id":{"type":"integer"}}}},
        "$ref":"#/$defs/base",
        "unevaluatedProperties":{"type":"string"}})");
    EXPECT_TRUE(valid(*s, R"({"id":1,"x":"s"})"));
    EXPECT_FALSE(valid(*s, R"({"id":1,"x":2})"));
}

TEST(JsonSchemaUnevaluated, Items) {
    const auto s = compile_ok(R"({
        "prefixItems":[{"type":"string"}],
        "allOf":[{"prefixItems":[true,{"type":"integer"}]}],
        "contains":{"const":"tag"},"minContains":0,
        "unevaluatedItems":false})");
    EXPECT_TRUE(valid(*s, R"(["a",1])"));
    EXPECT_TRUE(valid(*s, R"(["a",1,"tag","tag"])"));
    EXPECT_FALSE(valid(*s, R"(["a",1,"other"])"));
    EXPECT_EQ(s->validate(nlohmann::json::parse(R"(["a",1,"other"])")).at(0).instance_path, "/2");
    EXPECT_TRUE(valid(R"({"items":{},"unevaluatedItems":false})", "[1,2]"));
    EXPECT_TRUE(valid(R"({"unevaluatedItems":{"type":"integer"}})", "[1,2]"));
    EXPECT_FALSE(valid(R"({"unevaluatedItems":{"type":"integer"}})", "[1,\"x\"]"));
}

} // namespace
} // namespace agentd::tools::test
