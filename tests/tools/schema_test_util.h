#pragma once
// Helpers for the JSON Schema tests: compile from text, validate text, find an error.

#include "agentd/tools/json_schema.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace agentd::tools::test {

inline std::shared_ptr<const JsonSchema> compile_ok(const std::string& text,
                                                    const SchemaOptions& options = {}) {
    auto compiled = JsonSchema::compile(nlohmann::json::parse(text), options);
    EXPECT_TRUE(compiled.has_value())
        << text << "\n  → " << (compiled ? "" : compiled.error().message);
    return compiled ? *compiled : nullptr;
}

/// The compile error message ("" when the schema compiled).
inline std::string compile_error(const std::string& text, const SchemaOptions& options = {}) {
    auto compiled = JsonSchema::compile(nlohmann::json::parse(text), options);
    return compiled ? std::string() : compiled.error().message;
}

/// Validates `instance` (JSON text) and cross-checks accepts() against validate().
inline bool valid(const JsonSchema& schema, const std::string& instance) {
    const auto value = nlohmann::json::parse(instance);
    const bool accepted = schema.accepts(value);
    const auto errors = schema.validate(value);
    EXPECT_EQ(accepted, errors.empty()) << instance << ": " << describe_schema_errors(errors);
    return accepted;
}

inline bool valid(const std::string& schema, const std::string& instance,
                  const SchemaOptions& options = {}) {
    const auto compiled = compile_ok(schema, options);
    return compiled && valid(*compiled, instance);
}

inline std::vector<SchemaError> errors_of(const std::string& schema, const std::string& instance,
                                          const SchemaOptions& options = {}) {
    const auto compiled = compile_ok(schema, options);
    return compiled ? compiled->validate(nlohmann::json::parse(instance))
                    : std::vector<SchemaError>{};
}

} // namespace agentd::tools::test
