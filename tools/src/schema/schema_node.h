#pragma once
// Internal representation of a compiled JSON Schema: a flat vector of nodes that refer to each
// other by index (so $ref cycles are plain integers, not owning pointers).

#include "agentd/tools/json_schema.h"

#include "schema/regex.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace agentd::tools::schema {

using NodeId = std::int32_t;
inline constexpr NodeId no_node = -1;

/// Bits of the `type` keyword.
enum TypeBit : std::uint32_t {
    type_null = 1U << 0,
    type_boolean = 1U << 1,
    type_integer = 1U << 2,
    type_number = 1U << 3,
    type_string = 1U << 4,
    type_array = 1U << 5,
    type_object = 1U << 6,
};

enum class Format : std::uint8_t {
    none,
    email,
    idn_email,
    uri,
    uri_reference,
    date_time,
    date,
    time,
    uuid,
    ipv4,
    ipv6,
    hostname,
    idn_hostname,
    regex,
};

/// A numeric bound with its original text for messages.
struct Bound {
    long double value = 0;
    std::string text;
};

struct Node {
    std::string path; ///< JSON pointer of this subschema in the document

    // Boolean schemas (`true` / `false`).
    bool is_bool = false;
    bool bool_value = true;

    std::uint32_t types = 0; ///< 0: any type
    std::string types_text;  ///< "string" / "[string, null]" for messages

    // Numbers.
    std::optional<Bound> minimum, maximum, exclusive_minimum, exclusive_maximum, multiple_of;

    // Strings.
    std::optional<std::size_t> min_length, max_length;
    const Regex* pattern = nullptr;
    Format format = Format::none;
    std::string format_name;

    // Arrays.
    std::vector<NodeId> prefix_items;
    NodeId items = no_node; ///< applies to items after prefix_items
    NodeId contains = no_node;
    std::optional<std::size_t> min_items, max_items, min_contains, max_contains;
    bool unique_items = false;
    NodeId unevaluated_items = no_node;

    // Objects.
    std::vector<std::pair<std::string, NodeId>> properties; ///< sorted by name
    std::vector<std::pair<const Regex*, NodeId>> pattern_properties;
    NodeId additional_properties = no_node;
    NodeId property_names = no_node;
    NodeId unevaluated_properties = no_node;
    std::vector<std::string> required;
    std::vector<std::pair<std::string, std::vector<std::string>>> dependent_required;
    std::vector<std::pair<std::string, NodeId>> dependent_schemas;
    std::optional<std::size_t> min_properties, max_properties;

    // Any type.
    std::optional<nlohmann::json> const_value;
    std::optional<nlohmann::json> enum_values; ///< the array as written (for messages)
    std::vector<std::uint32_t> enum_order;     ///< indexes into enum_values, canonical order

    // In-place applicators.
    std::vector<NodeId> all_of, any_of, one_of;
    NodeId not_ = no_node, if_ = no_node, then_ = no_node, else_ = no_node;
    std::vector<NodeId> refs; ///< $ref and $dynamicRef targets

    /// True when a keyword that needs annotations from in-place subschemas is present.
    [[nodiscard]] bool needs_annotations() const {
        return unevaluated_items != no_node || unevaluated_properties != no_node;
    }
};

/// The compiled schema.
struct CompiledSchema {
    std::vector<Node> nodes; ///< nodes[0] is the root
    std::vector<std::unique_ptr<Regex>> regexes;
    bool assert_formats = false;
    SchemaLimits limits;
};

} // namespace agentd::tools::schema
