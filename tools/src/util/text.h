#pragma once
// Text helpers for messages built from untrusted bytes.

#include <string>
#include <string_view>

namespace agentd::tools::util {

/// At most `max_bytes` of `text` as valid UTF-8: invalid sequences become U+FFFD, control
/// characters other than \n and \t become spaces, and a cut adds "…".
[[nodiscard]] std::string safe_excerpt(std::string_view text, std::size_t max_bytes);

/// ASCII lower-case copy.
[[nodiscard]] std::string ascii_lower(std::string_view text);

/// Case-insensitive ASCII equality.
[[nodiscard]] bool iequals(std::string_view a, std::string_view b);

} // namespace agentd::tools::util
