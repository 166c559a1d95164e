#include "a2a/push_sender.h"

#include "agentd/protocols/a2a/codec.h"
#include "agentd/protocols/errc.h"
#include "agentd/protocols/json_rpc.h"

#include "log/logging.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

namespace agentd::gateway::a2a {

namespace {

base::Error bad_url(std::string_view why) {
    return base::Error(protocols::errc::invalid_params,
                       "push notification url: " + std::string(why));
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

} // namespace

base::Result<WebhookUrl> validate_webhook_url(std::string_view url,
                                              const tools::NetPolicy& policy) {
    WebhookUrl out;
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) {
        return bad_url("must be an absolute http:// or https:// URL");
    }
    const std::string scheme = lower(url.substr(0, scheme_end));
    if (scheme == "https") {
        out.tls = true;
        out.port = 443;
    } else if (scheme != "http") {
        return bad_url("scheme must be http or https");
    }
    std::string_view rest = url.substr(scheme_end + 3);
    const auto path_start = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, path_start);
    if (path_start != std::string_view::npos) {
        std::string_view target = rest.substr(path_start);
        if (const auto hash = target.find('#'); hash != std::string_view::npos) {
            target = target.substr(0, hash);
        }
        out.target = target.empty() || target.front() != '/' ? "/" + std::string(target)
                                                             : std::string(target);
    }
    if (authority.find('@') != std::string_view::npos) {
        return bad_url("must not carry user information");
    }
    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) {
            return bad_url("malformed IPv6 host");
        }
        out.host = std::string(authority.substr(1, close - 1));
        const auto after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                return bad_url("malformed host");
            }
            port_text = after.substr(1);
        }
    } else {
        const auto colon = authority.rfind(':');
        out.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) {
            port_text = authority.substr(colon + 1);
        }
    }
    if (out.host.empty()) {
        return bad_url("has no host");
    }
    for (const char c : out.host) {
        if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '.' && c != '-' && c != ':' &&
            c != '_') {
            return bad_url("host contains invalid characters");
        }
    }
    if (!port_text.empty()) {
        if (port_text.size() > 5 ||
            port_text.find_first_not_of("0123456789") != std::string::npos) {
            return bad_url("port must be a number");
        }
        const unsigned long port = std::stoul(std::string(port_text));
        if (port == 0 || port > 65535) {
            return bad_url("port must be in [1, 65535]");
        }
        out.port = static_cast<std::uint16_t>(port);
    }
    for (const char c : out.target) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
            return bad_url("path contains spaces or control characters");
        }
    }
    if (auto allowed = policy.check_host(out.host); !allowed) {
        return bad_url(allowed.error().what());
    }
    return out;
}

PushSender::PushSender(std::shared_ptr<tools::HttpClient> client,
                       std::shared_ptr<protocols::mcp::Timers> timers, PushOptions options)
    : client_(std::move(client)), timers_(std::move(timers)), options_(std::move(options)) {}

void PushSender::enqueue(const proto::PushConfig& config, proto::Version version,
                         const proto::StreamEvent& event) {
    auto url = validate_webhook_url(config.url, options_.policy);
    if (!url) {
        log::log_event(log::Level::warn, "a2a push: webhook url refused",
                       {{"task", config.task_id}, {"error", url.error().what()}});
        return;
    }
    Delivery delivery;
    delivery.body = protocols::jsonrpc::serialize(proto::to_json(event, version));
    delivery.content_type =
        version == proto::Version::v1_0 ? "application/a2a+json" : "application/json";
    const std::string key = config.task_id + '\n' + config.id + '\n' + config.url;
    {
        std::lock_guard lock(mu_);
        if (stopped_) {
            return;
        }
        auto it = webhooks_.find(key);
        if (it == webhooks_.end()) {
            if (webhooks_.size() >= options_.max_webhooks) {
                ++stats_.dropped;
                return;
            }
            Webhook hook;
            hook.url = std::move(*url);
            hook.config_key = key;
            if (config.authentication && !config.authentication->scheme.empty()) {
                hook.headers.emplace_back("Authorization", config.authentication->scheme + " " +
                                                               config.authentication->credentials);
            }
            if (!config.token.empty()) {
                hook.headers.emplace_back("X-A2A-Notification-Token", config.token);
            }
            it = webhooks_.emplace(key, std::move(hook)).first;
        }
        auto& queue = it->second.queue;
        if (queue.size() >= options_.max_queued_per_webhook) {
            // Keep the newest events: the latest task state matters most to a receiver.
            const std::size_t first = it->second.in_flight ? 1 : 0;
            if (queue.size() > first) {
                queue.erase(queue.begin() + static_cast<std::ptrdiff_t>(first));
                ++stats_.dropped;
            }
        }
        queue.push_back(std::move(delivery));
    }
    pump(key);
}

void PushSender::pump(const std::string& key) {
    tools::HttpClientRequest request;
    {
        std::lock_guard lock(mu_);
        auto it = webhooks_.find(key);
        if (stopped_ || it == webhooks_.end() || it->second.in_flight) {
            return;
        }
        Webhook& hook = it->second;
        if (hook.queue.empty()) {
            webhooks_.erase(it);
            return;
        }
        hook.in_flight = true;
        Delivery& d = hook.queue.front();
        ++d.attempts;
        request.method = "POST";
        request.tls = hook.url.tls;
        request.host = hook.url.host;
        request.port = hook.url.port;
        request.target = hook.url.target;
        request.headers = hook.headers;
        request.headers.emplace_back("Content-Type", d.content_type);
        request.body = d.body;
        request.deadline = std::chrono::steady_clock::now() + options_.timeout;
        request.max_response_bytes = 64U << 10U;
        request.policy = options_.policy;
    }
    std::weak_ptr<PushSender> weak = weak_from_this();
    client_->send(std::move(request), [weak, key](base::Result<tools::HttpClientResponse> r) {
        if (auto self = weak.lock()) {
            self->on_result(key, std::move(r));
        }
    });
}

void PushSender::on_result(const std::string& key, base::Result<tools::HttpClientResponse> result) {
    const bool ok = result.has_value() && result->status >= 200 && result->status < 300;
    std::chrono::milliseconds retry_in{0};
    {
        std::lock_guard lock(mu_);
        auto it = webhooks_.find(key);
        if (it == webhooks_.end()) {
            return;
        }
        Webhook& hook = it->second;
        hook.in_flight = false;
        if (hook.queue.empty()) {
            return;
        }
        Delivery& d = hook.queue.front();
        if (ok) {
            ++stats_.delivered;
            hook.queue.pop_front();
        } else if (d.attempts >= options_.max_attempts || stopped_) {
            ++stats_.dropped;
            log::log_event(log::Level::warn, "a2a push: giving up on a notification",
                           {{"host", hook.url.host},
                            {"attempts", d.attempts},
                            {"error", result.has_value() ? "HTTP " + std::to_string(result->status)
                                                         : result.error().what()}});
            hook.queue.pop_front();
        } else {
            ++stats_.retried;
            retry_in = options_.first_backoff * (1U << std::min(d.attempts - 1, 8U));
            hook.in_flight = true; // held until the retry fires, keeping per-webhook order
        }
    }
    if (retry_in.count() == 0) {
        pump(key);
        return;
    }
    std::weak_ptr<PushSender> weak = weak_from_this();
    timers_->schedule(retry_in, [weak, key] {
        auto self = weak.lock();
        if (!self) {
            return;
        }
        {
            std::lock_guard lock(self->mu_);
            auto it = self->webhooks_.find(key);
            if (it == self->webhooks_.end()) {
                return;
            }
            it->second.in_flight = false;
        }
        self->pump(key);
    });
}

PushStats PushSender::stats() const {
    std::lock_guard lock(mu_);
    return stats_;
}

void PushSender::stop() {
    std::lock_guard lock(mu_);
    stopped_ = true;
    for (auto& [key, hook] : webhooks_) {
        stats_.dropped += hook.queue.size();
    }
    webhooks_.clear();
}

} // namespace agentd::gateway::a2a
