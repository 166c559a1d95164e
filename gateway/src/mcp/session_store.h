#pragma once
/// Sessions of the MCP session revisions over Streamable HTTP (`Mcp-Session-Id`).
///
/// A session pairs a protocols::mcp::Connection (the protocol state) with its HTTP-side state:
/// the tenant that created it (a session is invisible to other tenants: 404), its resumable
/// event streams (the standalone GET stream 0 and recent POST streams, bounded), and its last
/// activity. The store bounds the number of sessions (per process and per tenant) and expires
/// idle ones; an expired or deleted session answers 404, which tells the client to initialize
/// again.
///
/// Ownership: the store owns sessions; in-flight channels share them. Thread-safety: all
/// members are thread-safe.

#include "agentd/protocols/mcp/server.h"

#include "mcp/event_stream.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace agentd::gateway::mcp {

struct SessionLimits {
    std::size_t max_sessions = 4096;
    std::size_t max_sessions_per_tenant = 1024;
    std::chrono::milliseconds idle_timeout{30 * 60 * 1000};
    std::size_t max_retained_streams = 64; ///< POST streams kept for replay per session
    ReplayLimits replay;
};

class McpSession final : public std::enable_shared_from_this<McpSession> {
public:
    McpSession(std::string id, protocols::mcp::Caller caller, SessionLimits limits);

    [[nodiscard]] const std::string& id() const { return id_; }
    [[nodiscard]] const protocols::mcp::Caller& caller() const { return caller_; }
    [[nodiscard]] const std::shared_ptr<protocols::mcp::Connection>& connection() const {
        return connection_;
    }
    void set_connection(std::shared_ptr<protocols::mcp::Connection> connection);

    /// A new resumable stream for a POST response (older finished streams are evicted).
    [[nodiscard]] std::shared_ptr<EventStream> new_stream();
    /// The stream with `id` (0: the standalone GET stream), if still retained.
    [[nodiscard]] std::shared_ptr<EventStream> stream(std::uint64_t id) const;
    [[nodiscard]] const std::shared_ptr<EventStream>& standalone() const { return standalone_; }

    void touch();
    /// True when nothing happened for `idle`, no stream is connected and no request runs.
    [[nodiscard]] bool idle_for(std::chrono::milliseconds idle,
                                std::chrono::steady_clock::time_point now) const;
    /// Ends the session: closes the connection (cancels its requests) and every stream.
    void close();

private:
    const std::string id_;
    const protocols::mcp::Caller caller_;
    const SessionLimits limits_;
    std::shared_ptr<protocols::mcp::Connection> connection_;
    std::shared_ptr<EventStream> standalone_;
    mutable std::mutex mu_;
    std::uint64_t next_stream_ = 1;
    std::map<std::uint64_t, std::shared_ptr<EventStream>> streams_;
    std::chrono::steady_clock::time_point last_activity_;
};

/// Routes a session's connection-level messages to its standalone stream.
class SessionSink final : public protocols::mcp::ConnectionSink {
public:
    explicit SessionSink(std::weak_ptr<McpSession> session) : session_(std::move(session)) {}
    void send(std::string message) override;

private:
    std::weak_ptr<McpSession> session_;
};

class SessionStore {
public:
    explicit SessionStore(SessionLimits limits) : limits_(limits) {}

    [[nodiscard]] const SessionLimits& limits() const { return limits_; }
    /// Creates an unregistered session with a fresh unguessable id.
    [[nodiscard]] std::shared_ptr<McpSession> make(const protocols::mcp::Caller& caller) const;
    /// Registers a session; false when a bound is reached (after expiring idle sessions).
    bool add(const std::shared_ptr<McpSession>& session);
    /// The live session `id` of `tenant` (touched), or null.
    [[nodiscard]] std::shared_ptr<McpSession> find(const std::string& id,
                                                   const std::string& tenant);
    /// Removes and closes session `id` of `tenant`; false when there is none.
    bool remove(const std::string& id, const std::string& tenant);
    /// Closes sessions idle for longer than the timeout; returns how many.
    std::size_t expire_idle();
    /// Closes every session (shutdown).
    void close_all();
    [[nodiscard]] std::size_t size() const;

private:
    const SessionLimits limits_;
    mutable std::mutex mu_;
    std::unordered_map<std::string, std::shared_ptr<McpSession>> sessions_;
    std::unordered_map<std::string, std::size_t> per_tenant_;
};

/// 128 random bits from the kernel CSPRNG as 32 hex digits (visible ASCII, as the spec asks).
[[nodiscard]] std::string random_session_id();

} // namespace agentd::gateway::mcp
