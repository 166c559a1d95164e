#pragma once
// Small encoders the MCP server needs: Base64 (the `=?base64?...?=` header sentinel), Base64url
// (cursors, sealed state), SHA-256 and HMAC-SHA-256 (integrity of requestState). Pure functions,
// thread-safe, never throw.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace agentd::protocols::mcp::detail {

[[nodiscard]] std::string base64_encode(std::string_view bytes, bool url_safe);
/// Decodes standard Base64 (with padding) or, when `url_safe`, Base64url (padding optional).
/// nullopt on any invalid character or length.
[[nodiscard]] std::optional<std::string> base64_decode(std::string_view text, bool url_safe);

using Sha256Digest = std::array<std::uint8_t, 32>;
[[nodiscard]] Sha256Digest sha256(std::string_view data);
[[nodiscard]] Sha256Digest hmac_sha256(std::string_view key, std::string_view message);
/// Constant-time comparison of equal-length strings.
[[nodiscard]] bool constant_time_equal(std::string_view a, std::string_view b);

/// An opaque pagination cursor naming the last key of the previous page of list `kind`.
[[nodiscard]] std::string encode_cursor(std::string_view kind, std::string_view last_key);
/// The last key a cursor names, or nullopt when it is not a cursor of list `kind`.
[[nodiscard]] std::optional<std::string> decode_cursor(std::string_view kind,
                                                       std::string_view cursor);

/// Seals provider state for an input_required round trip: the result is bound to `binding`
/// (caller, method, target) and expires at `expires_unix_s`.
[[nodiscard]] std::string seal_state(std::string_view key, std::string_view binding,
                                     std::int64_t expires_unix_s, std::string_view state);
/// Opens sealed state; nullopt when forged, bound to something else, or expired at `now_unix_s`.
[[nodiscard]] std::optional<std::string> open_state(std::string_view key, std::string_view binding,
                                                    std::int64_t now_unix_s,
                                                    std::string_view sealed);

} // namespace agentd::protocols::mcp::detail
