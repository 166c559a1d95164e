#pragma once
// Template definitions for schema_resources.h.

#include "schema/json_util.h"

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace agentd::tools::schema {

inline constexpr std::size_t no_index = static_cast<std::size_t>(-1);

inline constexpr std::array<std::string_view, 12> single_schema_keywords{"additionalProperties",
                                                                         "propertyNames",
                                                                         "additionalItems",
                                                                         "contains",
                                                                         "not",
                                                                         "if",
                                                                         "then",
                                                                         "else",
                                                                         "unevaluatedItems",
                                                                         "unevaluatedProperties",
                                                                         "contentSchema",
                                                                         "items"};
inline constexpr std::array<std::string_view, 5> schema_array_keywords{"allOf", "anyOf", "oneOf",
                                                                       "prefixItems", "items"};
inline constexpr std::array<std::string_view, 6> schema_map_keywords{
    "properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies"};

/// The pointer of a subschema position visited by for_each_subschema.
inline std::string child_pointer(const std::string& parent, std::string_view keyword,
                                 std::string_view name, std::size_t index) {
    std::string p = parent;
    pointer_append(p, keyword);
    if (index != no_index) {
        pointer_append(p, index);
    } else {
        for (const auto k : schema_map_keywords) {
            if (k == keyword) {
                pointer_append(p, name);
                break;
            }
        }
    }
    return p;
}

/// `f(keyword, name, index, child)`: `name` is set for map keywords, `index` for array keywords
/// (else no_index). Only children that are objects or booleans are visited.
template <class F>
void for_each_subschema(const nlohmann::json& s, F&& f) {
    if (!s.is_object()) {
        return;
    }
    auto is_schema = [](const nlohmann::json& v) { return v.is_object() || v.is_boolean(); };
    for (const auto keyword : single_schema_keywords) {
        const auto it = s.find(keyword);
        if (it != s.end() && is_schema(*it)) {
            f(keyword, std::string_view{}, no_index, *it);
        }
    }
    for (const auto keyword : schema_array_keywords) {
        const auto it = s.find(keyword);
        if (it == s.end() || !it->is_array()) {
            continue;
        }
        for (std::size_t i = 0; i < it->size(); ++i) {
            if (is_schema((*it)[i])) {
                f(keyword, std::string_view{}, i, (*it)[i]);
            }
        }
    }
    for (const auto keyword : schema_map_keywords) {
        const auto it = s.find(keyword);
        if (it == s.end() || !it->is_object()) {
            continue;
        }
        for (auto child = it->begin(); child != it->end(); ++child) {
            if (is_schema(*child)) {
                f(keyword, std::string_view(child.key()), no_index, *child);
            }
        }
    }
}

} // namespace agentd::tools::schema
