#pragma once
/// A small blocking HTTP/1.1 client for tests (Beast underneath), where every operation has a
/// deadline so a broken server fails the test instead of hanging it.
///
/// Thread affinity: one HttpConnection per thread. Errors: network failures and timeouts throw
/// HttpClientError (tests let gtest report them); a closed connection is reported by
/// wait_closed() / is_open().

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace agentd::itest {

using namespace std::chrono_literals;

class HttpClientError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct HttpRequest {
    std::string method = "GET";
    std::string target = "/";
    std::vector<std::pair<std::string, std::string>> headers; ///< Host is added unless given
    std::string body;
};

struct HttpResponse {
    unsigned status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool keep_alive = true;
    /// The first value of `name` (case-insensitive), or "" when absent.
    [[nodiscard]] std::string header(std::string_view name) const;
    [[nodiscard]] bool has_header(std::string_view name) const;
};

/// A request value (designated initializers trip -Wmissing-field-initializers).
HttpRequest make_request(std::string method, std::string target, std::string body = {},
                         std::vector<std::pair<std::string, std::string>> headers = {});

class HttpConnection {
public:
    /// Connects to 127.0.0.1:port.
    explicit HttpConnection(std::uint16_t port, std::chrono::milliseconds timeout = 10s);
    ~HttpConnection();
    HttpConnection(HttpConnection&&) noexcept;
    HttpConnection& operator=(HttpConnection&&) noexcept;

    /// Sends `request` and reads its response.
    HttpResponse request(const HttpRequest& request);
    void send(const HttpRequest& request);
    /// Writes bytes as they are (malformed input, pipelining, slow clients).
    void send_raw(std::string_view bytes);
    /// Reads one complete response. `head_request`: the response to a HEAD (no body).
    HttpResponse read_response(bool head_request = false);
    /// Reads a response head only; the body can then be read incrementally with read_body_some.
    HttpResponse read_head();
    /// Reads more of the body started by read_head; returns what arrived (empty at its end).
    /// Sets *done when the message is complete.
    std::string read_body_some(bool* done);
    /// Waits until the server closes the connection (reading and discarding); true if it did
    /// within the timeout. Returns the bytes that arrived before the close in *received.
    bool wait_closed(std::chrono::milliseconds timeout, std::string* received = nullptr);
    /// Closes our side.
    void close();

    void set_timeout(std::chrono::milliseconds timeout);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// One request on a fresh connection.
HttpResponse http_request(std::uint16_t port, const HttpRequest& request);
HttpResponse http_get(std::uint16_t port, const std::string& target,
                      std::vector<std::pair<std::string, std::string>> headers = {});

} // namespace agentd::itest
