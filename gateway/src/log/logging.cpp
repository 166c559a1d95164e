#include "log/logging.h"

#include "http/text.h"
#include "log/batched_sink.h"

#include <spdlog/details/log_msg.h>
#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cmath>
#include <ctime>
#include <memory>

namespace agentd::gateway::log {
namespace {

// Separates the message from pre-rendered JSON fields in a payload (log_event in JSON mode).
// ASCII "unit separator": never produced by log_event's own text, and a plain spdlog message
// that happens to contain it is still rendered as valid JSON (the rest is escaped as text).
constexpr char kFieldMark = '\x1f';

std::atomic<Format> g_format{Format::text};

spdlog::level::level_enum to_spdlog(Level l) {
    switch (l) {
    case Level::trace:
        return spdlog::level::trace;
    case Level::debug:
        return spdlog::level::debug;
    case Level::info:
        return spdlog::level::info;
    case Level::warn:
        return spdlog::level::warn;
    case Level::error:
        return spdlog::level::err;
    case Level::critical:
        return spdlog::level::critical;
    case Level::off:
        return spdlog::level::off;
    }
    return spdlog::level::info;
}

bool needs_quotes(std::string_view s) {
    if (s.empty()) {
        return true;
    }
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || c == '"' || c == '=' || u == 0x7F) {
            return true;
        }
    }
    return false;
}

/// One JSON object per line: {"ts":...,"level":...,"msg":...,<fields>}.
class JsonFormatter final : public spdlog::formatter {
public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        std::string line;
        line.reserve(128 + msg.payload.size());
        line.append(R"({"ts":")");
        append_time(line, msg.time);
        line.append(R"(","level":")");
        const auto level = spdlog::level::to_string_view(msg.level);
        line.append(level.data(), level.size());
        line.append(R"(","msg":)");
        const std::string_view payload(msg.payload.data(), msg.payload.size());
        const auto mark = payload.find(kFieldMark);
        if (mark == std::string_view::npos) {
            http::append_json_string(line, payload);
        } else {
            http::append_json_string(line, payload.substr(0, mark));
            line.append(payload.substr(mark + 1));
        }
        line.append("}\n");
        dest.append(line.data(), line.data() + line.size());
    }
    [[nodiscard]] std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<JsonFormatter>();
    }

private:
    static void append_time(std::string& out, spdlog::log_clock::time_point tp) {
        const auto since = tp.time_since_epoch();
        const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since);
        const auto millis =
            std::chrono::duration_cast<std::chrono::milliseconds>(since - secs).count();
        const std::time_t t = secs.count();
        std::tm tm{};
        gmtime_r(&t, &tm);
        char buf[40];
        const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
        out.append(buf, n);
        char ms[8];
        std::snprintf(ms, sizeof ms, ".%03dZ", static_cast<int>(millis));
        out.append(ms);
    }
};

std::string render(Format format, std::string_view message, std::initializer_list<Field> fields) {
    std::string out;
    out.reserve(message.size() + fields.size() * 24);
    const bool json = format == Format::json;
    out.append(message);
    if (json && fields.size() != 0) {
        out.push_back(kFieldMark);
    }
    for (const Field& f : fields) {
        if (json) {
            out.push_back(',');
            http::append_json_string(out, f.key);
            out.push_back(':');
        } else {
            out.push_back(' ');
            out.append(f.key);
            out.push_back('=');
        }
        f.value.append_to(out, json);
    }
    return out;
}

} // namespace

std::optional<Level> parse_level(std::string_view name) {
    static constexpr std::pair<std::string_view, Level> kNames[] = {
        {"trace", Level::trace}, {"debug", Level::debug},       {"info", Level::info},
        {"warn", Level::warn},   {"warning", Level::warn},      {"error", Level::error},
        {"off", Level::off},     {"critical", Level::critical},
    };
    for (const auto& [n, l] : kNames) {
        if (n == name) {
            return l;
        }
    }
    return std::nullopt;
}

std::optional<Format> parse_format(std::string_view name) {
    if (name == "text") {
        return Format::text;
    }
    if (name == "json") {
        return Format::json;
    }
    return std::nullopt;
}

void init_logging(Level level, Format format) {
    // Lines are written by a background thread in batches, never on the I/O threads.
    auto sink = std::make_shared<BatchedFdSink>(STDERR_FILENO);
    auto logger = std::make_shared<spdlog::logger>("agentd", std::move(sink));
    if (format == Format::json) {
        logger->set_formatter(std::make_unique<JsonFormatter>());
    } else {
        logger->set_formatter(std::make_unique<spdlog::pattern_formatter>(
            "%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc));
    }
    logger->set_level(to_spdlog(level));
    logger->flush_on(spdlog::level::warn);
    g_format.store(format, std::memory_order_relaxed);
    spdlog::set_default_logger(std::move(logger));
}

bool enabled(Level level) noexcept {
    return spdlog::default_logger_raw()->should_log(to_spdlog(level));
}

void Value::append_to(std::string& out, bool json) const {
    switch (kind_) {
    case Kind::text:
        if (json || needs_quotes(text_)) {
            http::append_json_string(out, text_);
        } else {
            out.append(text_);
        }
        return;
    case Kind::integer:
        out.append(std::to_string(int_));
        return;
    case Kind::uinteger:
        out.append(std::to_string(uint_));
        return;
    case Kind::boolean:
        out.append(int_ != 0 ? "true" : "false");
        return;
    case Kind::floating: {
        if (!std::isfinite(double_)) {
            out.append(json ? "null" : "nan");
            return;
        }
        char buf[64];
        const auto res = std::to_chars(buf, buf + sizeof buf, double_);
        out.append(buf, res.ptr);
        return;
    }
    }
}

void log_event(Level level, std::string_view message, std::initializer_list<Field> fields) {
    auto* logger = spdlog::default_logger_raw();
    const auto lvl = to_spdlog(level);
    if (!logger->should_log(lvl)) {
        return;
    }
    try {
        const std::string line = render(g_format.load(std::memory_order_relaxed), message, fields);
        logger->log(lvl, spdlog::string_view_t(line.data(), line.size()));
    } catch (...) {
        // Logging must never take a request down (out of memory while formatting a line).
    }
}

std::string format_event_for_test(Format format, std::string_view message,
                                  std::initializer_list<Field> fields) {
    return render(format, message, fields);
}

} // namespace agentd::gateway::log
