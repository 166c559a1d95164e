#include "mcp/exchange.h"

#include "agentd/protocols/errc.h"

#include "mcp/codec.h"
#include "mcp/connection_impl.h"
#include "mcp/server_impl.h"

#include <chrono>
#include <cmath>
#include <exception>

namespace agentd::protocols::mcp::detail {

using nlohmann::json;

// ---- Exchange --------------------------------------------------------------------------------

Exchange::Exchange(std::shared_ptr<ServerImpl> server, Init init)
    : server_(std::move(server)), init_(std::move(init)) {}

std::shared_ptr<ConnectionImpl> Exchange::connection() const {
    return init_.connection.lock();
}

bool Exchange::client_supports(ClientFeature feature) const {
    const json& caps = client_caps();
    switch (feature) {
    case ClientFeature::sampling:
        return caps.contains("sampling") && caps.at("sampling").is_object();
    case ClientFeature::roots:
        return caps.contains("roots") && caps.at("roots").is_object();
    case ClientFeature::elicitation_form:
    case ClientFeature::elicitation_url: {
        auto it = caps.find("elicitation");
        if (it == caps.end() || !it->is_object()) {
            return false;
        }
        const bool has_form = it->contains("form");
        const bool has_url = it->contains("url");
        if (feature == ClientFeature::elicitation_url) {
            return has_url;
        }
        // An empty elicitation capability means form mode (it predates the mode split).
        return has_form || !has_url;
    }
    }
    return false;
}

bool Exchange::active() const {
    std::lock_guard lock(mu_);
    return !finished_;
}

void Exchange::on_cancel(std::function<void()> callback) {
    {
        std::lock_guard lock(mu_);
        if (!cancelled_.load(std::memory_order_acquire)) {
            if (!finished_) {
                cancel_callbacks_.push_back(std::move(callback));
            }
            return;
        }
    }
    callback();
}

void Exchange::on_done(std::function<void()> callback) {
    {
        std::lock_guard lock(mu_);
        if (!finished_) {
            done_callbacks_.push_back(std::move(callback));
            return;
        }
    }
    callback();
}

bool Exchange::send_related(const std::string& message) {
    std::lock_guard lock(mu_);
    if (finished_) {
        return false;
    }
    init_.channel->send_related(message);
    return true;
}

void Exchange::finish_locked(std::string message, ResponseStatus status) {
    finished_ = true;
    cancel_callbacks_.clear();
    init_.channel->send_response(std::move(message), status);
}

void Exchange::run_done() {
    std::vector<std::function<void()>> callbacks;
    {
        std::lock_guard lock(mu_);
        callbacks.swap(done_callbacks_);
    }
    for (auto& callback : callbacks) {
        callback();
    }
}

void Exchange::respond(const json& result) {
    {
        std::lock_guard lock(mu_);
        if (finished_) {
            return;
        }
        finish_locked(jsonrpc::make_result(init_.id, result), ResponseStatus::ok);
    }
    run_done();
}

void Exchange::respond_error(const base::Error& error, ResponseStatus status, const json* data) {
    const int code = jsonrpc::code_of(error, /*legacy_resource_code=*/!modern());
    const std::string text = error.what();
    json uri_data;
    if (data == nullptr && error.code == make_error_code(errc::resource_not_found) &&
        params().contains("uri")) {
        uri_data = {{"uri", params().at("uri")}};
        data = &uri_data;
    }
    std::string message = data != nullptr ? jsonrpc::make_error(init_.id, code, text, *data)
                                          : jsonrpc::make_error(init_.id, code, text);
    if (status == ResponseStatus::ok && code == rpc_code::method_not_found) {
        status = ResponseStatus::method_not_found;
    }
    if (status == ResponseStatus::ok && error.code == make_error_code(errc::busy)) {
        status = ResponseStatus::busy;
    }
    {
        std::lock_guard lock(mu_);
        if (finished_) {
            return;
        }
        finish_locked(std::move(message), status);
    }
    run_done();
}

void Exchange::cancel() {
    std::vector<std::function<void()>> callbacks;
    {
        std::lock_guard lock(mu_);
        if (finished_) {
            return;
        }
        finished_ = true;
        cancelled_.store(true, std::memory_order_release);
        callbacks.swap(cancel_callbacks_);
        init_.channel->end_without_response();
    }
    for (auto& callback : callbacks) {
        callback();
    }
    run_done();
}

void Exchange::progress(double value, std::optional<double> total, std::string_view message) {
    if (!init_.progress_token) {
        return;
    }
    // Whole numbers are written as integers ("progress": 50, not 50.0).
    const auto number = [](double v) {
        return std::trunc(v) == v && std::fabs(v) < 9.0e15 ? json(static_cast<std::int64_t>(v))
                                                           : json(v);
    };
    json params = {{"progressToken", *init_.progress_token}, {"progress", number(value)}};
    if (total) {
        params["total"] = number(*total);
    }
    if (!message.empty()) {
        params["message"] = message;
    }
    const std::string text = jsonrpc::make_notification("notifications/progress", params);
    std::lock_guard lock(mu_);
    if (finished_ || (last_progress_ && value <= *last_progress_)) {
        return;
    }
    last_progress_ = value;
    init_.channel->send_related(text);
}

bool Exchange::log_enabled(LogLevel level) const {
    if (modern()) {
        return init_.log_level.has_value() && level >= *init_.log_level;
    }
    auto conn = connection();
    if (!conn) {
        return false;
    }
    const auto threshold = conn->log_level();
    return !threshold || level >= *threshold;
}

void Exchange::log(LogLevel level, std::string_view logger, const json& data) {
    if (!log_enabled(level)) {
        return;
    }
    json params = {{"level", to_string(level)}, {"data", data}};
    if (!logger.empty()) {
        params["logger"] = logger;
    }
    send_related(jsonrpc::make_notification("notifications/message", params));
}

// ---- input requests --------------------------------------------------------------------------

base::Result<json> check_input_requests(const Exchange& exchange, const json& requests) {
    if (!requests.is_object()) {
        return base::fail(errc::internal_error, "input requests must be an object");
    }
    json missing = json::object();
    for (const auto& [key, request] : requests.items()) {
        if (!request.is_object() || !request.contains("method") ||
            !request.at("method").is_string()) {
            return base::fail(errc::internal_error,
                              "input request '" + key + "' must be an object with a method");
        }
        if (request.contains("params") && !request.at("params").is_object()) {
            return base::fail(errc::internal_error,
                              "params of input request '" + key + "' must be an object");
        }
        const auto& method = request.at("method").get_ref<const std::string&>();
        if (method == "sampling/createMessage") {
            if (!exchange.client_supports(ClientFeature::sampling)) {
                missing["sampling"] = json::object();
            }
        } else if (method == "elicitation/create") {
            const json* params = request.contains("params") ? &request.at("params") : nullptr;
            const bool url = params != nullptr && params->value("mode", "") == "url";
            if (url && !exchange.client_supports(ClientFeature::elicitation_url)) {
                missing["elicitation"]["url"] = json::object();
            } else if (!url && !exchange.client_supports(ClientFeature::elicitation_form)) {
                missing["elicitation"]["form"] = json::object();
            }
        } else if (method == "roots/list") {
            if (!exchange.client_supports(ClientFeature::roots)) {
                missing["roots"] = json::object();
            }
        } else {
            return base::fail(errc::internal_error,
                              "input request '" + key + "' has an unsupported method " + method);
        }
    }
    return missing;
}

// ---- Attempt ---------------------------------------------------------------------------------

Attempt::Attempt(std::shared_ptr<Exchange> exchange, std::shared_ptr<const Flow> flow, json inputs,
                 std::string state)
    : exchange_(std::move(exchange)), flow_(std::move(flow)), inputs_(std::move(inputs)),
      state_(std::move(state)) {}

void Attempt::run() {
    try {
        flow_->invoke(shared_from_this());
    } catch (const std::exception& e) {
        fail(base::Error(errc::internal_error, std::string("provider failed: ") + e.what()));
    } catch (...) {
        fail(base::Error(errc::internal_error, "provider failed"));
    }
}

void Attempt::on_cancel(std::function<void()> callback) {
    exchange_->on_cancel(std::move(callback));
}

void Attempt::progress(double value, std::optional<double> total, std::string_view message) {
    if (!done_.load(std::memory_order_acquire)) {
        exchange_->progress(value, total, message);
    }
}

void Attempt::log(LogLevel level, std::string_view logger, const json& data) {
    if (!done_.load(std::memory_order_acquire)) {
        exchange_->log(level, logger, data);
    }
}

const json* Attempt::input_response(std::string_view key) const {
    if (!inputs_.is_object()) {
        return nullptr;
    }
    auto it = inputs_.find(key);
    return it == inputs_.end() ? nullptr : &*it;
}

void Attempt::complete(json&& result) {
    if (!claim()) {
        return;
    }
    if (!result.is_object()) {
        exchange_->respond_error(
            base::Error(errc::internal_error, "provider produced a result that is not an object"));
        return;
    }
    try {
        flow_->finish(exchange_, std::move(result));
    } catch (const std::exception& e) {
        exchange_->respond_error(base::Error(errc::internal_error, e.what()));
    }
}

void Attempt::fail(base::Error error) {
    if (!claim()) {
        return;
    }
    exchange_->respond_error(error);
}

void Attempt::input_required(json&& input_requests, std::string state) {
    if (!claim()) {
        return;
    }
    if (!flow_->allows_input) {
        exchange_->respond_error(base::Error(errc::internal_error, "method " + exchange_->method() +
                                                                       " cannot ask for input"));
        return;
    }
    auto missing = check_input_requests(*exchange_, input_requests);
    if (!missing) {
        exchange_->respond_error(missing.error());
        return;
    }
    if (!missing->empty()) {
        const json data = {{"requiredCapabilities", *missing}};
        exchange_->respond_error(
            base::Error(errc::missing_client_capability,
                        "the client did not declare a capability this request needs"),
            ResponseStatus::rejected, &data);
        return;
    }
    if (exchange_->next_round() > exchange_->server().options().max_input_rounds) {
        exchange_->respond_error(base::Error(errc::internal_error, "too many input rounds"));
        return;
    }
    if (exchange_->modern()) {
        json result = {{"resultType", "input_required"}};
        if (!input_requests.empty()) {
            result["inputRequests"] = std::move(input_requests);
        }
        result["requestState"] = exchange_->server().seal(*exchange_, flow_->target, state);
        exchange_->server().add_server_meta(result);
        exchange_->respond(result);
        return;
    }
    auto conn = exchange_->connection();
    if (!conn) {
        exchange_->respond_error(base::Error(errc::internal_error, "connection closed"));
        return;
    }
    conn->request_input(exchange_, std::move(input_requests), std::move(state), flow_);
}

} // namespace agentd::protocols::mcp::detail
