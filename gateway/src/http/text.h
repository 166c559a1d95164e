#pragma once
/// Small text helpers shared by the HTTP layer, logs and metrics: ASCII case-insensitive
/// comparison, percent-decoding, JSON string quoting, HTTP token checks.
///
/// Pure functions; thread-safe; no allocation beyond the returned strings. Invalid input is
/// reported through the return value (std::nullopt / false), never by throwing.

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace agentd::gateway::http {

/// ASCII case-insensitive equality (HTTP field names, tokens).
[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;

/// Strips optional whitespace (SP / HTAB) from both ends.
[[nodiscard]] std::string_view trim_ows(std::string_view s) noexcept;

/// Decodes %XX escapes. With `plus_is_space` (query strings), '+' becomes ' '. Returns nullopt
/// for a malformed escape or a decoded NUL byte.
[[nodiscard]] std::optional<std::string> percent_decode(std::string_view s,
                                                        bool plus_is_space = false);

/// Appends `s` as a JSON string literal (with quotes). Control characters are escaped and
/// invalid UTF-8 sequences are replaced by U+FFFD, so the output is always valid JSON.
void append_json_string(std::string& out, std::string_view s);

/// `s` as a JSON string literal (see append_json_string).
[[nodiscard]] std::string json_string(std::string_view s);

/// True when `s` is a non-empty RFC 9110 token (field names, methods).
[[nodiscard]] bool is_token(std::string_view s) noexcept;

/// True when `s` may be sent as a field value: visible ASCII, obs-text, SP and HTAB only (no CR,
/// LF or NUL, which would allow response splitting).
[[nodiscard]] bool is_field_value(std::string_view s) noexcept;

/// Splits a request target into its raw (still percent-encoded) path and query. Accepts
/// origin-form ("/a/b?x") and absolute-form ("http://host/a/b?x", whose authority is dropped);
/// nullopt for anything else (asterisk-form, authority-form, empty).
[[nodiscard]] std::optional<std::pair<std::string_view, std::string_view>>
split_request_target(std::string_view target);

} // namespace agentd::gateway::http
