#pragma once
// Recursive-descent parser for the Jinja subset chat templates use, following Jinja2's grammar
// and operator precedence. Unknown filters/tests and unsupported tags (include, import,
// extends, recursive loops) are rejected here with the construct's name and position.

#include "agentd/base/result.h"

#include "template/ast.h"

#include <string_view>

namespace agentd::inference::jinja {

/// Nesting deeper than this (expressions or blocks) is rejected: hostile templates must not
/// overflow the stack of the parser or of the evaluator.
inline constexpr int kMaxParseDepth = 200;

[[nodiscard]] base::Result<std::shared_ptr<const Program>> parse_template(std::string_view source);

/// Registries used by the parser to reject unknown names early (defined with the builtins).
bool has_filter(std::string_view name);
bool has_test(std::string_view name);

} // namespace agentd::inference::jinja
