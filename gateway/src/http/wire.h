#pragma once
/// HTTP/1.1 response serialization and SSE event framing (the bytes agentd writes).
///
/// Pure functions, thread-safe. Handler-supplied header names and values are validated here:
/// a response whose headers could split the response (CR/LF/NUL, non-token names) is refused
/// (validate_response returns the reason) and the caller sends 500 instead.

#include "http/handler.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace agentd::gateway::http::wire {

/// Why `r` cannot be sent as is (bad status, bad header), or nullopt when it is fine.
[[nodiscard]] std::optional<std::string> validate_response(const Response& r);

struct HeadOptions {
    bool close = false;         ///< "Connection: close"
    bool keep_alive_10 = false; ///< "Connection: keep-alive" (HTTP/1.0 client kept alive)
    bool chunked = false;       ///< "Transfer-Encoding: chunked" instead of Content-Length
    bool sse = false;           ///< event-stream cache headers
    std::optional<std::uint64_t> content_length; ///< sent unless chunked or status 204/304
    std::string_view request_id;
};

/// Appends status line and header block (ending with the blank line) for `r`.
void append_head(std::string& out, const Response& r, const HeadOptions& options);

/// True when a response with this status never carries a body (1xx, 204, 304).
[[nodiscard]] bool status_has_no_body(unsigned status) noexcept;

/// The text of one SSE event (retry/id/event/data lines, blank line). CR/LF in `id`/`event` are
/// replaced by spaces and NUL in `id` is dropped (the spec ignores such ids).
[[nodiscard]] std::string format_sse_event(const SseEvent& event);

/// The heartbeat comment written on idle streams.
inline constexpr std::string_view kSseHeartbeat = ": keep-alive\n\n";

/// Appends `payload` as one chunk of a chunked body.
void append_chunk(std::string& out, std::string_view payload);
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";
inline constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

/// The current time as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), cached per second
/// per thread.
[[nodiscard]] std::string_view http_date();

} // namespace agentd::gateway::http::wire
