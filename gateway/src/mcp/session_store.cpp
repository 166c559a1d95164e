#include "mcp/session_store.h"

#include <cerrno>
#include <stdexcept>
#include <sys/random.h>
#include <vector>

namespace agentd::gateway::mcp {

std::string random_session_id() {
    unsigned char bytes[16];
    std::size_t got = 0;
    while (got < sizeof bytes) {
        const ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            // Without the kernel CSPRNG session ids would be guessable: refuse (start-up bug).
            throw std::runtime_error("getrandom failed");
        }
        got += static_cast<std::size_t>(n);
    }
    static const char* digits = "0123456789abcdef";
    std::string id;
    id.reserve(32);
    for (unsigned char b : bytes) {
        id += digits[b >> 4];
        id += digits[b & 15];
    }
    return id;
}

// ---- McpSession ------------------------------------------------------------------------------

McpSession::McpSession(std::string id, protocols::mcp::Caller caller, SessionLimits limits)
    : id_(std::move(id)), caller_(std::move(caller)), limits_(limits),
      standalone_(std::make_shared<EventStream>(0, limits.replay)),
      last_activity_(std::chrono::steady_clock::now()) {}

void McpSession::set_connection(std::shared_ptr<protocols::mcp::Connection> connection) {
    connection_ = std::move(connection);
}

std::shared_ptr<EventStream> McpSession::new_stream() {
    std::lock_guard lock(mu_);
    auto stream = std::make_shared<EventStream>(next_stream_++, limits_.replay);
    streams_.emplace(stream->id(), stream);
    // Keep the newest streams; drop the oldest finished ones beyond the bound.
    for (auto it = streams_.begin();
         streams_.size() > limits_.max_retained_streams && it != streams_.end();) {
        if (it->second->finished() && !it->second->attached()) {
            it = streams_.erase(it);
        } else {
            ++it;
        }
    }
    return stream;
}

std::shared_ptr<EventStream> McpSession::stream(std::uint64_t id) const {
    if (id == 0) {
        return standalone_;
    }
    std::lock_guard lock(mu_);
    auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : it->second;
}

void McpSession::touch() {
    std::lock_guard lock(mu_);
    last_activity_ = std::chrono::steady_clock::now();
}

bool McpSession::idle_for(std::chrono::milliseconds idle,
                          std::chrono::steady_clock::time_point now) const {
    if (standalone_->attached() || (connection_ && connection_->in_flight() > 0)) {
        return false; // a connected stream or a running request is activity
    }
    std::lock_guard lock(mu_);
    for (const auto& [id, stream] : streams_) {
        if (stream->attached()) {
            return false;
        }
    }
    return now - last_activity_ > idle;
}

void McpSession::close() {
    std::vector<std::shared_ptr<EventStream>> streams;
    {
        std::lock_guard lock(mu_);
        for (auto& [id, stream] : streams_) {
            streams.push_back(stream);
        }
        streams_.clear();
    }
    if (connection_) {
        connection_->close();
    }
    standalone_->close();
    for (auto& stream : streams) {
        stream->close();
    }
}

void SessionSink::send(std::string message) {
    if (auto session = session_.lock()) {
        session->standalone()->send(std::move(message), /*final=*/false);
    }
}

// ---- SessionStore ----------------------------------------------------------------------------

std::shared_ptr<McpSession> SessionStore::make(const protocols::mcp::Caller& caller) const {
    return std::make_shared<McpSession>(random_session_id(), caller, limits_);
}

bool SessionStore::add(const std::shared_ptr<McpSession>& session) {
    auto admit = [&] {
        std::lock_guard lock(mu_);
        if (sessions_.size() >= limits_.max_sessions ||
            per_tenant_[session->caller().tenant] >= limits_.max_sessions_per_tenant) {
            return false;
        }
        sessions_.emplace(session->id(), session);
        ++per_tenant_[session->caller().tenant];
        return true;
    };
    if (admit()) {
        return true;
    }
    return expire_idle() > 0 && admit();
}

std::shared_ptr<McpSession> SessionStore::find(const std::string& id, const std::string& tenant) {
    std::shared_ptr<McpSession> session;
    {
        std::lock_guard lock(mu_);
        auto it = sessions_.find(id);
        if (it == sessions_.end() || it->second->caller().tenant != tenant) {
            return nullptr;
        }
        session = it->second;
    }
    session->touch();
    return session;
}

bool SessionStore::remove(const std::string& id, const std::string& tenant) {
    std::shared_ptr<McpSession> session;
    {
        std::lock_guard lock(mu_);
        auto it = sessions_.find(id);
        if (it == sessions_.end() || it->second->caller().tenant != tenant) {
            return false;
        }
        session = std::move(it->second);
        sessions_.erase(it);
        if (--per_tenant_[tenant] == 0) {
            per_tenant_.erase(tenant);
        }
    }
    session->close();
    return true;
}

std::size_t SessionStore::expire_idle() {
    std::vector<std::shared_ptr<McpSession>> expired;
    const auto now = std::chrono::steady_clock::now();
    {
        std::lock_guard lock(mu_);
        for (auto it = sessions_.begin(); it != sessions_.end();) {
            if (it->second->idle_for(limits_.idle_timeout, now)) {
                const std::string tenant = it->second->caller().tenant;
                if (--per_tenant_[tenant] == 0) {
                    per_tenant_.erase(tenant);
                }
                expired.push_back(std::move(it->second));
                it = sessions_.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto& session : expired) {
        session->close();
    }
    return expired.size();
}

void SessionStore::close_all() {
    std::unordered_map<std::string, std::shared_ptr<McpSession>> sessions;
    {
        std::lock_guard lock(mu_);
        sessions.swap(sessions_);
        per_tenant_.clear();
    }
    for (auto& [id, session] : sessions) {
        session->close();
    }
}

std::size_t SessionStore::size() const {
    std::lock_guard lock(mu_);
    return sessions_.size();
}

} // namespace agentd::gateway::mcp
