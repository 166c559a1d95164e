#pragma once
/// Sessions: one conversation of an agent with a client, plus its rolling summary.
///
/// Ownership: a view owned by Database. Threads: thread-safe, blocking (see database.h).
/// Errors: invalid_argument (bad tenant/id/JSON), not_found, conflict (id exists), and the
/// database errors of errc.h. Every call is confined to `tenant`.

#include "agentd/base/result.h"
#include "agentd/memory/common.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace agentd::memory {

namespace detail {
class DatabaseImpl;
}

struct Session {
    std::string tenant;
    std::string id;
    std::string agent;
    std::string title;
    std::string metadata_json = "{}";
    /// Rolling summary of the turns with seq <= summary_through (append-only, see
    /// SessionStore::append_summary), so the prompt prefix it sits in stays byte-stable.
    std::string summary;
    std::int64_t summary_through = 0;
    std::int64_t created_at_ms = 0;
    std::int64_t updated_at_ms = 0;
};

struct NewSession {
    std::string id; // empty → a generated UUID
    std::string agent;
    std::string title;
    std::string metadata_json = "{}";
};

class SessionStore {
public:
    explicit SessionStore(detail::DatabaseImpl& db) : db_(db) {}

    /// Creates a session; conflict when the id exists for this tenant.
    [[nodiscard]] base::Result<Session> create(std::string_view tenant, const NewSession& s);
    [[nodiscard]] base::Result<Session> get(std::string_view tenant, std::string_view id);
    /// Most recently updated first. `agent` non-empty → only that agent's sessions.
    [[nodiscard]] base::Result<Page<Session>> list(std::string_view tenant, const PageRequest& page,
                                                   std::string_view agent = {});
    [[nodiscard]] base::Result<std::int64_t> count(std::string_view tenant);
    /// Replaces title and metadata.
    [[nodiscard]] base::Result<Session> update(std::string_view tenant, std::string_view id,
                                               std::string_view title,
                                               std::string_view metadata_json);
    /// Appends `text` to the rolling summary (never rewriting what is there) and records that
    /// it now covers turns up to `through_seq` (must not go backwards: invalid_argument).
    [[nodiscard]] base::Result<Session> append_summary(std::string_view tenant, std::string_view id,
                                                       std::string_view text,
                                                       std::int64_t through_seq);
    /// Replaces the summary wholesale (compaction; breaks the cached prefix once).
    [[nodiscard]] base::Result<Session> replace_summary(std::string_view tenant,
                                                        std::string_view id, std::string_view text,
                                                        std::int64_t through_seq);
    /// Deletes the session and its messages; false when it did not exist.
    [[nodiscard]] base::Result<bool> remove(std::string_view tenant, std::string_view id);

private:
    detail::DatabaseImpl& db_;
};

} // namespace agentd::memory
