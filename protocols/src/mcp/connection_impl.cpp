#include "mcp/connection_impl.h"

#include "agentd/protocols/errc.h"

#include "mcp/server_impl.h"

#include <utility>

namespace agentd::protocols::mcp::detail {

using nlohmann::json;

namespace {

void reject(RequestChannel& channel, const jsonrpc::RequestId& id, int code, std::string_view text,
            ResponseStatus status = ResponseStatus::rejected) {
    channel.send_response(jsonrpc::make_error(id, code, text), status);
}

/// Collects the responses of a batch's requests into one array on the parent channel.
class BatchChannel final : public RequestChannel {
public:
    BatchChannel(std::shared_ptr<RequestChannel> parent, std::size_t expected)
        : parent_(std::move(parent)), remaining_(expected) {}

    void send_related(std::string message) override { parent_->send_related(std::move(message)); }
    void send_response(std::string message, ResponseStatus /*status*/) override {
        settle(std::move(message));
    }
    void end_without_response() override { settle({}); }

private:
    void settle(std::string message) {
        std::string combined;
        bool any = false;
        {
            std::lock_guard lock(mu_);
            if (remaining_ == 0) {
                return;
            }
            if (!message.empty()) {
                responses_.push_back(std::move(message));
            }
            if (--remaining_ != 0) {
                return;
            }
            any = !responses_.empty();
            combined = "[";
            for (std::size_t i = 0; i < responses_.size(); ++i) {
                combined += (i == 0 ? "" : ",") + responses_[i];
            }
            combined += "]";
        }
        if (any) {
            parent_->send_response(std::move(combined), ResponseStatus::ok);
        } else {
            parent_->end_without_response();
        }
    }

    std::shared_ptr<RequestChannel> parent_;
    std::mutex mu_;
    std::size_t remaining_;
    std::vector<std::string> responses_;
};

} // namespace

ConnectionImpl::ConnectionImpl(std::shared_ptr<ServerImpl> server, Caller caller,
                               std::shared_ptr<ConnectionSink> sink, bool stdio)
    : server_(std::move(server)), caller_(std::move(caller)), sink_(std::move(sink)),
      stdio_(stdio) {}

ConnectionImpl::~ConnectionImpl() = default;

std::optional<Version> ConnectionImpl::session_version() const {
    std::lock_guard lock(mu_);
    return version_;
}

std::size_t ConnectionImpl::in_flight() const {
    std::lock_guard lock(mu_);
    return in_flight_.size();
}

std::optional<LogLevel> ConnectionImpl::log_level() const {
    std::lock_guard lock(mu_);
    return log_level_;
}

void ConnectionImpl::set_log_level(LogLevel level) {
    std::lock_guard lock(mu_);
    log_level_ = level;
}

bool ConnectionImpl::subscribe(const std::string& uri) {
    std::lock_guard lock(mu_);
    if (subscriptions_.count(uri) == 0 &&
        subscriptions_.size() >= server_->options().max_resource_subscriptions) {
        return false;
    }
    subscriptions_.insert(uri);
    return true;
}

void ConnectionImpl::unsubscribe(const std::string& uri) {
    std::lock_guard lock(mu_);
    subscriptions_.erase(uri);
}

void ConnectionImpl::close() {
    std::vector<std::shared_ptr<Exchange>> exchanges;
    std::vector<std::shared_ptr<TimerHandle>> timers;
    {
        std::lock_guard lock(mu_);
        if (closed_) {
            return;
        }
        closed_ = true;
        for (auto& [id, exchange] : in_flight_) {
            exchanges.push_back(exchange);
        }
        in_flight_.clear();
        for (auto& [id, pending] : outbound_) {
            if (pending.timer) {
                timers.push_back(pending.timer);
            }
        }
        outbound_.clear();
    }
    for (auto& timer : timers) {
        timer->cancel();
    }
    for (auto& exchange : exchanges) {
        exchange->cancel();
    }
}

// ---- incoming messages -----------------------------------------------------------------------

void ConnectionImpl::handle(const jsonrpc::Message& message,
                            std::shared_ptr<RequestChannel> channel) {
    switch (message.kind()) {
    case jsonrpc::Message::Kind::request:
        if (channel) {
            handle_request(message, std::move(channel));
        }
        return;
    case jsonrpc::Message::Kind::notification:
        handle_notification(message);
        return;
    case jsonrpc::Message::Kind::result:
    case jsonrpc::Message::Kind::error:
        handle_response(message);
        return;
    case jsonrpc::Message::Kind::invalid:
        if (channel) {
            reject(*channel, message.id(), rpc_code::invalid_request, message.problem().what());
        }
        return;
    }
}

void ConnectionImpl::handle_batch(const std::vector<jsonrpc::Message>& messages,
                                  std::shared_ptr<RequestChannel> channel) {
    const auto version = session_version();
    if (!version || *version != Version::v2025_03_26) {
        reject(*channel, {}, rpc_code::invalid_request,
               "JSON-RPC batches are only allowed in sessions of protocol revision 2025-03-26");
        return;
    }
    std::size_t expected = 0;
    for (const auto& m : messages) {
        if (m.is_request() || m.kind() == jsonrpc::Message::Kind::invalid) {
            ++expected;
        }
    }
    if (expected == 0) {
        for (const auto& m : messages) {
            handle(m, nullptr);
        }
        channel->end_without_response();
        return;
    }
    auto batch = std::make_shared<BatchChannel>(std::move(channel), expected);
    for (const auto& m : messages) {
        if (m.is_request() && m.method() == "initialize") {
            batch->send_response(jsonrpc::make_error(m.id(), rpc_code::invalid_request,
                                                     "initialize must not be part of a batch"),
                                 ResponseStatus::ok);
            continue;
        }
        handle(m, batch);
    }
}

void ConnectionImpl::handle_request(const jsonrpc::Message& message,
                                    std::shared_ptr<RequestChannel> channel) {
    if (stdio_ && is_stateless_request(message)) {
        (void)server_->start_stateless(message, caller_, nullptr, std::move(channel),
                                       shared_from_this());
        return;
    }
    if (message.method() == "initialize") {
        handle_initialize(message, *channel);
        return;
    }
    if (message.method() == "ping") {
        channel->send_response(jsonrpc::make_result(message.id(), json::object()),
                               ResponseStatus::ok);
        return;
    }
    Exchange::Init init;
    {
        std::lock_guard lock(mu_);
        if (!version_) {
            reject(*channel, message.id(), rpc_code::invalid_request,
                   "the session is not initialized: send initialize first (or, for protocol "
                   "2026-07-28, carry io.modelcontextprotocol/protocolVersion in _meta)");
            return;
        }
        init.version = *version_;
        init.client_caps = client_caps_;
    }
    const json& params = message.params();
    if (!params.is_object()) {
        reject(*channel, message.id(), rpc_code::invalid_params, "params must be an object",
               ResponseStatus::ok);
        return;
    }
    auto token = read_progress_token(params);
    if (!token) {
        reject(*channel, message.id(), rpc_code::invalid_params, token.error().what(),
               ResponseStatus::ok);
        return;
    }
    init.id = message.id();
    init.method = message.method();
    init.params = share_json(params);
    init.caller = caller_;
    init.progress_token = std::move(*token);
    init.channel = std::move(channel);
    init.connection = weak_from_this();
    auto exchange = std::make_shared<Exchange>(server_, std::move(init));
    if (admit(exchange)) {
        server_->dispatch(exchange, nullptr);
    }
}

void ConnectionImpl::handle_initialize(const jsonrpc::Message& message, RequestChannel& channel) {
    const json& params = message.params();
    if (!params.is_object() || !params.contains("protocolVersion") ||
        !params.at("protocolVersion").is_string()) {
        reject(channel, message.id(), rpc_code::invalid_params,
               "initialize needs params.protocolVersion (a string)");
        return;
    }
    if (!params.contains("capabilities") || !params.at("capabilities").is_object()) {
        reject(channel, message.id(), rpc_code::invalid_params,
               "initialize needs params.capabilities (an object)");
        return;
    }
    if (params.contains("clientInfo") && !params.at("clientInfo").is_object()) {
        reject(channel, message.id(), rpc_code::invalid_params,
               "params.clientInfo must be an object");
        return;
    }
    // The requested revision when it is a session revision we speak, else our latest one; a
    // client that cannot speak it disconnects (lifecycle, version negotiation).
    auto negotiated = parse_version(params.at("protocolVersion").get<std::string>());
    if (!negotiated || is_modern(*negotiated)) {
        negotiated = latest_legacy_version;
    }
    {
        std::lock_guard lock(mu_);
        if (version_) {
            reject(channel, message.id(), rpc_code::invalid_request,
                   "the session is already initialized");
            return;
        }
        version_ = negotiated;
        client_caps_ = share_json(params.at("capabilities"));
    }
    json result = {{"protocolVersion", to_string(*negotiated)},
                   {"capabilities", server_->capabilities()},
                   {"serverInfo", server_->server_info()}};
    if (!server_->options().instructions.empty()) {
        result["instructions"] = server_->options().instructions;
    }
    channel.send_response(jsonrpc::make_result(message.id(), result), ResponseStatus::ok);
}

void ConnectionImpl::handle_notification(const jsonrpc::Message& message) {
    const std::string& method = message.method();
    if (method == "notifications/initialized") {
        std::lock_guard lock(mu_);
        initialized_ = true;
        return;
    }
    if (method != "notifications/cancelled") {
        return; // roots/list_changed, progress and unknown notifications need no action
    }
    const json& params = message.params();
    jsonrpc::RequestId id;
    if (!params.is_object() || !params.contains("requestId") ||
        !jsonrpc::RequestId::read(params.at("requestId"), id)) {
        return; // invalid cancellations are ignored (cancellation spec)
    }
    std::shared_ptr<Exchange> exchange;
    {
        std::lock_guard lock(mu_);
        if (auto it = in_flight_.find(id); it != in_flight_.end()) {
            exchange = it->second;
        }
    }
    if (exchange) {
        exchange->cancel();
    }
}

bool ConnectionImpl::admit(const std::shared_ptr<Exchange>& exchange) {
    std::string problem;
    ResponseStatus status = ResponseStatus::rejected;
    int code = rpc_code::invalid_request;
    {
        std::lock_guard lock(mu_);
        if (closed_) {
            problem = "the connection is closed";
            code = rpc_code::internal_error;
        } else if (in_flight_.count(exchange->id()) != 0) {
            problem = "a request with this id is already in flight";
        } else if (in_flight_.size() >= server_->options().max_in_flight) {
            problem = "too many requests in flight on this connection";
            code = rpc_code::internal_error;
            status = ResponseStatus::busy;
        } else {
            in_flight_.emplace(exchange->id(), exchange);
        }
    }
    if (!problem.empty()) {
        exchange->respond_error(
            base::Error(code == rpc_code::invalid_request
                            ? errc::invalid_request
                            : (status == ResponseStatus::busy ? errc::busy : errc::internal_error),
                        problem),
            status);
        return false;
    }
    std::weak_ptr<ConnectionImpl> weak = weak_from_this();
    const Exchange* raw = exchange.get();
    exchange->on_done([weak, id = exchange->id(), raw] {
        if (auto self = weak.lock()) {
            self->forget(id, raw);
        }
    });
    return true;
}

void ConnectionImpl::forget(const jsonrpc::RequestId& id, const Exchange* exchange) {
    std::lock_guard lock(mu_);
    if (auto it = in_flight_.find(id); it != in_flight_.end() && it->second.get() == exchange) {
        in_flight_.erase(it);
    }
}

// ---- fan-out ---------------------------------------------------------------------------------

void ConnectionImpl::notify_list_changed(ChangeEvent::Kind kind) {
    {
        std::lock_guard lock(mu_);
        if (!version_ || closed_) {
            return;
        }
    }
    const char* method = kind == ChangeEvent::Kind::tools_list_changed
                             ? "notifications/tools/list_changed"
                             : (kind == ChangeEvent::Kind::prompts_list_changed
                                    ? "notifications/prompts/list_changed"
                                    : "notifications/resources/list_changed");
    sink_->send(jsonrpc::make_notification(method, json()));
}

void ConnectionImpl::notify_resource_updated(const std::string& uri) {
    {
        std::lock_guard lock(mu_);
        if (closed_ || subscriptions_.count(uri) == 0) {
            return;
        }
    }
    sink_->send(jsonrpc::make_notification("notifications/resources/updated", {{"uri", uri}}));
}

} // namespace agentd::protocols::mcp::detail
