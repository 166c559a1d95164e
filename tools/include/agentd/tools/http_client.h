#pragma once
/// The outbound HTTP client REST tools need. tools/ declares it; the gateway implements it on
/// Beast/Asio (gateway/src/http_client/), so tools/ never includes Beast.
///
/// Contract for implementations:
/// - send() returns at once; `done` runs exactly once, on any thread.
/// - The host is resolved asynchronously and every resolved address is passed to
///   `policy.check_address` right before connecting; forbidden addresses are never contacted
///   (DNS-rebinding protection). When no address is allowed: errc::forbidden.
/// - The whole exchange (resolve, connect, TLS, write, read) finishes by `deadline`, else
///   errc::timeout with a message naming the phase that was running.
/// - Redirects are never followed (a 3xx is an ordinary response).
/// - A body larger than `max_response_bytes` ends the exchange: errc::response_too_large.
/// - `cancel` aborts the exchange promptly: errc::cancelled.
/// - Other failures: dns_failure, connection_refused, connection_failed, tls_error,
///   bad_response (malformed HTTP), busy (connection limits and their queue are full).
///
/// Ownership: shared by every REST tool. Thread-safety: send() may be called from any thread.

#include "agentd/base/result.h"
#include "agentd/tools/cancellation.h"
#include "agentd/tools/net_policy.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace agentd::tools {

struct HttpClientRequest {
    std::string method = "GET";
    bool tls = false;
    std::string host; ///< name or IP literal (no brackets)
    std::uint16_t port = 80;
    std::string target = "/"; ///< origin-form: path and query
    /// Sent as given (the client adds Host, Content-Length and Connection itself).
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::chrono::steady_clock::time_point deadline;
    std::size_t max_response_bytes = 4U << 20U;
    NetPolicy policy;
    std::shared_ptr<CancellationSignal> cancel; ///< may be null
};

struct HttpClientResponse {
    unsigned status = 0;
    std::string reason;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string remote_address; ///< the address actually contacted ("ip:port")

    /// The first value of a header (case-insensitive), or "".
    [[nodiscard]] std::string header(std::string_view name) const;
};

using HttpClientCallback = std::function<void(base::Result<HttpClientResponse>)>;

class HttpClient {
public:
    virtual ~HttpClient() = default;
    virtual void send(HttpClientRequest request, HttpClientCallback done) = 0;
};

} // namespace agentd::tools
