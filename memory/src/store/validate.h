#pragma once
/// Input checks shared by the stores (every caller-supplied value is untrusted), id
/// generation and page cursors. Pure functions; thread-safe.

#include "agentd/base/result.h"
#include "agentd/memory/common.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace agentd::memory::store {

[[nodiscard]] bool valid_utf8(std::string_view s) noexcept;

/// Non-empty, bounded, valid UTF-8, no control characters.
[[nodiscard]] base::Result<void> check_tenant(const Limits& l, std::string_view tenant);
[[nodiscard]] base::Result<void> check_id(const Limits& l, std::string_view field,
                                          std::string_view id);
/// Like check_id but the empty string is allowed (namespaces, optional ids).
[[nodiscard]] base::Result<void> check_name(const Limits& l, std::string_view field,
                                            std::string_view name);
/// Bounded valid UTF-8 (may be empty).
[[nodiscard]] base::Result<void> check_text(std::string_view field, std::string_view text,
                                            std::size_t max_bytes);
/// One well-formed JSON value, bounded in size and nesting. `object_only` requires an object.
[[nodiscard]] base::Result<void> check_json(const Limits& l, std::string_view field,
                                            std::string_view json, bool object_only = false);

/// A random RFC 4122 version-4 UUID, lowercase.
[[nodiscard]] std::string new_uuid();

/// Opaque cursors: hex of "<number>:<text>" (number may be unused).
[[nodiscard]] std::string encode_cursor(std::int64_t number, std::string_view text);
struct Cursor {
    std::int64_t number = 0;
    std::string text;
};
[[nodiscard]] base::Result<Cursor> decode_cursor(std::string_view cursor);

/// 0 → default 100; clamped to Limits::max_page.
[[nodiscard]] std::size_t page_limit(const Limits& l, std::size_t requested) noexcept;

} // namespace agentd::memory::store
