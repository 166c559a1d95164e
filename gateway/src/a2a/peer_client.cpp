#include "a2a/peer_client.h"

#include "agentd/protocols/a2a/client.h"
#include "agentd/protocols/a2a/codec.h"
#include "agentd/protocols/errc.h"
#include "agentd/tools/errc.h"

#include "a2a/task_manager_impl.h"

#include <nlohmann/json.hpp>

#include <atomic>

namespace agentd::gateway::a2a {

namespace {

using nlohmann::json;

base::Error upstream(std::string message) {
    return base::Error(tools::errc::upstream_error, std::move(message));
}

/// One call in progress: send, then poll until the task settles.
struct CallState : std::enable_shared_from_this<CallState> {
    std::shared_ptr<PeerClient> client;
    PeerCall call;
    std::function<void(base::Result<PeerOutcome>)> done;
    PeerClient::Endpoint endpoint;
    std::string task_id;
    std::string context_id;
    std::string last_progress;
    int progress_steps = 0;
    std::atomic<bool> finished{false};
    std::atomic<bool> aborting{false};
    /// A continuation's first answer may still show the interruption it continues: such a
    /// status (same timestamp and message) is not taken as the task's new state.
    std::optional<std::pair<std::int64_t, std::string>> stale_status;
    std::mutex mu;
    std::shared_ptr<protocols::mcp::TimerHandle> poll_timer;
    std::shared_ptr<protocols::mcp::TimerHandle> deadline_timer;

    void finish(base::Result<PeerOutcome> result) {
        if (finished.exchange(true)) {
            return;
        }
        {
            std::lock_guard lock(mu);
            if (poll_timer) {
                poll_timer->cancel();
            }
            if (deadline_timer) {
                deadline_timer->cancel();
            }
        }
        done(std::move(result));
    }

    /// Stops the call: cancels the peer's task (best effort, bounded), then reports `why`.
    void abort(base::Error why) {
        if (finished.load() || aborting.exchange(true)) {
            return;
        }
        std::string id;
        {
            std::lock_guard lock(mu);
            id = task_id;
        }
        if (id.empty()) {
            finish(std::move(why));
            return;
        }
        proto::Request cancel;
        cancel.method = proto::Method::cancel_task;
        cancel.version = endpoint.version;
        cancel.task.id = id;
        auto self = shared_from_this();
        client->rpc(endpoint, cancel, std::chrono::steady_clock::now() + std::chrono::seconds(5),
                    nullptr,
                    [self, why = std::move(why)](base::Result<protocols::JsonPtr>) mutable {
                        self->finish(std::move(why));
                    });
    }

    /// An exchange failed: past the deadline or after a cancel that is the call's end (the
    /// peer's task is cancelled); otherwise the error itself.
    void rpc_failed(base::Error error) {
        if (call.cancel && call.cancel->cancelled()) {
            abort(base::Error(tools::errc::cancelled, "the call was cancelled"));
        } else if (std::chrono::steady_clock::now() >= call.deadline) {
            abort(base::Error(tools::errc::timeout, "the peer agent did not finish in time"));
        } else {
            finish(std::move(error));
        }
    }

    void start() {
        auto self = shared_from_this();
        const auto now = std::chrono::steady_clock::now();
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(call.deadline - now);
        {
            std::lock_guard lock(mu);
            deadline_timer =
                client->timers()->schedule(std::max(left, std::chrono::milliseconds(0)), [self] {
                    self->abort(
                        base::Error(tools::errc::timeout, "the peer agent did not finish in time"));
                });
        }
        if (call.cancel) {
            std::weak_ptr<CallState> weak = self;
            call.cancel->on_cancel([weak] {
                if (auto s = weak.lock()) {
                    s->abort(base::Error(tools::errc::cancelled, "the call was cancelled"));
                }
            });
        }
        client->endpoint(call.deadline, call.cancel, [self](base::Result<PeerClient::Endpoint> ep) {
            if (!ep) {
                self->finish(ep.error());
                return;
            }
            self->endpoint = *ep;
            self->send();
        });
    }

    void send() {
        proto::Request r;
        r.method = proto::Method::send_message;
        r.version = endpoint.version;
        r.send.message.message_id = new_id();
        r.send.message.role = proto::Role::user;
        r.send.message.task_id = call.task_id;
        r.send.message.context_id = call.context_id;
        r.send.message.parts.push_back(proto::Part::make_text(call.text));
        r.send.configuration.return_immediately = true;
        r.send.configuration.history_length = 0;
        auto self = shared_from_this();
        client->rpc(endpoint, r, call.deadline, call.cancel,
                    [self](base::Result<protocols::JsonPtr> result) {
                        if (!result) {
                            self->rpc_failed(result.error());
                            return;
                        }
                        auto sent = proto::parse_send_result(**result, self->endpoint.version);
                        if (!sent) {
                            self->finish(upstream(sent.error().what()));
                            return;
                        }
                        if (auto* m = std::get_if<proto::Message>(&*sent)) {
                            PeerOutcome out;
                            out.context_id = m->context_id;
                            out.text = render_for_model(m->parts);
                            out.version = self->endpoint.version;
                            self->finish(std::move(out));
                            return;
                        }
                        self->on_task(std::get<proto::Task>(*sent), true);
                    });
    }

    void on_task(const proto::Task& task, bool first_answer = false) {
        {
            std::lock_guard lock(mu);
            task_id = task.id;
            context_id = task.context_id;
        }
        const std::string status_id =
            task.status.message ? task.status.message->message_id : std::string();
        if (first_answer && !call.task_id.empty() && proto::is_interrupted(task.status.state)) {
            stale_status = std::make_pair(task.status.timestamp_ms, status_id);
        }
        if (task.status.message) {
            const auto text = render_for_model(task.status.message->parts);
            if (!text.empty() && text != last_progress && call.progress) {
                last_progress = text;
                call.progress(++progress_steps, std::nullopt, text);
            }
        }
        const auto state = task.status.state;
        const bool stale = stale_status && proto::is_interrupted(state) &&
                           stale_status->first == task.status.timestamp_ms &&
                           stale_status->second == status_id;
        if (proto::is_terminal(state) || (proto::is_interrupted(state) && !stale)) {
            PeerOutcome out;
            out.state = state;
            out.task_id = task.id;
            out.context_id = task.context_id;
            out.text = render_for_model(task);
            out.version = endpoint.version;
            finish(std::move(out));
            return;
        }
        auto self = shared_from_this();
        std::lock_guard lock(mu);
        if (finished.load()) {
            return;
        }
        poll_timer =
            client->timers()->schedule(client->options().poll_interval, [self] { self->poll(); });
    }

    void poll() {
        if (finished.load()) {
            return;
        }
        proto::Request r;
        r.method = proto::Method::get_task;
        r.version = endpoint.version;
        r.get.id = task_id;
        r.get.history_length = 0;
        auto self = shared_from_this();
        client->rpc(endpoint, r, call.deadline, call.cancel,
                    [self](base::Result<protocols::JsonPtr> result) {
                        if (!result) {
                            self->rpc_failed(result.error());
                            return;
                        }
                        auto task = proto::parse_task(**result, self->endpoint.version, "result");
                        if (!task) {
                            self->finish(upstream(task.error().what()));
                            return;
                        }
                        self->on_task(*task);
                    });
    }
};

} // namespace

std::string render_for_model(const std::vector<proto::Part>& parts) {
    std::string out;
    for (const auto& p : parts) {
        if (!out.empty()) {
            out += '\n';
        }
        switch (p.kind) {
        case proto::Part::Kind::text:
            out += p.text;
            break;
        case proto::Part::Kind::data:
            out += p.data ? protocols::jsonrpc::serialize(*p.data) : "null";
            break;
        case proto::Part::Kind::raw:
            out += "[file " + (p.filename.empty() ? std::string("(unnamed)") : p.filename) +
                   (p.media_type.empty() ? "" : ", " + p.media_type) + ", " +
                   std::to_string(p.raw.size()) + " bytes]";
            break;
        case proto::Part::Kind::url:
            out += "[file at " + p.url + (p.media_type.empty() ? "" : ", " + p.media_type) + "]";
            break;
        }
    }
    return out;
}

std::string render_for_model(const proto::Task& task) {
    std::string out;
    for (const auto& a : task.artifacts) {
        const auto text = render_for_model(a.parts);
        if (!text.empty()) {
            out += out.empty() ? "" : "\n";
            out += text;
        }
    }
    if (task.status.message) {
        const auto text = render_for_model(task.status.message->parts);
        if (!text.empty() && out.find(text) == std::string::npos) {
            out += out.empty() ? "" : "\n";
            out += text;
        }
    }
    return out;
}

PeerClient::PeerClient(std::shared_ptr<tools::HttpClient> http,
                       std::shared_ptr<protocols::mcp::Timers> timers, PeerOptions options)
    : http_(std::move(http)), timers_(std::move(timers)), options_(std::move(options)) {}

std::optional<proto::AgentCard> PeerClient::card() const {
    std::lock_guard lock(mu_);
    return card_;
}

void PeerClient::call(PeerCall call, std::function<void(base::Result<PeerOutcome>)> done) {
    auto state = std::make_shared<CallState>();
    state->client = shared_from_this();
    state->call = std::move(call);
    state->done = std::move(done);
    state->start();
}

void PeerClient::endpoint(std::chrono::steady_clock::time_point deadline,
                          std::shared_ptr<tools::CancellationSignal> cancel,
                          std::function<void(base::Result<Endpoint>)> done) {
    {
        std::lock_guard lock(mu_);
        if (endpoint_) {
            done(*endpoint_);
            return;
        }
    }
    auto url = validate_webhook_url(options_.card_url, options_.policy);
    if (!url) {
        done(upstream("peer card url: " + url.error().what()));
        return;
    }
    tools::HttpClientRequest req;
    req.method = "GET";
    req.tls = url->tls;
    req.host = url->host;
    req.port = url->port;
    req.target = url->target;
    req.headers = {{"Accept", "application/json"}, {"A2A-Version", "1.0"}};
    if (!options_.bearer_token.empty()) {
        req.headers.emplace_back("Authorization", "Bearer " + options_.bearer_token);
    }
    req.deadline = std::min(deadline, std::chrono::steady_clock::now() + options_.request_timeout);
    req.max_response_bytes = 1U << 20U;
    req.policy = options_.policy;
    req.cancel = std::move(cancel);
    auto self = shared_from_this();
    http_->send(std::move(req),
                [self, done = std::move(done)](base::Result<tools::HttpClientResponse> r) {
                    if (!r) {
                        done(r.error());
                        return;
                    }
                    if (r->status != 200) {
                        done(upstream("peer card: HTTP " + std::to_string(r->status)));
                        return;
                    }
                    const json body = json::parse(r->body, nullptr, false);
                    auto card = proto::parse_agent_card(body);
                    if (!card) {
                        done(upstream("peer card: " + card.error().what()));
                        return;
                    }
                    const auto* iface = card->find_interface(proto::Version::v1_0);
                    if (iface == nullptr) {
                        iface = card->find_interface(proto::Version::v0_3);
                    }
                    if (iface == nullptr) {
                        done(upstream("peer card offers no JSON-RPC interface of A2A 1.0 or 0.3"));
                        return;
                    }
                    auto rpc_url = validate_webhook_url(iface->url, self->options_.policy);
                    if (!rpc_url) {
                        done(upstream("peer interface url: " + rpc_url.error().what()));
                        return;
                    }
                    Endpoint ep{std::move(*rpc_url), iface->version};
                    {
                        std::lock_guard lock(self->mu_);
                        self->card_ = std::move(*card);
                        self->endpoint_ = ep;
                    }
                    done(std::move(ep));
                });
}

void PeerClient::rpc(const Endpoint& endpoint, const proto::Request& request,
                     std::chrono::steady_clock::time_point deadline,
                     std::shared_ptr<tools::CancellationSignal> cancel,
                     std::function<void(base::Result<protocols::JsonPtr>)> done) {
    protocols::jsonrpc::RequestId id;
    {
        std::lock_guard lock(mu_);
        id = protocols::jsonrpc::RequestId(static_cast<std::int64_t>(next_id_++));
    }
    tools::HttpClientRequest req;
    req.method = "POST";
    req.tls = endpoint.url.tls;
    req.host = endpoint.url.host;
    req.port = endpoint.url.port;
    req.target = endpoint.url.target;
    req.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    if (endpoint.version == proto::Version::v1_0) {
        req.headers.emplace_back("A2A-Version", "1.0");
    }
    if (!options_.bearer_token.empty()) {
        req.headers.emplace_back("Authorization", "Bearer " + options_.bearer_token);
    }
    req.body = proto::build_request(id, request);
    req.deadline = std::min(deadline, std::chrono::steady_clock::now() + options_.request_timeout);
    req.max_response_bytes = options_.max_response_bytes;
    req.policy = options_.policy;
    req.cancel = std::move(cancel);
    http_->send(std::move(req), [id, done = std::move(done)](
                                    base::Result<tools::HttpClientResponse> r) {
        if (!r) {
            done(r.error());
            return;
        }
        auto result = proto::read_response(r->body, id);
        if (!result) {
            if (r->status != 200 &&
                result.error().code == make_error_code(protocols::errc::invalid_agent_response)) {
                done(upstream("peer answered HTTP " + std::to_string(r->status)));
                return;
            }
            done(upstream(result.error().what()));
            return;
        }
        done(std::move(*result));
    });
}

} // namespace agentd::gateway::a2a
