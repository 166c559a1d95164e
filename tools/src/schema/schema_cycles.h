#pragma once
// Detects subschemas that apply to the same instance location in a cycle ($ref, allOf, anyOf,
// oneOf, not, if/then/else, dependentSchemas): evaluating one would recurse forever.

#include "schema/schema_node.h"

#include <optional>
#include <string>
#include <vector>

namespace agentd::tools::schema {

/// The first such cycle as "a → b → a" (schema pointers), if any. Iterative, O(nodes + edges).
[[nodiscard]] std::optional<std::string> find_in_place_cycle(const std::vector<Node>& nodes);

} // namespace agentd::tools::schema
