#include "runtime/trace.h"

#include "agentd/protocols/json_rpc.h"

#include "a2a/push_sender.h"
#include "log/logging.h"

#include <nlohmann/json.hpp>

#include <random>

namespace agentd::gateway::runtime {

namespace {

using nlohmann::json;

std::string random_hex(std::size_t bytes) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes * 2);
    std::uint64_t bits = 0;
    for (std::size_t i = 0; i < bytes; ++i) {
        if (i % 8 == 0) {
            bits = rng();
        }
        const auto b = static_cast<unsigned>(bits & 0xff);
        bits >>= 8;
        out += kHex[b >> 4];
        out += kHex[b & 0xf];
    }
    return out;
}

bool is_hex(std::string_view s, std::size_t n) {
    if (s.size() != n) {
        return false;
    }
    bool nonzero = false;
    for (const char c : s) {
        const bool digit = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        if (!digit) {
            return false;
        }
        nonzero = nonzero || c != '0';
    }
    return nonzero;
}

json attr_value(const AttrValue& v) {
    struct Visitor {
        json operator()(const std::string& s) const { return {{"stringValue", s}}; }
        json operator()(std::int64_t i) const { return {{"intValue", std::to_string(i)}}; }
        json operator()(double d) const { return {{"doubleValue", d}}; }
        json operator()(bool b) const { return {{"boolValue", b}}; }
    };
    return std::visit(Visitor{}, v);
}

void log_span(const SpanRecord& s) {
    if (!log::enabled(log::Level::info)) {
        return;
    }
    // The structured log line: a fixed set of fields, attributes as one JSON object.
    json attrs = json::object();
    for (const auto& [k, v] : s.attributes) {
        std::visit([&attrs, &k](const auto& x) { attrs[k] = x; }, v);
    }
    const double ms = static_cast<double>(s.end_unix_ns - s.start_unix_ns) / 1e6;
    log::log_event(s.error ? log::Level::warn : log::Level::info, "span",
                   {{"name", s.name},
                    {"trace_id", s.trace_id},
                    {"span_id", s.span_id},
                    {"parent_id", s.parent_id},
                    {"duration_ms", ms},
                    {"status", s.error ? s.status_message : std::string("ok")},
                    {"attributes", protocols::jsonrpc::serialize(attrs)}});
}

} // namespace

std::optional<TraceParent> parse_traceparent(std::string_view text) {
    // version "00": 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>
    if (text.size() < 55 || text.substr(0, 3) != "00-" || text[35] != '-' || text[52] != '-') {
        return std::nullopt;
    }
    const auto trace = text.substr(3, 32);
    const auto span = text.substr(36, 16);
    if (!is_hex(trace, 32) || !is_hex(span, 16)) {
        return std::nullopt;
    }
    return TraceParent{std::string(trace), std::string(span)};
}

std::string new_trace_id() {
    return random_hex(16);
}

std::string new_span_id() {
    return random_hex(8);
}

std::int64_t unix_ns_now() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string otlp_json(const std::vector<SpanRecord>& spans, std::string_view service_name) {
    json out_spans = json::array();
    for (const auto& s : spans) {
        json attrs = json::array();
        for (const auto& [k, v] : s.attributes) {
            attrs.push_back({{"key", k}, {"value", attr_value(v)}});
        }
        json span = {{"traceId", s.trace_id},
                     {"spanId", s.span_id},
                     {"name", s.name},
                     {"kind", 1},
                     {"startTimeUnixNano", std::to_string(s.start_unix_ns)},
                     {"endTimeUnixNano", std::to_string(s.end_unix_ns)},
                     {"attributes", std::move(attrs)},
                     {"status", {{"code", s.error ? 2 : 1}, {"message", s.status_message}}}};
        if (!s.parent_id.empty()) {
            span["parentSpanId"] = s.parent_id;
        }
        out_spans.push_back(std::move(span));
    }
    const json body = {
        {"resourceSpans",
         json::array(
             {{{"resource",
                {{"attributes", json::array({{{"key", "service.name"},
                                              {"value", {{"stringValue", service_name}}}}})}}},
               {"scopeSpans", json::array({{{"scope", {{"name", "agentd.runtime"}}},
                                            {"spans", std::move(out_spans)}}})}}})}};
    return protocols::jsonrpc::serialize(body);
}

Tracer::Tracer(TracerOptions options, std::shared_ptr<tools::HttpClient> http,
               std::shared_ptr<protocols::mcp::Timers> timers)
    : options_(std::move(options)), http_(std::move(http)), timers_(std::move(timers)) {}

void Tracer::emit(SpanRecord span) {
    log_span(span);
    if (options_.otlp_endpoint.empty() || !http_) {
        return;
    }
    std::lock_guard lock(mu_);
    if (buffer_.size() >= options_.max_buffered) {
        ++dropped_;
        return;
    }
    buffer_.push_back(std::move(span));
    if (buffer_.size() >= options_.max_batch) {
        // Flushed by the timer or right away below, outside the lock.
        flush_scheduled_ = false;
    }
    schedule_flush_locked();
}

void Tracer::schedule_flush_locked() {
    if (flush_scheduled_ || !timers_) {
        return;
    }
    flush_scheduled_ = true;
    std::weak_ptr<Tracer> weak = weak_from_this();
    const auto delay = buffer_.size() >= options_.max_batch ? std::chrono::milliseconds(0)
                                                            : options_.flush_interval;
    timers_->schedule(delay, [weak] {
        if (auto self = weak.lock()) {
            self->flush();
        }
    });
}

void Tracer::flush() {
    std::vector<SpanRecord> batch;
    {
        std::lock_guard lock(mu_);
        flush_scheduled_ = false;
        const std::size_t n = std::min(buffer_.size(), options_.max_batch);
        batch.assign(std::make_move_iterator(buffer_.begin()),
                     std::make_move_iterator(buffer_.begin() + static_cast<std::ptrdiff_t>(n)));
        buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(n));
        if (!buffer_.empty()) {
            schedule_flush_locked();
        }
    }
    if (batch.empty() || !http_) {
        return;
    }
    tools::NetPolicy policy; // the operator's own endpoint: loopback and private allowed
    auto url = a2a::validate_webhook_url(options_.otlp_endpoint + "/v1/traces", policy);
    if (!url) {
        log::log_event(log::Level::warn, "trace export: bad endpoint",
                       {{"error", url.error().what()}});
        return;
    }
    tools::HttpClientRequest req;
    req.method = "POST";
    req.tls = url->tls;
    req.host = url->host;
    req.port = url->port;
    req.target = url->target;
    req.headers = {{"Content-Type", "application/json"}};
    req.body = otlp_json(batch, options_.service_name);
    req.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    req.policy = policy;
    const std::size_t count = batch.size();
    std::weak_ptr<Tracer> weak = weak_from_this();
    http_->send(std::move(req), [weak, count](base::Result<tools::HttpClientResponse> r) {
        auto self = weak.lock();
        if (!self) {
            return;
        }
        std::lock_guard lock(self->mu_);
        if (r && r->status >= 200 && r->status < 300) {
            self->exported_ += count;
        } else {
            self->dropped_ += count;
            log::log_event(log::Level::warn, "trace export failed",
                           {{"spans", count},
                            {"error", r ? "HTTP " + std::to_string(r->status) : r.error().what()}});
        }
    });
}

std::uint64_t Tracer::exported() const {
    std::lock_guard lock(mu_);
    return exported_;
}

std::uint64_t Tracer::dropped() const {
    std::lock_guard lock(mu_);
    return dropped_;
}

} // namespace agentd::gateway::runtime
