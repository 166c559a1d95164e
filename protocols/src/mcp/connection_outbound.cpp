// Server-to-client requests of the session revisions: sent on the originating request's stream,
// correlated by id when the client's answer arrives (as its own message), bounded by a timeout.
// They carry a provider's input_required round; when every answer is in, the provider runs again.

#include "agentd/protocols/errc.h"

#include "mcp/connection_impl.h"
#include "mcp/server_impl.h"

#include <utility>

namespace agentd::protocols::mcp::detail {

using nlohmann::json;

void ConnectionImpl::request_input(const std::shared_ptr<Exchange>& exchange, json requests,
                                   std::string state, std::shared_ptr<const Flow> flow) {
    auto gather = std::make_shared<Gather>();
    gather->exchange = exchange;
    gather->flow = std::move(flow);
    gather->state = std::move(state);
    gather->remaining = requests.size();
    if (requests.empty()) {
        rerun(gather); // a state-only round: the client would retry at once
        return;
    }
    std::vector<std::pair<jsonrpc::RequestId, std::string>> messages;
    {
        std::lock_guard lock(mu_);
        if (closed_) {
            gather->done = true;
        } else {
            for (auto& [key, request] : requests.items()) {
                jsonrpc::RequestId id(next_outbound_++);
                const std::string method = request.at("method").get<std::string>();
                const json params = request.value("params", json::object());
                messages.emplace_back(id, jsonrpc::make_request(id, method, params));
                gather->ids.push_back(id);
                outbound_.emplace(id, Pending{gather, key, method, nullptr});
            }
        }
    }
    if (gather->done) {
        exchange->respond_error(base::Error(errc::internal_error, "connection closed"));
        return;
    }
    std::weak_ptr<ConnectionImpl> weak = weak_from_this();
    exchange->on_cancel([weak, gather] {
        if (auto self = weak.lock()) {
            self->drop_gather(gather);
        }
    });
    const auto timeout = server_->options().client_request_timeout;
    for (auto& [id, text] : messages) {
        exchange->send_related(text);
        auto timer = server_->timers().schedule(timeout, [weak, id = id] {
            if (auto self = weak.lock()) {
                self->on_timeout(id);
            }
        });
        std::lock_guard lock(mu_);
        if (auto it = outbound_.find(id); it != outbound_.end()) {
            it->second.timer = std::move(timer);
        } else {
            timer->cancel(); // answered already
        }
    }
}

void ConnectionImpl::handle_response(const jsonrpc::Message& message) {
    Pending pending;
    bool ready = false;
    {
        std::lock_guard lock(mu_);
        auto it = outbound_.find(message.id());
        if (it == outbound_.end()) {
            return; // unknown or already timed out: nothing waits for it
        }
        pending = std::move(it->second);
        outbound_.erase(it);
        if (pending.gather->done) {
            return;
        }
        if (message.kind() == jsonrpc::Message::Kind::result) {
            pending.gather->inputs[pending.key] = message.payload();
            ready = --pending.gather->remaining == 0;
            if (ready) {
                pending.gather->done = true;
            }
        }
    }
    if (pending.timer) {
        pending.timer->cancel();
    }
    if (message.kind() == jsonrpc::Message::Kind::error) {
        const json& error = message.payload();
        drop_gather(pending.gather);
        if (auto exchange = pending.gather->exchange.lock()) {
            exchange->respond_error(base::Error(
                errc::internal_error, "the client answered " + pending.method + " with error " +
                                          std::to_string(error.value("code", 0)) + ": " +
                                          error.value("message", std::string())));
        }
        return;
    }
    if (ready) {
        rerun(pending.gather);
    }
}

void ConnectionImpl::on_timeout(const jsonrpc::RequestId& id) {
    Pending pending;
    {
        std::lock_guard lock(mu_);
        auto it = outbound_.find(id);
        if (it == outbound_.end()) {
            return;
        }
        pending = std::move(it->second);
        outbound_.erase(it);
    }
    drop_gather(pending.gather);
    auto exchange = pending.gather->exchange.lock();
    if (!exchange) {
        return;
    }
    // The spec asks the sender of a timed-out request to cancel it.
    json params = {{"reason", "timed out"}};
    id.write(params["requestId"]);
    exchange->send_related(jsonrpc::make_notification("notifications/cancelled", params));
    exchange->respond_error(
        base::Error(errc::internal_error,
                    "the client did not answer " + pending.method + " within " +
                        std::to_string(server_->options().client_request_timeout.count()) + " ms"));
}

void ConnectionImpl::drop_gather(const std::shared_ptr<Gather>& gather) {
    std::vector<std::shared_ptr<TimerHandle>> timers;
    {
        std::lock_guard lock(mu_);
        gather->done = true;
        for (const auto& id : gather->ids) {
            if (auto it = outbound_.find(id); it != outbound_.end()) {
                if (it->second.timer) {
                    timers.push_back(std::move(it->second.timer));
                }
                outbound_.erase(it);
            }
        }
    }
    for (auto& timer : timers) {
        timer->cancel();
    }
}

void ConnectionImpl::rerun(const std::shared_ptr<Gather>& gather) {
    auto exchange = gather->exchange.lock();
    if (!exchange || !exchange->active()) {
        return;
    }
    auto attempt = std::make_shared<Attempt>(exchange, gather->flow, std::move(gather->inputs),
                                             std::move(gather->state));
    attempt->run();
}

} // namespace agentd::protocols::mcp::detail
