#pragma once
/// Structured logs on stderr through spdlog, as text or JSON lines (one object per line).
///
/// init_logging() configures spdlog's default logger once at start-up; other code may keep using
/// spdlog::info(...) for plain messages. log_event() adds key/value fields: in text mode they are
/// appended as `key=value`, in JSON mode they become members of the line's object next to
/// "ts", "level" and "msg". Logs go to stderr (stdout belongs to `mcp --stdio` and benchmarks).
///
/// Thread affinity: init_logging() on the main thread before other threads log; everything else
/// is thread-safe. Errors: parse_* return nullopt for unknown names; logging never throws.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace agentd::gateway::log {

enum class Format { text, json };
enum class Level { trace, debug, info, warn, error, critical, off };

[[nodiscard]] std::optional<Level> parse_level(std::string_view name);
[[nodiscard]] std::optional<Format> parse_format(std::string_view name);

/// Sets spdlog's default logger to a colourless stderr sink with the given level and format.
void init_logging(Level level, Format format);

/// True when a message at `level` would be written (cheap; use it to skip building fields).
[[nodiscard]] bool enabled(Level level) noexcept;

/// A field value: text, integer, floating point or boolean.
class Value {
public:
    Value(std::string_view s) : kind_(Kind::text), text_(s) {}       // NOLINT
    Value(const char* s) : kind_(Kind::text), text_(s) {}            // NOLINT
    Value(const std::string& s) : kind_(Kind::text), text_(s) {}     // NOLINT
    Value(bool b) : kind_(Kind::boolean), int_(b ? 1 : 0) {}         // NOLINT
    Value(int v) : kind_(Kind::integer), int_(v) {}                  // NOLINT
    Value(long v) : kind_(Kind::integer), int_(v) {}                 // NOLINT
    Value(long long v) : kind_(Kind::integer), int_(v) {}            // NOLINT
    Value(unsigned v) : kind_(Kind::uinteger), uint_(v) {}           // NOLINT
    Value(unsigned long v) : kind_(Kind::uinteger), uint_(v) {}      // NOLINT
    Value(unsigned long long v) : kind_(Kind::uinteger), uint_(v) {} // NOLINT
    Value(double v) : kind_(Kind::floating), double_(v) {}           // NOLINT

    /// Appends the value as JSON (json = true) or as a text-log token.
    void append_to(std::string& out, bool json) const;

private:
    enum class Kind { text, integer, uinteger, floating, boolean };
    Kind kind_;
    std::string_view text_;
    long long int_ = 0;
    unsigned long long uint_ = 0;
    double double_ = 0.0;
};

struct Field {
    std::string_view key;
    Value value;
};

/// Logs `message` with fields at `level` through the default logger.
void log_event(Level level, std::string_view message, std::initializer_list<Field> fields);

/// The formatted line body (message plus fields) as log_event would pass it to spdlog; exposed
/// for tests.
[[nodiscard]] std::string format_event_for_test(Format format, std::string_view message,
                                                std::initializer_list<Field> fields);

} // namespace agentd::gateway::log
