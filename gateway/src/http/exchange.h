#pragma once
/// One request/response exchange on a connection: the state the connection's session (on its
/// strand) shares with the handler-facing ResponseWriter / SseStream (any thread).
///
/// Ownership: shared by the session's pending queue, the writer and the stream. It holds no
/// pointer to the session, so a handler that leaks a writer cannot keep a connection's queue
/// alive through a cycle. Thread affinity: members marked "strand" are touched only on the
/// session's strand; the rest are atomics or guarded by the mutex. Callbacks run outside the
/// lock. Errors: none (a full or closed stream is reported by sse_push's return value).

#include "http/handler.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>

namespace agentd::gateway::http {

class Exchange {
public:
    enum class State { waiting, ready, sse_head, sse_streaming, done };

    // --- strand: fixed when the request is dispatched ---
    std::string method;
    std::string target; ///< as sent, for logs
    std::string request_id;
    std::string route = "-"; ///< metrics/log label, set by the request hooks
    std::string remote;
    bool head = false;        ///< HEAD: the body is not sent
    bool http10 = false;      ///< HTTP/1.0 client: no chunked encoding
    bool close_after = false; ///< the connection closes after this response
    std::uint64_t request_bytes = 0;
    std::chrono::steady_clock::time_point started;

    // --- strand: response progress ---
    State state = State::waiting;
    Response response;        ///< ready: the response; sse_*: status and extra headers
    unsigned status_sent = 0; ///< status of the head written (0 = none yet)
    std::uint64_t response_bytes = 0;
    bool sse = false; ///< start_sse() took effect (counts as an open stream)

    // --- any thread ---
    /// Claims the single answer (respond or start_sse); false if already answered.
    bool claim_answer() noexcept { return !answered_.exchange(true, std::memory_order_acq_rel); }
    [[nodiscard]] bool answered() const noexcept {
        return answered_.load(std::memory_order_acquire);
    }
    [[nodiscard]] bool gone() const noexcept { return gone_.load(std::memory_order_acquire); }

    /// Sets the client-gone callback; runs it at once when the client is already gone.
    void set_on_gone(std::function<void()> callback);
    /// Marks the client gone and runs the callback (once).
    void fire_gone();

    /// Queues one serialized event. False when the stream is closed or closing, or when it would
    /// exceed `max_events` / `max_bytes`. `*post` is set when the caller must wake the session.
    bool sse_push(std::string event, std::size_t max_events, std::size_t max_bytes, bool* post);
    /// Asks for the stream to end after the queued events. `*post` as for sse_push.
    void sse_request_close(bool* post);
    /// Session side: the session has been woken; later pushes must wake it again.
    void sse_clear_posted();
    /// Session side: moves the queued events into `out`; returns true when close was requested.
    bool sse_take(std::string& out);
    [[nodiscard]] bool sse_closed() const;
    /// Sets the stream-closed callback; runs it at once when the stream already ended.
    void set_on_close(std::function<void()> callback);
    /// Marks the stream ended and runs the callback (once).
    void fire_close();

private:
    std::atomic<bool> answered_{false};
    std::atomic<bool> gone_{false};
    mutable std::mutex mutex_;
    std::function<void()> on_gone_;
    bool gone_fired_ = false;
    std::deque<std::string> events_;
    std::size_t queued_bytes_ = 0;
    bool close_requested_ = false;
    bool posted_ = false;
    bool stream_ended_ = false;
    std::function<void()> on_close_;
};

} // namespace agentd::gateway::http
