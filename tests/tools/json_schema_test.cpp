// Keyword-by-keyword tests of the JSON Schema validator (hand-written cases).
#include "schema_test_util.h"

namespace agentd::tools::test {
namespace {

TEST(JsonSchemaType, SingleTypes) {
    EXPECT_TRUE(valid(R"({"type":"null"})", "null"));
    EXPECT_FALSE(valid(R"({"type":"null"})", "0"));
    EXPECT_TRUE(valid(R"({"type":"boolean"})", "false"));
    EXPECT_FALSE(valid(R"({"type":"boolean"})", "0"));
    EXPECT_TRUE(valid(R"({"type":"string"})", R"("x")"));
    EXPECT_FALSE(valid(R"({"type":"string"})", "1"));
    EXPECT_TRUE(valid(R"({"type":"array"})", "[]"));
    EXPECT_FALSE(valid(R"({"type":"array"})", "{}"));
    EXPECT_TRUE(valid(R"({"type":"object"})", "{}"));
    EXPECT_FALSE(valid(R"({"type":"object"})", "[]"));
}

TEST(JsonSchemaType, IntegerIsAnyNumberWithoutFraction) {
    EXPECT_TRUE(valid(R"({"type":"integer"})", "1"));
    EXPECT_TRUE(valid(R"({"type":"integer"})", "-7"));
    EXPECT_TRUE(valid(R"({"type":"integer"})", "1.0"));
    EXPECT_TRUE(valid(R"({"type":"integer"})", "1e3"));
    EXPECT_TRUE(valid(R"({"type":"integer"})", "18446744073709551615"));
    EXPECT_FALSE(valid(R"({"type":"integer"})", "1.5"));
    EXPECT_FALSE(valid(R"({"type":"integer"})", R"("1")"));
    EXPECT_TRUE(valid(R"({"type":"number"})", "1"));
    EXPECT_TRUE(valid(R"({"type":"number"})", "1.5"));
    EXPECT_FALSE(valid(R"({"type":"number"})", R"("1.5")"));
}

TEST(JsonSchemaType, ArrayOfTypes) {
    const auto s = compile_ok(R"({"type":["string","null"]})");
    EXPECT_TRUE(valid(*s, R"("a")"));
    EXPECT_TRUE(valid(*s, "null"));
    EXPECT_FALSE(valid(*s, "3"));
    const auto errors = s->validate(3);
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_EQ(errors[0].message, "must be string or null, not integer");
    EXPECT_EQ(errors[0].schema_path, "/type");
}

TEST(JsonSchemaType, MalformedTypeIsRefused) {
    EXPECT_NE(compile_error(R"({"type":"strnig"})").find("unknown type \"strnig\""),
              std::string::npos);
    EXPECT_NE(compile_error(R"({"type":[]})").find("/type"), std::string::npos);
    EXPECT_NE(compile_error(R"({"type":["string","string"]})").find("twice"), std::string::npos);
    EXPECT_NE(compile_error(R"({"type":3})").find("/type"), std::string::npos);
}

TEST(JsonSchemaType, BooleanSchemas) {
    EXPECT_TRUE(valid("true", R"({"anything":[1,2]})"));
    EXPECT_FALSE(valid("false", "null"));
    EXPECT_NE(compile_error("3").find("must be an object or a boolean"), std::string::npos);
    EXPECT_TRUE(valid("{}", "42"));
}

TEST(JsonSchemaEnumConst, EnumSmallAndLarge) {
    EXPECT_TRUE(valid(R"({"enum":["a","b",1,null,{"k":[1]}]})", R"({"k":[1.0]})"));
    EXPECT_TRUE(valid(R"({"enum":["a","b",1,null]})", "1.0"));
    EXPECT_FALSE(valid(R"({"enum":["a","b",1,null]})", R"("c")"));
    EXPECT_FALSE(valid(R"({"enum":[false]})", "0"));
    EXPECT_FALSE(valid(R"({"enum":[0]})", "false"));
    EXPECT_FALSE(valid(R"({"enum":[]})", "0"));

    nlohmann::json big = nlohmann::json::array();
    for (int i = 0; i < 5000; ++i) {
        big.push_back("value-" + std::to_string(i));
    }
    big.push_back(17);
    const auto s = *JsonSchema::compile({{"enum", big}});
    EXPECT_TRUE(s->accepts("value-4321"));
    EXPECT_TRUE(s->accepts(17.0));
    EXPECT_FALSE(s->accepts("value-5000"));
    const auto errors = s->validate("nope");
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_NE(errors[0].message.find("(5001 values)"), std::string::npos) << errors[0].message;
}

TEST(JsonSchemaEnumConst, Const) {
    EXPECT_TRUE(valid(R"({"const":{"a":1,"b":[true,null]}})", R"({"b":[true,null],"a":1.0})"));
    EXPECT_FALSE(valid(R"({"const":{"a":1}})", R"({"a":1,"b":2})"));
    EXPECT_FALSE(valid(R"({"const":[1,2]})", "[2,1]"));
    EXPECT_TRUE(valid(R"({"const":null})", "null"));
    EXPECT_FALSE(valid(R"({"const":null})", "false"));
    EXPECT_EQ(errors_of(R"({"const":"x"})", R"("y")").at(0).message, R"(must be "x")");
}

TEST(JsonSchemaNumbers, Bounds) {
    const auto s = compile_ok(R"({"minimum":1,"maximum":10,"exclusiveMaximum":10})");
    EXPECT_TRUE(valid(*s, "1"));
    EXPECT_TRUE(valid(*s, "9.99"));
    EXPECT_FALSE(valid(*s, "0.5"));
    EXPECT_FALSE(valid(*s, "10"));
    EXPECT_TRUE(valid(*s, R"("not a number")"));
    EXPECT_EQ(s->validate(0).at(0).message, "must be >= 1, not 0");
    EXPECT_EQ(s->validate(10).at(0).message, "must be < 10, not 10");
    EXPECT_TRUE(valid(R"({"exclusiveMinimum":0})", "0.0001"));
    EXPECT_FALSE(valid(R"({"exclusiveMinimum":0})", "0"));
    EXPECT_FALSE(valid(R"({"maximum":-1})", "18446744073709551615"));
    EXPECT_TRUE(valid(R"({"minimum":-9223372036854775808})", "-9223372036854775808"));
    EXPECT_FALSE(valid(R"({"minimum":9007199254740993})", "9007199254740992"));
}

TEST(JsonSchemaNumbers, Draft04BooleanExclusives) {
    EXPECT_FALSE(valid(R"({"minimum":5,"exclusiveMinimum":true})", "5"));
    EXPECT_TRUE(valid(R"({"minimum":5,"exclusiveMinimum":false})", "5"));
    EXPECT_FALSE(valid(R"({"maximum":5,"exclusiveMaximum":true})", "5"));
}

TEST(JsonSchemaNumbers, MultipleOf) {
    EXPECT_TRUE(valid(R"({"multipleOf":2})", "10"));
    EXPECT_FALSE(valid(R"({"multipleOf":2})", "7"));
    EXPECT_TRUE(valid(R"({"multipleOf":1.5})", "4.5"));
    EXPECT_FALSE(valid(R"({"multipleOf":1.5})", "35"));
    EXPECT_TRUE(valid(R"({"multipleOf":0.0001})", "0.0075"));
    EXPECT_FALSE(valid(R"({"multipleOf":0.0001})", "0.00751"));
    EXPECT_TRUE(valid(R"({"multipleOf":0.1})", "1234567.8"));
    EXPECT_TRUE(valid(R"({"multipleOf":0.01})", "19.99"));
    EXPECT_TRUE(valid(R"({"type":"integer","multipleOf":0.123456789})", "0"));
    EXPECT_FALSE(valid(R"({"type":"integer","multipleOf":0.123456789})", "1e308"));
    EXPECT_TRUE(valid(R"({"multipleOf":7})", "18446744073709551614"));
    EXPECT_FALSE(valid(R"({"multipleOf":7})", "18446744073709551611"));
    EXPECT_NE(compile_error(R"({"multipleOf":0})").find("greater than 0"), std::string::npos);
    EXPECT_NE(compile_error(R"({"multipleOf":-2})").find("/multipleOf"), std::string::npos);
    EXPECT_NE(compile_error(R"({"minimum":"3"})").find("/minimum: must be a number"),
              std::string::npos);
}

TEST(JsonSchemaStrings, LengthsCountCodePoints) {
    EXPECT_TRUE(valid(R"({"maxLength":2})", R"("💩💩")"));
    EXPECT_FALSE(valid(R"({"maxLength":2})", R"("abc")"));
    EXPECT_TRUE(valid(R"({"minLength":2})", R"("éé")"));
    EXPECT_FALSE(valid(R"({"minLength":2})", R"("💩")"));
    EXPECT_TRUE(valid(R"({"minLength":2.0})", R"("ab")"));
    EXPECT_EQ(errors_of(R"({"minLength":3})", R"("ab")").at(0).message,
              "must be at least 3 characters long, not 2");
    EXPECT_NE(compile_error(R"({"minLength":-1})").find("non-negative integer"), std::string::npos);
    EXPECT_NE(compile_error(R"({"maxLength":1.5})").find("/maxLength"), std::string::npos);
}

TEST(JsonSchemaStrings, PatternIsUnanchoredEcmaLike) {
    EXPECT_TRUE(valid(R"({"pattern":"b+"})", R"("abbbc")"));
    EXPECT_FALSE(valid(R"({"pattern":"^b+$"})", R"("abbbc")"));
    EXPECT_TRUE(valid(R"({"pattern":"^[a-z]+$"})", R"("abc")"));
    // ECMA: `$` does not match before a final newline.
    EXPECT_FALSE(valid(R"({"pattern":"^abc$"})", "\"abc\\n\""));
    // ECMA: \d is ASCII only.
    EXPECT_FALSE(valid(R"({"pattern":"^\\d$"})", "\"\u0967\""));
    EXPECT_TRUE(valid(R"({"pattern":"^\\d+$"})", R"("0123")"));
    // \uHHHH escapes and Unicode properties.
    EXPECT_TRUE(valid(R"({"pattern":"^\\u00e9$"})", R"("é")"));
    EXPECT_TRUE(valid(R"({"pattern":"^\\p{L}+$"})", R"("žluťoučký")"));
    EXPECT_TRUE(valid(R"({"pattern":"^.$"})", R"("💩")"));
    EXPECT_TRUE(valid(R"({"pattern":"^a"})", "12"));
    EXPECT_EQ(errors_of(R"({"pattern":"^x"})", R"("y")").at(0).message,
              "must match the pattern ^x");
    EXPECT_NE(compile_error(R"({"pattern":"(unclosed"})")
                  .find("/pattern: invalid regular "
                        "expression at offset"),
              std::string::npos);
    EXPECT_NE(compile_error(R"({"pattern":5})").find("/pattern: must be a string"),
              std::string::npos);
}

TEST(JsonSchemaObjects, PropertiesRequiredAdditional) {
    const auto s = compile_ok(R"({
        "type":"object",
        "properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":0}},
        "required":["name"],
        "additionalProperties":false})");
    EXPECT_TRUE(valid(*s, R"({"name":"x"})"));
    EXPECT_TRUE(valid(*s, R"({"name":"x","age":3})"));
    EXPECT_FALSE(valid(*s, R"({"age":3})"));
    EXPECT_FALSE(valid(*s, R"({"name":"x","extra":1})"));
    const auto errors = s->validate(nlohmann::json::parse(R"({"age":-1,"extra":true})"));
    ASSERT_EQ(errors.size(), 3U) << describe_schema_errors(errors);
    EXPECT_EQ(errors[0].instance_path, "/age");
    EXPECT_EQ(errors[0].schema_path, "/properties/age/minimum");
    EXPECT_EQ(errors[1].instance_path, "/extra");
    EXPECT_EQ(errors[1].message, "unexpected property \"extra\" (allowed: age, name)");
    EXPECT_EQ(errors[2].instance_path, "");
    EXPECT_EQ(errors[2].message, "missing required property \"name\"");
    EXPECT_EQ(errors[2].schema_path, "/required");
}

TEST(JsonSchemaObjects, AdditionalPropertiesSchemaAndPatternProperties) {
    const auto s = compile_ok(R"({
        "properties":{"id":{"type":"integer"}},
        "patternProperties":{"^x-":{"type":"string"}},
        "additionalProperties":{"type":"boolean"}})");
    EXPECT_TRUE(valid(*s, R"({"id":1,"x-a":"s","flag":true})"));
    EXPECT_FALSE(valid(*s, R"({"x-a":1})"));
    EXPECT_FALSE(valid(*s, R"({"flag":"yes"})"));
    EXPECT_EQ(s->validate(nlohmann::json::parse(R"({"x-a":1})")).at(0).schema_path,
              "/patternProperties/^x-/type");
}

TEST(JsonSchemaObjects, PropertyNamesAndCounts) {
    const auto s = compile_ok(
        R"({"propertyNames":{"pattern":"^[a-z]+$","maxLength":5},"minProperties":1,"maxProperties":2})");
    EXPECT_TRUE(valid(*s, R"({"abc":1})"));
    EXPECT_FALSE(valid(*s, R"({})"));
    EXPECT_FALSE(valid(*s, R"({"a":1,"b":2,"c":3})"));
    EXPECT_FALSE(valid(*s, R"({"ABC":1})"));
    const auto errors = s->validate(nlohmann::json::parse(R"({"toolong":1})"));
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_EQ(errors[0].message,
              "property name \"toolong\" is invalid: must be at most 5 characters long, not 7");
}

TEST(JsonSchemaObjects, DependentRequiredAndSchemas) {
    const auto s = compile_ok(R"({
        "dependentRequired":{"card":["billing"]},
        "dependentSchemas":{"coupon":{"required":["code"]}}})");
    EXPECT_TRUE(valid(*s, R"({"card":1,"billing":2})"));
    EXPECT_FALSE(valid(*s, R"({"card":1})"));
    EXPECT_TRUE(valid(*s, R"({"billing":2})"));
    EXPECT_FALSE(valid(*s, R"({"coupon":1})"));
    EXPECT_TRUE(valid(*s, R"({"coupon":1,"code":"x"})"));
    EXPECT_EQ(s->validate(nlohmann::json::parse(R"({"card":1})")).at(0).message,
              "property \"billing\" is required when \"card\" is present");
    // draft-07 "dependencies" has both forms.
    const auto d = compile_ok(R"({"dependencies":{"a":["b"],"c":{"required":["d"]}}})");
    EXPECT_FALSE(valid(*d, R"({"a":1})"));
    EXPECT_FALSE(valid(*d, R"({"c":1})"));
    EXPECT_TRUE(valid(*d, R"({"a":1,"b":1,"c":1,"d":1})"));
    EXPECT_NE(compile_error(R"({"required":["a","a"]})").find("twice"), std::string::npos);
    EXPECT_NE(compile_error(R"({"required":"a"})").find("/required"), std::string::npos);
}

TEST(JsonSchemaArrays, ItemsPrefixItemsAndCounts) {
    const auto s = compile_ok(
        R"({"prefixItems":[{"type":"string"},{"type":"integer"}],"items":{"type":"boolean"},"minItems":1,"maxItems":4})");
    EXPECT_TRUE(valid(*s, R"(["a"])"));
    EXPECT_TRUE(valid(*s, R"(["a",1,true,false])"));
    EXPECT_FALSE(valid(*s, R"([])"));
    EXPECT_FALSE(valid(*s, R"(["a",1,true,false,true])"));
    EXPECT_FALSE(valid(*s, R"([1])"));
    EXPECT_FALSE(valid(*s, R"(["a",1,"x"])"));
    EXPECT_EQ(s->validate(nlohmann::json::parse(R"(["a",1,"x"])")).at(0).instance_path, "/2");
    const auto closed = compile_ok(R"({"prefixItems":[{}],"items":false})");
    EXPECT_TRUE(valid(*closed, "[1]"));
    EXPECT_EQ(closed->validate(nlohmann::json::parse("[1,2]")).at(0).message,
              "must have at most 1 item, not 2");
}

TEST(JsonSchemaArrays, Draft07TupleItems) {
    const auto s =
        compile_ok(R"({"items":[{"type":"string"},{"type":"integer"}],"additionalItems":false})");
    EXPECT_TRUE(valid(*s, R"(["a",1])"));
    EXPECT_FALSE(valid(*s, R"(["a",1,2])"));
    EXPECT_FALSE(valid(*s, R"([1])"));
    EXPECT_NE(compile_error(R"({"prefixItems":[{}],"items":[{}]})").find("/items"),
              std::string::npos);
}

TEST(JsonSchemaArrays, Contains) {
    const auto s = compile_ok(R"({"contains":{"const":"x"},"minContains":2,"maxContains":3})");
    EXPECT_TRUE(valid(*s, R"(["x","y","x"])"));
    EXPECT_FALSE(valid(*s, R"(["x","y"])"));
    EXPECT_FALSE(valid(*s, R"(["x","x","x","x"])"));
    EXPECT_TRUE(valid(*s, R"({"not":"an array"})"));
    EXPECT_TRUE(valid(R"({"contains":{"const":1},"minContains":0})", "[]"));
    EXPECT_FALSE(valid(R"({"contains":{"const":1}})", "[]"));
    EXPECT_EQ(errors_of(R"({"contains":{"const":1}})", "[2]").at(0).message,
              "must contain at least 1 item matching \"contains\", but contains 0");
}

TEST(JsonSchemaArrays, UniqueItems) {
    const auto s = compile_ok(R"({"uniqueItems":true})");
    EXPECT_TRUE(valid(*s, "[1,2,3]"));
    EXPECT_FALSE(valid(*s, "[1,2,1.0]"));
    EXPECT_TRUE(valid(*s, "[1,true]"));
    EXPECT_TRUE(valid(*s, "[0,false,null,[],{}]"));
    EXPECT_FALSE(valid(*s, R"([{"a":1,"b":2},{"b":2,"a":1}])"));
    EXPECT_TRUE(valid(*s, R"([{"a":1},{"a":2}])"));
    EXPECT_FALSE(valid(*s, "[[1,[2]],[1,[2]]]"));
    EXPECT_EQ(s->validate(nlohmann::json::parse(R"(["a","b","a"])")).at(0).message,
              "items at index 0 and 2 are equal; items must be unique");
    nlohmann::json many = nlohmann::json::array();
    for (int i = 0; i < 20000; ++i) {
        many.push_back(i);
    }
    EXPECT_TRUE(s->accepts(many));
    many.push_back(19999.0);
    EXPECT_FALSE(s->accepts(many));
}

TEST(JsonSchemaCombinators, AllAnyOneNot) {
    EXPECT_TRUE(valid(R"({"allOf":[{"minimum":1},{"maximum":3}]})", "2"));
    EXPECT_FALSE(valid(R"({"allOf":[{"minimum":1},{"maximum":3}]})", "4"));
    const auto any = compile_ok(R"({"anyOf":[{"type":"string"},{"minimum":10}]})");
    EXPECT_TRUE(valid(*any, R"("a")"));
    EXPECT_TRUE(valid(*any, "11"));
    EXPECT_FALSE(valid(*any, "1"));
    EXPECT_EQ(any->validate(1).at(0).message,
              "must match at least one of the 2 schemas in anyOf: [0] must be string, not "
              "integer; [1] must be >= 10, not 1");
    const auto one = compile_ok(R"({"oneOf":[{"type":"integer"},{"minimum":2}]})");
    EXPECT_TRUE(valid(*one, "1"));
    EXPECT_TRUE(valid(*one, "2.5"));
    EXPECT_FALSE(valid(*one, "3"));
    EXPECT_FALSE(valid(*one, "1.5"));
    EXPECT_NE(one->validate(3).at(0).message.find("matches more than one (at least [0] and [1])"),
              std::string::npos);
    EXPECT_TRUE(valid(R"({"not":{"type":"string"}})", "1"));
    EXPECT_FALSE(valid(R"({"not":{"type":"string"}})", R"("s")"));
    EXPECT_NE(compile_error(R"({"anyOf":[]})").find("/anyOf: must be a non-empty array"),
              std::string::npos);
    EXPECT_NE(compile_error(R"({"allOf":[{"type":"x"}]})").find("/allOf/0/type"),
              std::string::npos);
}

TEST(JsonSchemaCombinators, IfThenElse) {
    const auto s = compile_ok(R"({
        "if":{"properties":{"kind":{"const":"card"}},"required":["kind"]},
        "then":{"required":["number"]},
        "else":{"required":["iban"]}})");
    EXPECT_TRUE(valid(*s, R"({"kind":"card","number":"1"})"));
    EXPECT_FALSE(valid(*s, R"({"kind":"card"})"));
    EXPECT_TRUE(valid(*s, R"({"kind":"bank","iban":"x"})"));
    EXPECT_FALSE(valid(*s, R"({"kind":"bank"})"));
    EXPECT_EQ(s->validate(nlohmann::json::parse(R"({"kind":"card"})")).at(0).schema_path,
              "/then/required");
    EXPECT_TRUE(valid(R"({"then":{"type":"string"}})", "1"));
}

TEST(JsonSchemaErrors, CollectsAllUpToTheLimitAndDescribes) {
    SchemaOptions options;
    options.limits.max_errors = 3;
    const auto s = compile_ok(R"({"items":{"type":"string"}})", options);
    const auto errors = s->validate(nlohmann::json::parse("[1,2,3,4,5]"));
    EXPECT_EQ(errors.size(), 3U);
    EXPECT_EQ(describe_schema_errors(errors, 2),
              "/0: must be string, not integer; /1: must be string, not integer; and 1 more");
    const auto root = errors_of(R"({"type":"object"})", "[]");
    EXPECT_EQ(describe_schema_errors(root), "(root): must be object, not array");
}

TEST(JsonSchemaErrors, PointersAreEscaped) {
    const auto errors =
        errors_of(R"({"properties":{"a/b~c":{"type":"string"}}})", R"({"a/b~c":1})");
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_EQ(errors[0].instance_path, "/a~1b~0c");
    EXPECT_EQ(errors[0].schema_path, "/properties/a~1b~0c/type");
}

TEST(JsonSchemaRealWorld, ZodStyleSchema) {
    const auto s = compile_ok(R"({
        "$schema":"http://json-schema.org/draft-07/schema#",
        "type":"object",
        "properties":{
            "query":{"type":"string","minLength":1,"description":"search text"},
            "limit":{"type":"integer","exclusiveMinimum":0,"maximum":100,"default":10},
            "tags":{"type":"array","items":{"type":"string"}},
            "mode":{"type":"string","enum":["fast","exact"]}
        },
        "required":["query"],
        "additionalProperties":false})");
    EXPECT_TRUE(valid(*s, R"({"query":"cats","limit":5,"tags":["a"],"mode":"fast"})"));
    EXPECT_FALSE(valid(*s, R"({"query":"","limit":0})"));
    EXPECT_FALSE(valid(*s, R"({"query":"x","mode":"slow"})"));
}

TEST(JsonSchemaRealWorld, PydanticStyleSchema) {
    const auto s = compile_ok(R"({
        "title":"CreateEvent","type":"object",
        "$defs":{"Attendee":{"title":"Attendee","type":"object",
            "properties":{"email":{"type":"string","format":"email"},
                          "optional":{"anyOf":[{"type":"boolean"},{"type":"null"}],"default":null}},
            "required":["email"]}},
        "properties":{
            "title":{"title":"Title","type":"string"},
            "start":{"title":"Start","type":"string","format":"date-time"},
            "attendees":{"type":"array","items":{"$ref":"#/$defs/Attendee"}}},
        "required":["title","start"]})");
    EXPECT_TRUE(valid(
        *s, R"({"title":"t","start":"2025-01-01T10:00:00Z","attendees":[{"email":"a@b.c"}]})"));
    EXPECT_FALSE(valid(*s, R"({"title":"t","start":"x","attendees":[{"optional":1}]})"));
    const auto errors = s->validate(nlohmann::json::parse(
        R"({"title":"t","start":"x","attendees":[{"email":"e","optional":1}]})"));
    ASSERT_EQ(errors.size(), 1U) << describe_schema_errors(errors);
    EXPECT_EQ(errors[0].instance_path, "/attendees/0/optional");
    EXPECT_EQ(errors[0].schema_path, "/$defs/Attendee/properties/optional/anyOf");
}

} // namespace
} // namespace agentd::tools::test
