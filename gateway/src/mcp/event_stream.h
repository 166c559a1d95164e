#pragma once
/// One SSE stream of an MCP session (session revisions 2025-03-26..2025-11-25): a POST's
/// response stream, or the session's standalone GET stream (id 0). Every event gets an id
/// "<stream>_<seq>", unique in the session and naming its stream, and is kept in a bounded
/// replay buffer, so a client that lost the connection resumes with `GET` + `Last-Event-ID`
/// and gets exactly the events it missed, on the stream it lost (transports, "Resumability").
///
/// The stream outlives its HTTP connections: events sent while no connection is attached are
/// buffered; attach() replays and continues. A final event (the JSON-RPC response) ends the
/// stream: attached connections are closed after it, later attach() calls replay and close.
///
/// Ownership: shared by the session and the request's channel. Thread-safety: all members are
/// thread-safe; SseStream calls happen outside the lock when they may call back.

#include "http/handler.h"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace agentd::gateway::mcp {

struct ReplayLimits {
    std::size_t max_events = 256;     ///< per stream
    std::size_t max_bytes = 1u << 20; ///< per stream
};

class EventStream : public std::enable_shared_from_this<EventStream> {
public:
    EventStream(std::uint64_t id, ReplayLimits limits) : id_(id), limits_(limits) {}

    [[nodiscard]] std::uint64_t id() const { return id_; }
    /// Sends the priming event (an id with empty data) that lets a client resume at once.
    void prime();
    /// Sends `data` as an event; `final` ends the stream after it.
    void send(std::string data, bool final);
    /// Attaches a connection, replaying the buffered events after sequence `after` first
    /// (nullopt: no replay). A previously attached connection is closed.
    void attach(std::shared_ptr<http::SseStream> sink, std::optional<std::uint64_t> after);
    /// Claims the stream for one exclusive connection before its response starts (the
    /// standalone GET stream): false when a connection is attached or already claimed it.
    /// The next attach() ends the claim; check and claim are one step, so two racing GETs
    /// cannot both win.
    [[nodiscard]] bool claim();
    /// The request ended without a response (cancelled): nothing more will be sent. The
    /// connection stays open, idle, until the client closes it (a client that saw an event id
    /// would otherwise try to resume the stream).
    void abandon();
    /// Closes the attached connection and ends the stream (session end).
    void close();

    [[nodiscard]] bool finished() const;
    [[nodiscard]] bool attached() const;
    [[nodiscard]] bool replayable(std::uint64_t after) const;

    /// "<stream>_<seq>" → {stream, seq}; nullopt when malformed.
    [[nodiscard]] static std::optional<std::pair<std::uint64_t, std::uint64_t>>
    parse_event_id(std::string_view text);

private:
    struct Event {
        std::uint64_t seq;
        std::string data;
    };
    http::SseEvent make_event(std::uint64_t seq, const std::string& data) const;
    void detach(const http::SseStream* sink);
    std::shared_ptr<http::SseStream> push_locked(std::string data, bool final);

    const std::uint64_t id_;
    const ReplayLimits limits_;
    mutable std::mutex mu_;
    std::uint64_t next_seq_ = 1;
    std::deque<Event> buffer_;
    std::size_t buffered_bytes_ = 0;
    std::uint64_t first_dropped_ = 0; ///< highest sequence evicted from the buffer
    std::shared_ptr<http::SseStream> sink_;
    bool finished_ = false;
    bool closed_ = false;
    bool claimed_ = false;
};

} // namespace agentd::gateway::mcp
