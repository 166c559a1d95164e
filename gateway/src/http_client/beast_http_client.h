#pragma once
/// The outbound HTTP/1.1 client behind REST tools (implements tools::HttpClient on Beast/Asio):
/// asynchronous resolve → policy check of every resolved address → connect → TLS (OpenSSL,
/// peer and host-name verification, SNI) → write → bounded read, all under one deadline, with
/// global and per-host concurrency limits. One connection per exchange (`Connection: close`);
/// redirects are never followed. See agentd/tools/http_client.h for the contract and errors.
///
/// Ownership: create with make_beast_http_client and share it; in-flight exchanges keep what
/// they need alive. Thread-safety: send() from any thread; callbacks run on the io_context's
/// threads. Errors: start-up problems (unreadable CA file) throw std::runtime_error.

#include "agentd/tools/http_client.h"

#include <cstddef>
#include <filesystem>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace agentd::gateway::http_client {

struct HttpClientOptions {
    std::size_t max_in_flight = 256;
    std::size_t max_per_host = 32;
    std::size_t max_waiting = 1024;
    std::size_t max_header_bytes = 64U << 10U;
    /// Extra trusted CA certificates (PEM) besides the system store; empty: none.
    std::filesystem::path extra_ca_file;
    /// Trust only extra_ca_file (tests with a private CA).
    bool no_system_ca = false;
};

/// A client running on `io` (which must outlive every exchange's completion).
[[nodiscard]] std::shared_ptr<tools::HttpClient>
make_beast_http_client(boost::asio::io_context& io, HttpClientOptions options = {});

} // namespace agentd::gateway::http_client
