#pragma once
// Base URIs, embedded resources ($id) and anchors of a schema document, and $ref resolution
// against them. References resolve to canonical JSON pointers into the document; anything that
// would need a network fetch is refused.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace agentd::tools::schema {

/// Resolves `ref` against `base` (RFC 3986 §5.2, without dot-segment removal beyond "./").
[[nodiscard]] std::string resolve_uri(std::string_view base, std::string_view ref);

class SchemaResources {
public:
    /// Scans the document's schema positions (iteratively). Problems (malformed $id/$anchor)
    /// are appended to `problems`.
    void scan(const nlohmann::json& document, std::vector<std::string>& problems);

    /// The base URI in effect at a canonical pointer.
    [[nodiscard]] std::string base_at(std::string_view pointer) const;

    /// The canonical pointer `ref` designates when written at a location with base `base`, or an
    /// error message.
    struct Target {
        std::string pointer;
        std::string error; ///< empty on success
    };
    [[nodiscard]] Target resolve(std::string_view base, std::string_view ref) const;

private:
    std::unordered_map<std::string, std::string> base_of_;   ///< pointer → base URI
    std::unordered_map<std::string, std::string> resources_; ///< URI → resource root pointer
    std::unordered_map<std::string, std::string> anchors_;   ///< URI#name → pointer
};

/// Calls `f(key_or_empty, index_or_npos, child)` for each subschema position of schema object
/// `s` (one level): the single-schema, schema-array and schema-map keywords.
template <class F>
void for_each_subschema(const nlohmann::json& s, F&& f);

/// Navigates a canonical pointer; nullptr when it leads nowhere.
[[nodiscard]] const nlohmann::json* navigate(const nlohmann::json& document,
                                             std::string_view pointer);

} // namespace agentd::tools::schema

#include "schema/schema_resources_inl.h"
