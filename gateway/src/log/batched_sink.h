#pragma once
/// A log sink that never writes on the caller's thread: lines are appended to a buffer under a
/// short lock and a writer thread empties the buffer with one write(2) per batch. Under load one
/// write carries hundreds of lines (the synchronous stderr sink made one write per line on the
/// I/O threads, under its mutex: 14% of the gateway's throughput at 64 connections).
///
/// - Bounded: beyond `max_buffered` bytes a caller waits for the writer (back-pressure rather
///   than silently dropped lines); a failing descriptor (EPIPE, EBADF...) drops what was
///   pending, so a vanished reader can never stall the server.
/// - flush() returns once every line logged before it is written (spdlog's flush_on(warn) and
///   shutdown use it); the destructor flushes and joins the writer.
/// - The writer thread is started lazily by the first line, never by construction alone.
///
/// Threads: every member is thread-safe. Errors: none reach the caller (logging never fails a
/// request). The descriptor is not owned.

#include <spdlog/details/log_msg.h>
#include <spdlog/sinks/base_sink.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace agentd::gateway::log {

class BatchedFdSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    explicit BatchedFdSink(int fd, std::size_t max_buffered = 8u << 20);
    ~BatchedFdSink() override;
    BatchedFdSink(const BatchedFdSink&) = delete;
    BatchedFdSink& operator=(const BatchedFdSink&) = delete;

    /// Writes done so far (one per batch): for tests and diagnostics.
    [[nodiscard]] std::uint64_t writes() const;

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override;
    void flush_() override;

private:
    void writer_loop();
    /// Writes all of `data`; false when the descriptor fails (the rest is dropped).
    bool write_all(const std::string& data) const;

    const int fd_;
    const std::size_t max_buffered_;
    mutable std::mutex q_mu_;
    std::condition_variable has_data_;   ///< pending_ became non-empty, or stop_
    std::condition_variable progressed_; ///< a batch was written (flush, back-pressure)
    std::string pending_;
    std::uint64_t appended_bytes_ = 0; ///< bytes ever put in pending_
    std::uint64_t written_bytes_ = 0;  ///< of those, written (or dropped: failing descriptor)
    std::uint64_t writes_ = 0;
    bool stop_ = false;
    std::thread writer_;
};

} // namespace agentd::gateway::log
