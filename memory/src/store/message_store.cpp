#include "agentd/memory/message_store.h"

#include "agentd/memory/errc.h"

#include "db/database_impl.h"
#include "store/validate.h"

#include <algorithm>

namespace agentd::memory {
namespace {

base::Result<void> check_session_ref(const Limits& l, std::string_view tenant,
                                     std::string_view session_id) {
    if (auto r = store::check_tenant(l, tenant); !r) {
        return r;
    }
    return store::check_id(l, "session id", session_id);
}

base::Result<void> check_message(const Limits& l, const NewMessage& m) {
    if (m.role.empty() || m.role.size() > 32 ||
        !std::all_of(m.role.begin(), m.role.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        })) {
        return base::fail(errc::invalid_argument, "role: 1-32 characters of [a-z0-9_-]");
    }
    if (m.token_count < 0 || m.prompt_tokens < 0 || m.completion_tokens < 0) {
        return base::fail(errc::invalid_argument, "token counts must not be negative");
    }
    return store::check_json(l, "content", m.content_json);
}

base::Result<bool> session_exists(sqlite::Connection& c, std::string_view tenant,
                                  std::string_view id) {
    auto stmt = c.prepare("SELECT 1 FROM sessions WHERE tenant_id = ? AND id = ?");
    if (!stmt) {
        return stmt.error();
    }
    return stmt->bind_all(tenant, id).step();
}

Message read_message(const sqlite::Statement& s) {
    Message m;
    m.seq = s.int64(0);
    m.role = s.text(1);
    m.content_json = s.text(2);
    m.token_count = s.int64(3);
    m.prompt_tokens = s.int64(4);
    m.completion_tokens = s.int64(5);
    m.created_at_ms = s.int64(6);
    return m;
}

} // namespace

base::Result<std::vector<std::int64_t>> MessageStore::append(std::string_view tenant,
                                                             std::string_view session_id,
                                                             std::span<const NewMessage> messages) {
    const Limits& l = db_.options.limits;
    if (auto r = check_session_ref(l, tenant, session_id); !r) {
        return r.error();
    }
    if (messages.size() > l.max_batch) {
        return base::fail(errc::invalid_argument, "too many messages in one append");
    }
    for (const auto& m : messages) {
        if (auto r = check_message(l, m); !r) {
            return r.error();
        }
    }
    using Seqs = std::vector<std::int64_t>;
    return db_.write<Seqs>([&](db::WriteContext& ctx) -> base::Result<Seqs> {
        auto& c = ctx.conn();
        auto exists = session_exists(c, tenant, session_id);
        if (!exists) {
            return exists.error();
        }
        if (!*exists) {
            return base::fail(errc::not_found, "session not found");
        }
        auto next = c.prepare("SELECT COALESCE(MAX(seq), 0) FROM messages "
                              "WHERE tenant_id = ? AND session_id = ?");
        if (!next) {
            return next.error();
        }
        auto row = next->bind_all(tenant, session_id).step();
        if (!row) {
            return row.error();
        }
        std::int64_t seq = next->int64(0);
        auto insert = c.prepare(
            "INSERT INTO messages(tenant_id, session_id, seq, role, content, token_count, "
            "prompt_tokens, completion_tokens, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
        if (!insert) {
            return insert.error();
        }
        Seqs out;
        for (const auto& m : messages) {
            ++seq;
            sqlite::Statement& s = *insert;
            auto r = s.bind_all(tenant, session_id, seq, m.role, m.content_json, m.token_count,
                                m.prompt_tokens, m.completion_tokens, ctx.now_ms())
                         .run();
            if (!r) {
                return r.error();
            }
            out.push_back(seq);
        }
        auto touch = c.prepare("UPDATE sessions SET updated_at = ? WHERE tenant_id = ? AND id = ?");
        if (!touch) {
            return touch.error();
        }
        if (auto r = touch->bind_all(ctx.now_ms(), tenant, session_id).run(); !r) {
            return r.error();
        }
        return out;
    });
}

base::Result<std::int64_t> MessageStore::append(std::string_view tenant,
                                                std::string_view session_id,
                                                const NewMessage& message) {
    auto seqs = append(tenant, session_id, std::span<const NewMessage>(&message, 1));
    if (!seqs) {
        return seqs.error();
    }
    return seqs->front();
}

base::Result<std::vector<Message>> MessageStore::list(std::string_view tenant,
                                                      std::string_view session_id,
                                                      std::int64_t after_seq, std::size_t limit) {
    const Limits& l = db_.options.limits;
    if (auto r = check_session_ref(l, tenant, session_id); !r) {
        return r.error();
    }
    limit = limit == 0 ? l.max_page : std::min(limit, l.max_page);
    using Msgs = std::vector<Message>;
    return db_.read<Msgs>([&](sqlite::Connection& c) -> base::Result<Msgs> {
        auto exists = session_exists(c, tenant, session_id);
        if (!exists) {
            return exists.error();
        }
        if (!*exists) {
            return base::fail(errc::not_found, "session not found");
        }
        auto stmt =
            c.prepare("SELECT seq, role, content, token_count, prompt_tokens, completion_tokens, "
                      "created_at FROM messages WHERE tenant_id = ? AND session_id = ? AND seq > ? "
                      "ORDER BY seq LIMIT ?");
        if (!stmt) {
            return stmt.error();
        }
        stmt->bind_all(tenant, session_id, after_seq, static_cast<std::int64_t>(limit));
        Msgs out;
        for (;;) {
            auto row = stmt->step();
            if (!row) {
                return row.error();
            }
            if (!*row) {
                return out;
            }
            out.push_back(read_message(*stmt));
        }
    });
}

base::Result<std::vector<Message>> MessageStore::recent(std::string_view tenant,
                                                        std::string_view session_id,
                                                        std::size_t limit, std::int64_t after_seq) {
    const Limits& l = db_.options.limits;
    if (auto r = check_session_ref(l, tenant, session_id); !r) {
        return r.error();
    }
    limit = limit == 0 ? l.max_page : std::min(limit, l.max_page);
    using Msgs = std::vector<Message>;
    return db_.read<Msgs>([&](sqlite::Connection& c) -> base::Result<Msgs> {
        auto exists = session_exists(c, tenant, session_id);
        if (!exists) {
            return exists.error();
        }
        if (!*exists) {
            return base::fail(errc::not_found, "session not found");
        }
        auto stmt =
            c.prepare("SELECT seq, role, content, token_count, prompt_tokens, completion_tokens, "
                      "created_at FROM messages WHERE tenant_id = ? AND session_id = ? AND seq > ? "
                      "ORDER BY seq DESC LIMIT ?");
        if (!stmt) {
            return stmt.error();
        }
        stmt->bind_all(tenant, session_id, after_seq, static_cast<std::int64_t>(limit));
        Msgs out;
        for (;;) {
            auto row = stmt->step();
            if (!row) {
                return row.error();
            }
            if (!*row) {
                break;
            }
            out.push_back(read_message(*stmt));
        }
        std::reverse(out.begin(), out.end());
        return out;
    });
}

base::Result<std::int64_t> MessageStore::count(std::string_view tenant,
                                               std::string_view session_id) {
    if (auto r = check_session_ref(db_.options.limits, tenant, session_id); !r) {
        return r.error();
    }
    return db_.read<std::int64_t>([&](sqlite::Connection& c) -> base::Result<std::int64_t> {
        auto stmt =
            c.prepare("SELECT count(*) FROM messages WHERE tenant_id = ? AND session_id = ?");
        if (!stmt) {
            return stmt.error();
        }
        if (auto row = stmt->bind_all(tenant, session_id).step(); !row) {
            return row.error();
        }
        return stmt->int64(0);
    });
}

base::Result<std::int64_t> MessageStore::truncate_after(std::string_view tenant,
                                                        std::string_view session_id,
                                                        std::int64_t after_seq) {
    if (auto r = check_session_ref(db_.options.limits, tenant, session_id); !r) {
        return r.error();
    }
    return db_.write<std::int64_t>([&](db::WriteContext& ctx) -> base::Result<std::int64_t> {
        auto stmt = ctx.conn().prepare(
            "DELETE FROM messages WHERE tenant_id = ? AND session_id = ? AND seq > ?");
        if (!stmt) {
            return stmt.error();
        }
        if (auto r = stmt->bind_all(tenant, session_id, after_seq).run(); !r) {
            return r.error();
        }
        return std::int64_t{ctx.conn().changes()};
    });
}

} // namespace agentd::memory
