#pragma once
/// A2A push notifications (spec §4.3.3): each task update is POSTed to the task's webhooks —
/// v1.0 configs get the StreamResponse body as `application/a2a+json`, v0.3 configs the bare
/// event as `application/json` — with `Authorization: <scheme> <credentials>` and
/// `X-A2A-Notification-Token: <token>` when configured.
///
/// Delivery is at least once per webhook, in order per webhook: one request in flight per
/// webhook, a failed one (transport error, timeout or non-2xx) retried with exponential backoff
/// up to `max_attempts`, then dropped and logged. Every resource is bounded: queued events per
/// webhook (the oldest is dropped past the bound), webhooks tracked, per-request timeout and
/// response size. Destinations are checked against the NetPolicy at every connect (SSRF and
/// DNS-rebinding protection).
///
/// Ownership: shared; in-flight deliveries keep it alive. Thread-safety: all members.
/// Errors: validate_url returns errc::invalid_params naming the problem; delivery failures are
/// logged and counted, never reported to the task.

#include "agentd/base/result.h"
#include "agentd/protocols/a2a/types.h"
#include "agentd/protocols/mcp/types.h"
#include "agentd/tools/http_client.h"
#include "agentd/tools/net_policy.h"

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace agentd::gateway::a2a {

namespace proto = protocols::a2a;

struct PushOptions {
    tools::NetPolicy policy;
    std::chrono::milliseconds timeout{10'000};
    unsigned max_attempts = 4;
    std::chrono::milliseconds first_backoff{250};
    std::size_t max_queued_per_webhook = 64;
    std::size_t max_webhooks = 4096;
};

/// A parsed webhook URL (http or https, host, port, origin-form target).
struct WebhookUrl {
    bool tls = false;
    std::string host;
    std::uint16_t port = 80;
    std::string target = "/";
};

/// Parses and checks a webhook URL against `policy` (literal addresses and denied names).
[[nodiscard]] base::Result<WebhookUrl> validate_webhook_url(std::string_view url,
                                                            const tools::NetPolicy& policy);

struct PushStats {
    std::uint64_t delivered = 0;
    std::uint64_t retried = 0;
    std::uint64_t dropped = 0;
};

class PushSender : public std::enable_shared_from_this<PushSender> {
public:
    PushSender(std::shared_ptr<tools::HttpClient> client,
               std::shared_ptr<protocols::mcp::Timers> timers, PushOptions options);

    /// Queues `event` for the webhook of `config`, serialized for `version`.
    void enqueue(const proto::PushConfig& config, proto::Version version,
                 const proto::StreamEvent& event);

    [[nodiscard]] const PushOptions& options() const { return options_; }
    [[nodiscard]] PushStats stats() const;
    /// Stops retries and drops what is queued (shutdown).
    void stop();

private:
    struct Delivery {
        std::string body;
        std::string content_type;
        unsigned attempts = 0;
    };
    struct Webhook {
        WebhookUrl url;
        std::string config_key;
        std::vector<std::pair<std::string, std::string>> headers;
        std::deque<Delivery> queue;
        bool in_flight = false;
    };

    void pump(const std::string& key);
    void on_result(const std::string& key, base::Result<tools::HttpClientResponse> result);

    std::shared_ptr<tools::HttpClient> client_;
    std::shared_ptr<protocols::mcp::Timers> timers_;
    PushOptions options_;
    mutable std::mutex mu_;
    std::map<std::string, Webhook> webhooks_; ///< by config key (task id + config id + url)
    PushStats stats_;
    bool stopped_ = false;
};

} // namespace agentd::gateway::a2a
