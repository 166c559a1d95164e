#pragma once
/// Messages of a session, in order (seq 1, 2, ...). Content is a JSON value (a string, or the
/// structured content parts the protocols use); token counts feed the context builder.
///
/// Ownership: a view owned by Database. Threads: thread-safe, blocking (see database.h).
/// Errors: invalid_argument, not_found (unknown session), and the database errors of errc.h.

#include "agentd/base/result.h"
#include "agentd/memory/common.h"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::memory {

namespace detail {
class DatabaseImpl;
}

struct Message {
    std::int64_t seq = 0;
    std::string role; // "system", "user", "assistant", "tool", ... (1..32 bytes)
    std::string content_json;
    std::int64_t token_count = 0;   // tokens of this message as rendered in a prompt
    std::int64_t prompt_tokens = 0; // usage of the generation that produced it
    std::int64_t completion_tokens = 0;
    std::int64_t created_at_ms = 0;
};

struct NewMessage {
    std::string role;
    std::string content_json;
    std::int64_t token_count = 0;
    std::int64_t prompt_tokens = 0;
    std::int64_t completion_tokens = 0;
};

class MessageStore {
public:
    explicit MessageStore(detail::DatabaseImpl& db) : db_(db) {}

    /// Appends in one transaction; returns the seqs given. Touches the session's updated_at.
    [[nodiscard]] base::Result<std::vector<std::int64_t>>
    append(std::string_view tenant, std::string_view session_id,
           std::span<const NewMessage> messages);
    [[nodiscard]] base::Result<std::int64_t>
    append(std::string_view tenant, std::string_view session_id, const NewMessage& message);
    /// Messages with seq > after_seq, oldest first, at most `limit` (0 → Limits::max_page).
    [[nodiscard]] base::Result<std::vector<Message>> list(std::string_view tenant,
                                                          std::string_view session_id,
                                                          std::int64_t after_seq = 0,
                                                          std::size_t limit = 0);
    /// The newest `limit` messages with seq > after_seq, returned oldest first.
    [[nodiscard]] base::Result<std::vector<Message>> recent(std::string_view tenant,
                                                            std::string_view session_id,
                                                            std::size_t limit,
                                                            std::int64_t after_seq = 0);
    [[nodiscard]] base::Result<std::int64_t> count(std::string_view tenant,
                                                   std::string_view session_id);
    /// Deletes messages with seq > after_seq (undo of a failed turn); returns how many.
    [[nodiscard]] base::Result<std::int64_t>
    truncate_after(std::string_view tenant, std::string_view session_id, std::int64_t after_seq);

private:
    detail::DatabaseImpl& db_;
};

} // namespace agentd::memory
