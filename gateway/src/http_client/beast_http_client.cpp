#include "http_client/beast_http_client.h"

#include "http_client/http_exchange.h"

#include <utility>

namespace agentd::gateway::http_client {
namespace {

class BeastHttpClient final : public tools::HttpClient {
public:
    BeastHttpClient(boost::asio::io_context& io, HttpClientOptions options)
        : shared_(std::make_shared<ClientShared>(io, std::move(options))) {}

    void send(tools::HttpClientRequest request, tools::HttpClientCallback done) override {
        std::make_shared<Exchange>(shared_, std::move(request), std::move(done))->start();
    }

private:
    std::shared_ptr<ClientShared> shared_;
};

} // namespace

std::shared_ptr<tools::HttpClient> make_beast_http_client(boost::asio::io_context& io,
                                                          HttpClientOptions options) {
    return std::make_shared<BeastHttpClient>(io, std::move(options));
}

} // namespace agentd::gateway::http_client
