#pragma once
/// JSON Schema validation (2020-12, plus the draft-07 forms real tool schemas still use).
///
/// `JsonSchema::compile` turns a schema document into an immutable validator once; `validate`
/// then checks instances against it any number of times, from any thread. Compilation is also
/// the well-formedness check used when a tool is registered: a schema that is malformed, refers
/// to something that does not exist, loops without consuming input, or exceeds the limits is
/// refused with `errc::invalid_schema` and a message naming every problem found (with its JSON
/// pointer into the schema).
///
/// Supported: type (integer = any number with a zero fractional part), enum, const, properties,
/// required, additionalProperties, patternProperties, propertyNames, min/maxProperties,
/// dependentRequired, dependentSchemas (and draft-07 dependencies), items, prefixItems (and
/// draft-07 array items + additionalItems), contains, min/maxContains, min/maxItems,
/// uniqueItems, unevaluatedItems, unevaluatedProperties, minimum, maximum, exclusiveMinimum,
/// exclusiveMaximum (also draft-04 booleans), multipleOf, min/maxLength (Unicode code points),
/// pattern (ECMA-262 through PCRE2 with UTF, unanchored), format (email, idn-email, uri,
/// uri-reference, date-time, date, time, uuid, ipv4, ipv6, hostname, regex; annotation unless
/// `assert_formats`), allOf, anyOf, oneOf, not, if/then/else, $ref / $dynamicRef (resolved
/// statically) to local JSON pointers (with ~0/~1 and percent escapes), $anchor and embedded $id
/// resources, $defs and definitions. Annotations (title, description, default, examples, ...)
/// and unknown keywords are ignored. Remote references are refused.
///
/// Hostile schemas and instances cannot hang or crash the caller: schema nesting, node count,
/// regex size and regex backtracking are bounded; instance nesting is bounded; every validation
/// has a step budget (exhausting it is a validation error, never a silent pass).

#include "agentd/base/result.h"

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace agentd::tools {

/// Bounds applied while compiling and validating. The defaults suit tool schemas.
struct SchemaLimits {
    std::size_t max_json_depth = 128; ///< nesting of the schema document (objects/arrays)
    std::size_t max_nodes = 20'000;   ///< compiled subschemas
    std::size_t max_patterns = 2'000; ///< pattern + patternProperties regexes
    std::size_t max_pattern_length = 4'096;
    std::uint32_t regex_match_limit = 1'000'000; ///< PCRE2 backtracking budget per match
    std::uint32_t regex_depth_limit = 250'000;   ///< PCRE2 backtracking depth per match
    std::size_t max_instance_depth = 128;        ///< nesting of a validated instance
    /// Subschema evaluations per validate() call: base + per_value × (values in the instance).
    /// Honest schemas need a few steps per value; exponential ones hit this quickly.
    std::size_t max_steps_base = 100'000;
    std::size_t max_steps_per_value = 64;
    std::size_t max_errors = 32; ///< errors reported per validate() call
};

struct SchemaOptions {
    /// Treat `format` as an assertion (the 2020-12 default is annotation only).
    bool assert_formats = false;
    SchemaLimits limits;
};

/// One reason an instance does not match.
struct SchemaError {
    std::string instance_path; ///< JSON pointer into the instance ("" is the root)
    std::string schema_path;   ///< JSON pointer of the failing keyword in the schema document
    std::string message;       ///< e.g. "must be integer, not string"
};

/// A compiled, immutable schema. Thread-safe: validate() may run concurrently.
class JsonSchema {
public:
    /// Compiles `schema` (an object or a boolean). Returns errc::invalid_schema naming each
    /// problem ("/properties/age/minimum: must be a number; ...").
    [[nodiscard]] static base::Result<std::shared_ptr<const JsonSchema>>
    compile(const nlohmann::json& schema, const SchemaOptions& options = {});

    ~JsonSchema();
    JsonSchema(const JsonSchema&) = delete;
    JsonSchema& operator=(const JsonSchema&) = delete;

    /// Every reason `instance` does not match (at most limits.max_errors); empty when valid.
    [[nodiscard]] std::vector<SchemaError> validate(const nlohmann::json& instance) const;
    /// True when `instance` matches (stops at the first failure).
    [[nodiscard]] bool accepts(const nlohmann::json& instance) const;
    /// The schema document as given to compile().
    [[nodiscard]] const nlohmann::json& document() const;

    struct Impl;

private:
    explicit JsonSchema(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

/// "/age: must be integer, not string; (root): missing required property \"name\"" — at most
/// `max` errors, then "and N more".
[[nodiscard]] std::string describe_schema_errors(std::span<const SchemaError> errors,
                                                 std::size_t max = 8);

} // namespace agentd::tools
