#pragma once
// Python str helpers over UTF-8: whitespace as str.isspace() defines it, strip/split with
// Python's semantics, code-point indexing and slicing.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::inference::jinja::py {

/// str.isspace() for one code point.
bool is_space(char32_t c);

/// str.strip()/lstrip()/rstrip(): with no `chars` strips whitespace, else any of the code
/// points in `chars`.
std::string strip(std::string_view s, bool left, bool right,
                  std::optional<std::string_view> chars = std::nullopt);

/// str.split(sep, maxsplit) (sep given) and str.split() (whitespace runs, no empty parts).
std::vector<std::string> split(std::string_view s, std::string_view sep, std::int64_t maxsplit);
std::vector<std::string> split_whitespace(std::string_view s, std::int64_t maxsplit);
/// str.rsplit(sep, maxsplit).
std::vector<std::string> rsplit(std::string_view s, std::string_view sep, std::int64_t maxsplit);

/// Byte offsets of each code point start, plus s.size() at the end.
std::vector<std::size_t> code_point_offsets(std::string_view s);

/// True when `s` is ASCII only (byte indexing == code point indexing).
bool is_ascii(std::string_view s);

/// Python slice s[start:stop:step] over code points; `has_*` false means omitted.
std::string slice(std::string_view s, std::optional<std::int64_t> start,
                  std::optional<std::int64_t> stop, std::int64_t step);

/// Resolves a Python slice over a sequence of length n into the list of indices it selects.
std::vector<std::size_t> slice_indices(std::size_t n, std::optional<std::int64_t> start,
                                       std::optional<std::int64_t> stop, std::int64_t step);

/// Case mapping and predicates (ASCII and Latin-1/Greek/Cyrillic basic ranges).
std::string upper(std::string_view s);
std::string lower(std::string_view s);
std::string title(std::string_view s);
std::string capitalize(std::string_view s);
/// str.islower()/isupper(): at least one cased character and no character of the other case.
bool is_lower(std::string_view s);
bool is_upper(std::string_view s);

/// str.replace(old, new, count) with count < 0 meaning all; an empty `old` inserts between
/// code points as Python does. Result size is bounded by `limit` (returns nullopt when
/// exceeded).
std::optional<std::string> replace(std::string_view s, std::string_view from, std::string_view to,
                                   std::int64_t count, std::size_t limit);

} // namespace agentd::inference::jinja::py
