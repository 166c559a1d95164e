#pragma once
// JSON Schema -> grammar expressions. Exposed inside the module so the tool-call grammars can
// embed argument schemas in their own wrappers.

#include "agentd/base/result.h"
#include "agentd/inference/grammar.h"
#include "agentd/inference/value.h"

#include "grammar/expr.h"

#include <map>
#include <string>

namespace agentd::inference::grammar {

/// Regular expression (ECMAScript subset: alternation, groups, classes with \d \w \s, ., escapes,
/// quantifiers * + ? {m,n}) over the *content* of a JSON string: every character is produced in
/// its JSON-escaped form where JSON requires one. `anchored` false wraps it in `.*` on the sides
/// it is not anchored (JSON Schema patterns match anywhere). Errors: errc::invalid_schema.
base::Result<ExprId> regex_to_json_string_content(Builder& b, std::string_view pattern);

/// One JSON-string character from `set`, escaped where JSON requires it.
ExprId json_char(Builder& b, const CodePointSet& set);

class JsonSchemaCompiler {
public:
    JsonSchemaCompiler(Builder& b, const JsonSchemaOptions& options);

    /// An expression matching the JSON instances of `schema`, which is also the document
    /// `#...` references resolve against. Errors: errc::invalid_schema with a JSON pointer.
    base::Result<ExprId> compile(const Value& schema);

    ExprId ws();        ///< the whitespace allowed between JSON tokens
    ExprId any_value(); ///< any JSON value
    ExprId any_object();
    ExprId string(); ///< any JSON string
    /// The literal JSON text of `v` (whitespace allowed between its tokens).
    ExprId literal(const Value& v);

private:
    struct Failure {
        std::string message;
    };
    [[noreturn]] void fail(const std::string& path, const std::string& why) const;

    ExprId schema(const Value& s, const std::string& path, int depth);
    ExprId typed(const Value& s, const std::string& type, const std::string& path, int depth);
    ExprId object(const Value& s, const std::string& path, int depth);
    ExprId array(const Value& s, const std::string& path, int depth);
    ExprId string_schema(const Value& s, const std::string& path);
    ExprId integer(const Value& s, const std::string& path);
    ExprId number(const Value& s, const std::string& path);
    ExprId ref(const std::string& pointer, const std::string& path);
    void define_generic();
    ExprId key_not_in(const std::vector<std::string>& keys);
    ExprId sep();

    Builder& b_;
    JsonSchemaOptions options_;
    const Value* root_ = nullptr;
    std::map<std::string, RuleId> refs_;
    RuleId string_rule_ = -1;
    RuleId number_rule_ = -1;
    RuleId integer_rule_ = -1;
    RuleId value_rule_ = -1;
    RuleId object_rule_ = -1;
    ExprId ws_ = -1;
};

} // namespace agentd::inference::grammar
