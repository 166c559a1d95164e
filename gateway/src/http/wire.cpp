#include "http/wire.h"

#include "http/text.h"

#include <boost/beast/http/status.hpp>

#include <chrono>
#include <ctime>

namespace agentd::gateway::http::wire {
namespace {

/// Headers the server owns; a handler's value for them is ignored.
bool server_managed(std::string_view name) {
    static constexpr std::string_view kManaged[] = {
        "content-length", "transfer-encoding", "connection",   "keep-alive", "upgrade",
        "date",           "x-request-id",      "content-type",
    };
    for (auto m : kManaged) {
        if (iequals(name, m)) {
            return true;
        }
    }
    return false;
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
    out.append(name);
    out.append(": ");
    out.append(value);
    out.append("\r\n");
}

} // namespace

bool status_has_no_body(unsigned status) noexcept {
    return status < 200 || status == 204 || status == 304;
}

std::optional<std::string> validate_response(const Response& r) {
    if (r.status < 200 || r.status > 599) {
        return "invalid response status " + std::to_string(r.status);
    }
    if (!is_field_value(r.content_type)) {
        return "invalid Content-Type value";
    }
    for (const auto& [name, value] : r.headers.items()) {
        if (!is_token(name)) {
            return "invalid response header name \"" + name + "\"";
        }
        if (!is_field_value(value)) {
            return "invalid value for response header \"" + name + "\"";
        }
    }
    return std::nullopt;
}

void append_head(std::string& out, const Response& r, const HeadOptions& o) {
    out.append("HTTP/1.1 ");
    out.append(std::to_string(r.status));
    out.push_back(' ');
    const auto reason =
        boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(r.status));
    out.append(reason.data(), reason.size());
    out.append("\r\n");
    append_header(out, "Date", http_date());
    const bool no_body = status_has_no_body(r.status);
    if (!r.content_type.empty() && (!no_body || o.sse)) {
        append_header(out, "Content-Type", r.content_type);
    }
    if (o.sse) {
        append_header(out, "Cache-Control", "no-cache");
        append_header(out, "X-Accel-Buffering", "no");
    }
    if (o.chunked) {
        append_header(out, "Transfer-Encoding", "chunked");
    } else if (!no_body && o.content_length) {
        append_header(out, "Content-Length", std::to_string(*o.content_length));
    }
    if (!o.request_id.empty()) {
        append_header(out, "X-Request-Id", o.request_id);
    }
    for (const auto& [name, value] : r.headers.items()) {
        if (!server_managed(name)) {
            append_header(out, name, value);
        }
    }
    if (o.close) {
        append_header(out, "Connection", "close");
    } else if (o.keep_alive_10) {
        append_header(out, "Connection", "keep-alive");
    }
    out.append("\r\n");
}

std::string format_sse_event(const SseEvent& event) {
    std::string out;
    out.reserve(event.data.size() + 32);
    const auto single_line = [](std::string_view s, bool drop_nul) {
        std::string v;
        for (char c : s) {
            if (c == '\r' || c == '\n') {
                v.push_back(' ');
            } else if (c != '\0' || !drop_nul) {
                v.push_back(c);
            }
        }
        return v;
    };
    if (event.retry) {
        out.append("retry: ").append(std::to_string(event.retry->count())).push_back('\n');
    }
    if (!event.id.empty()) {
        out.append("id: ").append(single_line(event.id, true)).push_back('\n');
    }
    if (!event.event.empty()) {
        out.append("event: ").append(single_line(event.event, false)).push_back('\n');
    }
    std::string_view data = event.data;
    while (true) {
        const auto eol = data.find_first_of("\r\n");
        out.append("data: ").append(data.substr(0, eol)).push_back('\n');
        if (eol == std::string_view::npos) {
            break;
        }
        const std::size_t skip =
            (data[eol] == '\r' && eol + 1 < data.size() && data[eol + 1] == '\n') ? 2 : 1;
        // A trailing newline yields a final empty data line, so the client's reassembled data
        // (lines joined by '\n') ends with the newline too.
        data.remove_prefix(eol + skip);
    }
    out.push_back('\n');
    return out;
}

void append_chunk(std::string& out, std::string_view payload) {
    static constexpr char kHex[] = "0123456789abcdef";
    char size[20];
    int n = 0;
    std::size_t v = payload.size();
    do {
        size[n++] = kHex[v & 0xF];
        v >>= 4;
    } while (v != 0);
    while (n > 0) {
        out.push_back(size[--n]);
    }
    out.append("\r\n");
    out.append(payload);
    out.append("\r\n");
}

std::string_view http_date() {
    thread_local std::time_t cached_second = 0;
    thread_local char cached[32] = {};
    thread_local std::size_t cached_len = 0;
    const std::time_t now = std::time(nullptr);
    if (now != cached_second || cached_len == 0) {
        std::tm tm{};
        gmtime_r(&now, &tm);
        cached_len = std::strftime(cached, sizeof cached, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        cached_second = now;
    }
    return {cached, cached_len};
}

} // namespace agentd::gateway::http::wire
