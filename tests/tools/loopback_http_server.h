#pragma once
// A real HTTP/1.1 server on 127.0.0.1:<free port> for the REST tool tests (Beast, blocking, one
// thread per connection). Its paths behave like the endpoints REST tools meet in the wild,
// including broken ones:
//   /echo            200, JSON {method, target, headers, body} of the request
//   /add             200, {"sum": a + b} from a JSON body {a, b}
//   /weather         200, {"city": <query city>, "temp": 21.5}
//   /array           200, [1,2,3]
//   /empty           204
//   /text            200, text/html
//   /big             200, a 2 MiB JSON string
//   /status/NNN      NNN, {"error": "status NNN"}
//   /redirect        302 to http://169.254.169.254/latest/meta-data/
//   /stall-headers   reads the request, then never answers (until the client goes away;
//                    wait_abandoned counts such departures)
//   /stall-body      sends headers promising 1000 bytes, sends 10, then stalls
//   /garbage         answers bytes that are not HTTP
//   /close           closes without answering
// Every request is recorded; tests can wait for one to arrive (bounded waits, no sleeps).
// With a certificate and key (PEM), it speaks HTTPS instead.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace agentd::tools::test {

struct RecordedRequest {
    std::string method;
    std::string target;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

class LoopbackHttpServer {
public:
    LoopbackHttpServer();
    LoopbackHttpServer(const std::string& cert_pem, const std::string& key_pem);
    ~LoopbackHttpServer();
    LoopbackHttpServer(const LoopbackHttpServer&) = delete;
    LoopbackHttpServer& operator=(const LoopbackHttpServer&) = delete;

    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] std::string url(const std::string& path) const;
    /// Waits until a request whose target starts with `prefix` has arrived.
    bool wait_for(const std::string& prefix, std::chrono::milliseconds timeout);
    /// Waits until `count` such requests have arrived.
    bool wait_for_count(const std::string& prefix, std::size_t count,
                        std::chrono::milliseconds timeout);
    /// Waits until clients have closed `count` stalled exchanges (/stall-*) in all.
    bool wait_abandoned(std::size_t count, std::chrono::milliseconds timeout);
    [[nodiscard]] std::vector<RecordedRequest> requests() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
    std::uint16_t port_ = 0;
};

/// A self-signed certificate for "localhost" and 127.0.0.1 with its key, both PEM.
std::pair<std::string, std::string> make_self_signed_certificate();

} // namespace agentd::tools::test
