#pragma once
// The `format` values agentd can assert (JSON Schema 2020-12 "format-assertion").

#include "schema/schema_node.h"

#include <string_view>

namespace agentd::tools::schema {

/// The Format for a format name; Format::none for names we do not check (they stay annotations).
[[nodiscard]] Format parse_format(std::string_view name);

/// True when `value` is valid for `format` (always true for Format::none).
[[nodiscard]] bool check_format(Format format, std::string_view value);

/// "email address", "URI", ... for messages.
[[nodiscard]] const char* format_noun(Format format);

} // namespace agentd::tools::schema
