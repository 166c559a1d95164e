#include "a2a/a2a_endpoint.h"

#include "agentd/protocols/a2a/codec.h"
#include "agentd/protocols/a2a/rpc.h"
#include "agentd/protocols/errc.h"

#include "log/logging.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <ctime>
#include <mutex>

namespace agentd::gateway::a2a {

namespace {

using nlohmann::json;
using protocols::jsonrpc::RequestId;

/// An SSE response carrying one JSON-RPC response per event.
class SseSink final : public EventSink, public std::enable_shared_from_this<SseSink> {
public:
    SseSink(http::ResponseWriterPtr writer, RequestId id, proto::Version version)
        : writer_(std::move(writer)), id_(std::move(id)), version_(version) {}

    bool send(const proto::StreamEvent& event, bool final) override {
        json msg = {{"jsonrpc", "2.0"}};
        id_.write(msg["id"]);
        msg["result"] = proto::to_json(event, version_);
        return push(protocols::jsonrpc::serialize(msg), final);
    }

    /// An error as the stream's only event (v0.3 tasks/resubscribe).
    void send_error(const proto::RpcError& error) {
        json msg = {{"jsonrpc", "2.0"}};
        id_.write(msg["id"]);
        msg["error"] = proto::error_object(error, version_);
        push(protocols::jsonrpc::serialize(msg), true);
    }

    void close() override {
        std::lock_guard lock(mu_);
        closed_ = true;
        if (stream_) {
            stream_->close();
        } else {
            writer_->start_sse(200, {})->close();
        }
    }

    [[nodiscard]] bool closed() const override { return closed_.load(); }

private:
    bool push(std::string data, bool final) {
        std::lock_guard lock(mu_);
        if (closed_) {
            return false;
        }
        if (!stream_) {
            stream_ = writer_->start_sse(200, {});
            std::weak_ptr<SseSink> weak = weak_from_this();
            stream_->on_close([weak] {
                if (auto self = weak.lock()) {
                    self->closed_ = true;
                }
            });
        }
        http::SseEvent event;
        event.data = std::move(data);
        const bool ok = stream_->send(std::move(event));
        if (final || !ok) {
            // A client too slow to keep up loses the stream; it can re-subscribe.
            stream_->close();
            closed_ = true;
        }
        return ok;
    }

    http::ResponseWriterPtr writer_;
    RequestId id_;
    proto::Version version_;
    std::mutex mu_;
    std::shared_ptr<http::SseStream> stream_; // guarded by mu_
    std::atomic<bool> closed_{false};
};

void respond_result(const http::ResponseWriterPtr& writer, const RequestId& id,
                    const json& result) {
    writer->respond(http::Response::json(200, protocols::jsonrpc::make_result(id, result)));
}

void respond_error(const http::ResponseWriterPtr& writer, const RequestId& id,
                   const base::Error& error, proto::Version version,
                   const std::string& task_id = {}) {
    auto rpc = proto::to_rpc_error(error);
    if (!task_id.empty() && (rpc.code == -32001 || rpc.code == -32002 || rpc.code == -32004)) {
        rpc.metadata["taskId"] = task_id;
    }
    if (rpc.code == protocols::rpc_code::internal_error) {
        log::log_event(log::Level::error, "a2a: request failed", {{"error", error.what()}});
    }
    writer->respond(http::Response::json(200, proto::error_response(id, rpc, version)));
}

/// Calls `on_value` with the value of a successful result, else answers the error.
template <class T, class F>
Callback<T> answer(const http::ResponseWriterPtr& writer, const RequestId& id,
                   proto::Version version, std::string task_id, F on_value) {
    return [writer, id, version, task_id = std::move(task_id),
            on_value = std::move(on_value)](base::Result<T> r) mutable {
        if (!r) {
            respond_error(writer, id, r.error(), version, task_id);
            return;
        }
        if constexpr (std::is_void_v<T>) {
            on_value();
        } else {
            on_value(std::move(*r));
        }
    };
}

std::string http_date(std::int64_t unix_s) {
    const std::time_t t = static_cast<std::time_t>(unix_s);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return buf;
}

bool json_content_type(std::string_view ct) {
    const auto semi = ct.find(';');
    std::string base(ct.substr(0, semi));
    while (!base.empty() && base.back() == ' ') {
        base.pop_back();
    }
    for (auto& c : base) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return base == "application/json" || base == "application/a2a+json";
}

std::optional<std::string> version_param(const http::Request& request) {
    if (auto h = request.header("A2A-Version")) {
        return std::string(*h);
    }
    return request.query_param("A2A-Version");
}

} // namespace

A2aEndpoint::A2aEndpoint(std::shared_ptr<TaskManager> tasks, CardSource cards,
                         const http::OriginPolicy& origin, EndpointOptions options)
    : tasks_(std::move(tasks)), cards_(std::move(cards)), origin_(origin),
      options_(std::move(options)) {}

std::string A2aEndpoint::base_url_of(const http::Request& request) const {
    const auto host = request.header("Host");
    if (host && !host->empty() && host->size() <= 255 && !origin_.violation(request)) {
        const bool clean = std::all_of(host->begin(), host->end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' ||
                   c == ':' || c == '[' || c == ']';
        });
        if (clean) {
            return "http://" + std::string(*host);
        }
    }
    return "http://" + options_.fallback_authority;
}

void A2aEndpoint::handle_rpc(http::Request&& request, const http::ResponseWriterPtr& writer,
                             const std::string& agent_param) {
    if (auto refused = http::check_host_and_origin(request, origin_)) {
        writer->respond(std::move(*refused));
        return;
    }
    const auto header = version_param(request);
    // Errors found before the method is known use the header's version (v1.0 if unreadable).
    const proto::Version early =
        proto::parse_version(header.value_or("")).value_or(proto::Version::v1_0);
    if (auto ct = request.header("Content-Type"); ct && !json_content_type(*ct)) {
        writer->respond(http::Response::error(415, "unsupported_media_type",
                                              "A2A JSON-RPC requests are application/json"));
        return;
    }
    const std::string agent = agent_param.empty() ? options_.default_agent : agent_param;
    if (!tasks_->has_agent(agent)) {
        writer->respond(http::Response::error(404, "not_found", "no agent \"" + agent + "\""));
        return;
    }
    auto frame = protocols::jsonrpc::parse(request.body, options_.parse_limits);
    if (!frame.ok) {
        respond_error(writer, RequestId(), frame.error, early);
        return;
    }
    if (frame.batch) {
        respond_error(writer, RequestId(),
                      base::Error(protocols::errc::invalid_request,
                                  "batch requests are not supported by A2A"),
                      early);
        return;
    }
    const auto& message = frame.messages.front();
    if (!message.is_request() && !message.is_notification()) {
        const base::Error problem =
            message.kind() == protocols::jsonrpc::Message::Kind::invalid
                ? message.problem()
                : base::Error(protocols::errc::invalid_request, "expected a JSON-RPC request");
        respond_error(writer, message.id(), problem, early);
        return;
    }
    auto name = proto::resolve_method(
        message.method(), header ? std::optional<std::string_view>(*header) : std::nullopt);
    if (!name) {
        const auto found = proto::lookup_method(message.method());
        respond_error(writer, message.id(), name.error(),
                      found && !header ? found->version : early);
        return;
    }
    auto parsed = proto::parse_params(*name, message.params());
    if (!parsed) {
        respond_error(writer, message.id(), parsed.error(), name->version);
        return;
    }
    Caller caller;
    caller.tenant = request.principal.tenant;
    caller.version = name->version;
    if (auto tp = request.header("traceparent"); tp && tp->size() <= 128) {
        caller.traceparent = std::string(*tp);
    }
    dispatch(*parsed, message.id(), caller, agent, writer, base_url_of(request));
}

void A2aEndpoint::dispatch(const proto::Request& req, const RequestId& id, const Caller& caller,
                           const std::string& agent, const http::ResponseWriterPtr& writer,
                           const std::string& base_url) {
    const proto::Version v = req.version;
    switch (req.method) {
    case proto::Method::send_message:
        tasks_->send(
            caller, agent, req.send,
            answer<SendOutcome>(
                writer, id, v, req.send.message.task_id, [writer, id, v](SendOutcome out) {
                    respond_result(
                        writer, id,
                        std::visit([v](const auto& x) { return proto::send_result(x, v); }, out));
                }));
        return;
    case proto::Method::send_streaming_message:
    case proto::Method::subscribe_to_task: {
        auto sink = std::make_shared<SseSink>(writer, id, v);
        const bool legacy_resubscribe =
            req.method == proto::Method::subscribe_to_task && v == proto::Version::v0_3;
        const std::string task_id =
            req.method == proto::Method::subscribe_to_task ? req.task.id : req.send.message.task_id;
        auto started = [writer, id, v, sink, legacy_resubscribe, task_id](base::Result<void> r) {
            if (r) {
                return;
            }
            if (legacy_resubscribe) {
                auto rpc = proto::to_rpc_error(r.error());
                sink->send_error(rpc);
                return;
            }
            respond_error(writer, id, r.error(), v, task_id);
        };
        if (req.method == proto::Method::subscribe_to_task) {
            tasks_->subscribe(caller, agent, req.task, sink, std::move(started));
        } else {
            tasks_->send_streaming(caller, agent, req.send, sink, std::move(started));
        }
        return;
    }
    case proto::Method::get_task:
        tasks_->get(caller, agent, req.get,
                    answer<proto::Task>(writer, id, v, req.get.id, [writer, id, v](proto::Task t) {
                        respond_result(writer, id, proto::to_json(t, v));
                    }));
        return;
    case proto::Method::list_tasks:
        tasks_->list(caller, agent, req.list,
                     answer<proto::ListTasksResult>(
                         writer, id, v, {}, [writer, id](proto::ListTasksResult r) {
                             respond_result(writer, id, proto::to_json(r));
                         }));
        return;
    case proto::Method::cancel_task:
        tasks_->cancel(
            caller, agent, req.task,
            answer<proto::Task>(writer, id, v, req.task.id, [writer, id, v](proto::Task t) {
                respond_result(writer, id, proto::to_json(t, v));
            }));
        return;
    case proto::Method::create_push_config:
    case proto::Method::get_push_config: {
        auto done = answer<proto::PushConfig>(writer, id, v,
                                              req.method == proto::Method::create_push_config
                                                  ? req.push.task_id
                                                  : req.push_ref.task_id,
                                              [writer, id, v](proto::PushConfig c) {
                                                  respond_result(writer, id, proto::to_json(c, v));
                                              });
        if (req.method == proto::Method::create_push_config) {
            tasks_->create_push_config(caller, agent, req.push, std::move(done));
        } else {
            tasks_->get_push_config(caller, agent, req.push_ref, std::move(done));
        }
        return;
    }
    case proto::Method::list_push_configs:
        tasks_->list_push_configs(
            caller, agent, req.push_list,
            answer<std::vector<proto::PushConfig>>(
                writer, id, v, req.push_list.task_id,
                [writer, id, v](std::vector<proto::PushConfig> configs) {
                    json items = json::array();
                    for (const auto& c : configs) {
                        items.push_back(proto::to_json(c, v));
                    }
                    if (v == proto::Version::v1_0) {
                        respond_result(writer, id,
                                       {{"configs", std::move(items)}, {"nextPageToken", ""}});
                    } else {
                        respond_result(writer, id, items);
                    }
                }));
        return;
    case proto::Method::delete_push_config:
        tasks_->delete_push_config(caller, agent, req.push_ref,
                                   answer<void>(writer, id, v, req.push_ref.task_id, [writer, id] {
                                       respond_result(writer, id, nullptr);
                                   }));
        return;
    case proto::Method::get_extended_card: {
        auto card = cards_(agent, base_url);
        if (!card || !card->extended_card) {
            respond_error(writer, id,
                          base::Error(protocols::errc::unsupported_operation,
                                      "this agent has no extended agent card"),
                          v);
            return;
        }
        respond_result(writer, id,
                       proto::card_to_json(*card, v == proto::Version::v1_0
                                                      ? proto::CardShape::v1_0
                                                      : proto::CardShape::v0_3));
        return;
    }
    }
}

void A2aEndpoint::handle_card(const http::Request& request, const http::ResponseWriterPtr& writer,
                              const std::string& agent_param) {
    const std::string agent = agent_param.empty() ? options_.default_agent : agent_param;
    auto card = cards_(agent, base_url_of(request));
    if (!card) {
        writer->respond(http::Response::error(404, "not_found", "no agent \"" + agent + "\""));
        return;
    }
    proto::CardShape shape = proto::CardShape::dual;
    if (const auto header = version_param(request); header && !header->empty()) {
        const auto v = proto::parse_version(*header);
        if (!v) {
            writer->respond(http::Response::error(400, "version_not_supported",
                                                  "A2A-Version \"" + header->substr(0, 32) +
                                                      "\" is not supported (1.0, 0.3)"));
            return;
        }
        shape = *v == proto::Version::v1_0 ? proto::CardShape::v1_0 : proto::CardShape::v0_3;
    }
    auto response =
        http::Response::json(200, protocols::jsonrpc::serialize(proto::card_to_json(*card, shape)));
    response.headers.add("Last-Modified", http_date(options_.started_unix_s));
    response.headers.add("Cache-Control", "public, max-age=60");
    response.headers.add("Vary", "A2A-Version");
    writer->respond(std::move(response));
}

} // namespace agentd::gateway::a2a
