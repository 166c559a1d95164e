#pragma once
/// OpenTelemetry-style tracing of agent turns: one span per turn step (request → queue+prefill
/// with cached vs computed prompt tokens → decode → each tool call with its sandbox usage),
/// always written to the structured log (one `span` event per span) and, when
/// `tracing.otlp_endpoint` is configured, exported as OTLP/HTTP JSON (POST <endpoint>/v1/traces)
/// in batches. A W3C `traceparent` (HTTP header or MCP `_meta`) makes the turn a child of the
/// caller's trace.
///
/// Ownership: shared. Threads: every member is thread-safe; export runs on the HTTP client's
/// threads. Errors: export failures are logged and counted, never reported to the turn.

#include "agentd/protocols/mcp/types.h"
#include "agentd/tools/http_client.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace agentd::gateway::runtime {

using AttrValue = std::variant<std::string, std::int64_t, double, bool>;

struct SpanRecord {
    std::string trace_id;  ///< 32 hex digits
    std::string span_id;   ///< 16 hex digits
    std::string parent_id; ///< "" for a root span
    std::string name;
    std::int64_t start_unix_ns = 0;
    std::int64_t end_unix_ns = 0;
    std::vector<std::pair<std::string, AttrValue>> attributes;
    bool error = false;
    std::string status_message;
};

/// The parts of a W3C traceparent ("00-<trace>-<span>-<flags>").
struct TraceParent {
    std::string trace_id;
    std::string span_id;
};
[[nodiscard]] std::optional<TraceParent> parse_traceparent(std::string_view text);

[[nodiscard]] std::string new_trace_id();
[[nodiscard]] std::string new_span_id();
[[nodiscard]] std::int64_t unix_ns_now();

struct TracerOptions {
    std::string otlp_endpoint; ///< "http://host:4318" ("" → logs only)
    std::string service_name = "agentd";
    std::size_t max_batch = 256;     ///< spans per export request
    std::size_t max_buffered = 4096; ///< beyond this, spans are dropped from export (not logs)
    std::chrono::milliseconds flush_interval{1000};
};

class Tracer : public std::enable_shared_from_this<Tracer> {
public:
    /// `http` and `timers` may be null when there is no endpoint.
    Tracer(TracerOptions options, std::shared_ptr<tools::HttpClient> http,
           std::shared_ptr<protocols::mcp::Timers> timers);

    /// Logs the span and queues it for export.
    void emit(SpanRecord span);
    /// Sends what is buffered now (shutdown).
    void flush();

    [[nodiscard]] std::uint64_t exported() const;
    [[nodiscard]] std::uint64_t dropped() const;

private:
    void schedule_flush_locked();

    TracerOptions options_;
    std::shared_ptr<tools::HttpClient> http_;
    std::shared_ptr<protocols::mcp::Timers> timers_;
    mutable std::mutex mu_;
    std::vector<SpanRecord> buffer_;
    bool flush_scheduled_ = false;
    std::uint64_t exported_ = 0;
    std::uint64_t dropped_ = 0;
};

/// The OTLP/JSON ExportTraceServiceRequest body for `spans`.
[[nodiscard]] std::string otlp_json(const std::vector<SpanRecord>& spans,
                                    std::string_view service_name);

} // namespace agentd::gateway::runtime
