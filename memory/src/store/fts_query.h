#pragma once
/// Turns untrusted user text into an FTS5 query that cannot be a syntax error: each word
/// (a run of letters, digits, '_' or non-ASCII bytes) becomes a quoted string, the words are
/// ORed. At most 32 words. Pure; thread-safe.

#include <string>
#include <string_view>

namespace agentd::memory::store {

/// "" when the text has no words.
[[nodiscard]] std::string plain_fts_query(std::string_view text);

} // namespace agentd::memory::store
