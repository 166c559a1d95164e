#pragma once
/// The ResponseWriter and SseStream handed to handlers (handler.h): thin thread-safe fronts
/// that post onto the connection's strand.
///
/// Ownership: each holds the session and the exchange (shared). Dropping a writer that never
/// answered makes the server answer 500; dropping an open stream ends it cleanly.
/// Thread affinity: every method may be called from any thread.

#include "http/exchange.h"
#include "http/handler.h"

#include <memory>

namespace agentd::gateway::http {

class HttpSession;

class ResponseWriterImpl final : public ResponseWriter {
public:
    ResponseWriterImpl(std::shared_ptr<HttpSession> session, std::shared_ptr<Exchange> exchange);
    ~ResponseWriterImpl() override;

    void respond(Response response) override;
    std::shared_ptr<SseStream> start_sse(unsigned status, Headers headers) override;
    [[nodiscard]] bool client_gone() const override;
    void on_client_gone(std::function<void()> callback) override;

private:
    std::shared_ptr<HttpSession> session_;
    std::shared_ptr<Exchange> exchange_;
};

class SseStreamImpl final : public SseStream {
public:
    /// `session` null: a stream that is closed from the start (start_sse after an answer).
    SseStreamImpl(std::shared_ptr<HttpSession> session, std::shared_ptr<Exchange> exchange);
    ~SseStreamImpl() override;

    bool send(SseEvent event) override;
    void close() override;
    [[nodiscard]] bool closed() const override;
    void on_close(std::function<void()> callback) override;

private:
    void wake();

    std::shared_ptr<HttpSession> session_;
    std::shared_ptr<Exchange> exchange_;
};

} // namespace agentd::gateway::http
