#include "loopback_http_server.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdexcept>
#include <sys/socket.h>

namespace agentd::tools::test {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

std::string query_value(const std::string& target, const std::string& key) {
    const auto q = target.find('?');
    if (q == std::string::npos) {
        return {};
    }
    std::string rest = target.substr(q + 1);
    const std::string prefix = key + "=";
    for (std::size_t pos = 0; pos < rest.size();) {
        const auto amp = rest.find('&', pos);
        const std::string pair = rest.substr(pos, amp == std::string::npos ? amp : amp - pos);
        if (pair.rfind(prefix, 0) == 0) {
            std::string out;
            const std::string raw = pair.substr(prefix.size());
            for (std::size_t i = 0; i < raw.size(); ++i) {
                if (raw[i] == '%' && i + 2 < raw.size()) {
                    out.push_back(static_cast<char>(std::stoi(raw.substr(i + 1, 2), nullptr, 16)));
                    i += 2;
                } else {
                    out.push_back(raw[i]);
                }
            }
            return out;
        }
        if (amp == std::string::npos) {
            break;
        }
        pos = amp + 1;
    }
    return {};
}

template <class Stream>
void send(Stream& stream, unsigned status, const std::string& type, std::string body,
          std::vector<std::pair<std::string, std::string>> extra = {}) {
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    if (!type.empty()) {
        res.set(http::field::content_type, type);
    }
    for (auto& [k, v] : extra) {
        res.set(k, v);
    }
    res.body() = std::move(body);
    res.keep_alive(false);
    res.prepare_payload();
    beast::error_code ec;
    http::write(stream, res, ec);
}

} // namespace

struct LoopbackHttpServer::Impl {
    net::io_context io;
    tcp::acceptor acceptor{io};
    std::unique_ptr<net::ssl::context> ssl;
    std::thread accept_thread;
    mutable std::mutex mutex;
    std::condition_variable cv;
    std::vector<RecordedRequest> requests;
    std::vector<std::thread> workers;
    std::vector<int> open_fds;
    std::size_t abandoned = 0; ///< stalled exchanges the client gave up on
    std::atomic<bool> stopping{false};

    /// Blocks until the peer closes (or the server shuts the socket down at stop); a close by
    /// the peer counts as an abandoned exchange.
    template <class Stream>
    void wait_for_close(Stream& stream) {
        std::array<char, 256> scratch{};
        beast::error_code ec;
        while (!ec) {
            (void)beast::get_lowest_layer(stream).read_some(net::buffer(scratch), ec);
        }
        if (!stopping) {
            {
                const std::lock_guard lock(mutex);
                ++abandoned;
            }
            cv.notify_all();
        }
    }

    void accept_loop() {
        while (!stopping) {
            tcp::socket socket(io);
            beast::error_code ec;
            acceptor.accept(socket, ec);
            if (ec || stopping) {
                continue;
            }
            const std::lock_guard lock(mutex);
            open_fds.push_back(socket.native_handle());
            workers.emplace_back([this, s = std::move(socket)]() mutable { handle(std::move(s)); });
        }
    }

    void handle(tcp::socket socket) {
        const int fd = socket.native_handle();
        if (ssl) {
            beast::ssl_stream<tcp::socket&> stream(socket, *ssl);
            beast::error_code ec;
            stream.handshake(net::ssl::stream_base::server, ec);
            if (!ec) {
                serve(stream);
            }
        } else {
            serve(socket);
        }
        const std::lock_guard lock(mutex);
        std::erase(open_fds, fd);
    }

    void record(const http::request<http::string_body>& req) {
        RecordedRequest r;
        r.method = std::string(req.method_string());
        r.target = std::string(req.target());
        for (const auto& f : req) {
            r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
        }
        r.body = req.body();
        {
            const std::lock_guard lock(mutex);
            requests.push_back(std::move(r));
        }
        cv.notify_all();
    }

    template <class Stream>
    void serve(Stream& stream) {
        beast::flat_buffer buffer;
        http::request<http::string_body> req;
        beast::error_code ec;
        http::read(stream, buffer, req, ec);
        if (ec) {
            return;
        }
        record(req);
        const std::string target(req.target());
        const std::string path = target.substr(0, target.find('?'));
        if (path == "/echo") {
            nlohmann::json headers = nlohmann::json::object();
            for (const auto& f : req) {
                std::string name(f.name_string());
                std::transform(name.begin(), name.end(), name.begin(), ::tolower);
                headers[name] = std::string(f.value());
            }
            auto body = nlohmann::json::parse(req.body(), nullptr, false);
            nlohmann::json echo = {
                {"method", std::string(req.method_string())},
                {"target", target},
                {"headers", headers},
                {"body", body.is_discarded() ? nlohmann::json(req.body()) : body}};
            send(stream, 200, "application/json", echo.dump());
        } else if (path == "/add") {
            const auto in = nlohmann::json::parse(req.body(), nullptr, false);
            const double sum = in.is_object() ? in.value("a", 0.0) + in.value("b", 0.0) : 0.0;
            send(stream, 200, "application/json", nlohmann::json{{"sum", sum}}.dump());
        } else if (path == "/weather") {
            send(stream, 200, "application/json",
                 nlohmann::json{{"city", query_value(target, "city")}, {"temp", 21.5}}.dump());
        } else if (path == "/array") {
            send(stream, 200, "application/json", "[1,2,3]");
        } else if (path == "/empty") {
            send(stream, 204, "", "");
        } else if (path == "/text") {
            send(stream, 200, "text/html", "<html>hello</html>");
        } else if (path == "/big") {
            send(stream, 200, "application/json",
                 nlohmann::json(std::string(2U << 20U, 'x')).dump());
        } else if (path.rfind("/status/", 0) == 0) {
            const unsigned status = static_cast<unsigned>(std::stoi(path.substr(8)));
            send(stream, status, "application/json",
                 nlohmann::json{{"error", "status " + std::to_string(status)}}.dump());
        } else if (path == "/redirect") {
            send(stream, 302, "", "", {{"Location", "http://169.254.169.254/latest/meta-data/"}});
        } else if (path == "/stall-headers") {
            wait_for_close(stream);
        } else if (path == "/stall-body") {
            const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                     "Content-Length: 1000\r\n\r\n\"0123456789";
            net::write(stream, net::buffer(head), ec);
            wait_for_close(stream);
        } else if (path == "/garbage") {
            net::write(stream, net::buffer(std::string("NOT HTTP AT ALL\r\n\r\n")), ec);
        } else if (path == "/close") {
            return;
        } else {
            send(stream, 404, "application/json", R"({"error":"no such path"})");
        }
    }
};

LoopbackHttpServer::LoopbackHttpServer() : LoopbackHttpServer(std::string(), std::string()) {}

LoopbackHttpServer::LoopbackHttpServer(const std::string& cert_pem, const std::string& key_pem)
    : impl_(std::make_unique<Impl>()) {
    if (!cert_pem.empty()) {
        impl_->ssl = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
        impl_->ssl->use_certificate_chain(net::buffer(cert_pem));
        impl_->ssl->use_private_key(net::buffer(key_pem), net::ssl::context::pem);
    }
    impl_->acceptor.open(tcp::v4());
    impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    impl_->acceptor.bind(tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    impl_->acceptor.listen();
    port_ = impl_->acceptor.local_endpoint().port();
    impl_->accept_thread = std::thread([this] { impl_->accept_loop(); });
}

LoopbackHttpServer::~LoopbackHttpServer() {
    impl_->stopping = true;
    {
        // Wake the blocking accept() with one last connection.
        net::io_context io;
        tcp::socket wake(io);
        beast::error_code ec;
        wake.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_), ec);
    }
    impl_->accept_thread.join();
    std::vector<std::thread> workers;
    {
        const std::lock_guard lock(impl_->mutex);
        for (const int fd : impl_->open_fds) {
            ::shutdown(fd, SHUT_RDWR); // unblocks stalled handlers
        }
        workers.swap(impl_->workers);
    }
    for (auto& w : workers) {
        w.join();
    }
}

std::string LoopbackHttpServer::url(const std::string& path) const {
    return (impl_->ssl ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port_) + path;
}

bool LoopbackHttpServer::wait_for(const std::string& prefix, std::chrono::milliseconds timeout) {
    return wait_for_count(prefix, 1, timeout);
}

bool LoopbackHttpServer::wait_for_count(const std::string& prefix, std::size_t count,
                                        std::chrono::milliseconds timeout) {
    std::unique_lock lock(impl_->mutex);
    return impl_->cv.wait_for(lock, timeout, [&] {
        return static_cast<std::size_t>(std::count_if(
                   impl_->requests.begin(), impl_->requests.end(), [&](const RecordedRequest& r) {
                       return r.target.rfind(prefix, 0) == 0;
                   })) >= count;
    });
}

bool LoopbackHttpServer::wait_abandoned(std::size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(impl_->mutex);
    return impl_->cv.wait_for(lock, timeout, [&] { return impl_->abandoned >= count; });
}

std::vector<RecordedRequest> LoopbackHttpServer::requests() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->requests;
}

std::pair<std::string, std::string> make_self_signed_certificate() {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = X509_new();
    if (key == nullptr || cert == nullptr) {
        throw std::runtime_error("openssl: cannot create key or certificate");
    }
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    for (const auto& [nid, value] : {std::pair{NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"},
                                     std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
        X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
        X509_add_ext(cert, ext, -1);
        X509_EXTENSION_free(ext);
    }
    X509_sign(cert, key, EVP_sha256());
    auto to_pem = [](auto write) {
        BIO* bio = BIO_new(BIO_s_mem());
        write(bio);
        char* data = nullptr;
        const long len = BIO_get_mem_data(bio, &data);
        std::string out(data, static_cast<std::size_t>(len));
        BIO_free(bio);
        return out;
    };
    std::string cert_pem = to_pem([&](BIO* b) { PEM_write_bio_X509(b, cert); });
    std::string key_pem = to_pem(
        [&](BIO* b) { PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr); });
    X509_free(cert);
    EVP_PKEY_free(key);
    return {cert_pem, key_pem};
}

} // namespace agentd::tools::test
