#pragma once
/// MCP value types shared by the server, its providers and the transports.
///
/// All types are plain values (JSON members are shared immutable `JsonPtr`s), safe to copy and
/// to move across threads.

#include "agentd/protocols/json_rpc.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::protocols::mcp {

/// The protocol revisions agentd speaks. The first three establish a session with `initialize`
/// ("legacy" in the 2026-07-28 text); 2026-07-28 is stateless: every request carries its version
/// and client capabilities in `_meta` ("modern").
enum class Version { v2025_03_26, v2025_06_18, v2025_11_25, v2026_07_28 };

inline constexpr Version latest_legacy_version = Version::v2025_11_25;
inline constexpr Version latest_version = Version::v2026_07_28;

[[nodiscard]] std::optional<Version> parse_version(std::string_view text);
[[nodiscard]] std::string_view to_string(Version v);
[[nodiscard]] inline bool is_modern(Version v) {
    return v == Version::v2026_07_28;
}
/// Every version this server speaks, newest first (the `supported` list of version errors).
[[nodiscard]] const std::vector<std::string>& supported_version_strings();

/// RFC 5424 severities used by `notifications/message`, least severe first.
enum class LogLevel { debug, info, notice, warning, error, critical, alert, emergency };

[[nodiscard]] std::optional<LogLevel> parse_log_level(std::string_view text);
[[nodiscard]] std::string_view to_string(LogLevel level);

/// Who is calling: established by the transport (HTTP auth, or the local user on stdio).
struct Caller {
    std::string tenant = "local";    ///< every provider call is scoped to this tenant
    std::string principal;           ///< a non-secret name of the credential ("" when none)
    std::vector<std::string> scopes; ///< scopes of the credential ({"*"} for the local tenant)
};

/// A tool as `tools/list` shows it. `input_schema` is required (a JSON Schema object whose
/// root `type` is "object"); the optional JSON members are omitted from the listing when null.
struct ToolInfo {
    std::string name; ///< unique per tenant; [A-Za-z0-9_.-]{1,128} recommended
    std::string title;
    std::string description;
    JsonPtr input_schema;
    JsonPtr output_schema; ///< when set, successful results must carry structuredContent
    JsonPtr annotations;   ///< ToolAnnotations object
    JsonPtr icons;         ///< array of Icon objects
    JsonPtr meta;          ///< `_meta` object
};

/// A directly readable resource as `resources/list` shows it.
struct ResourceInfo {
    std::string uri;
    std::string name;
    std::string title;
    std::string description;
    std::string mime_type;
    std::optional<std::uint64_t> size;
    JsonPtr annotations;
    JsonPtr icons;
    JsonPtr meta;
};

/// A resource template (RFC 6570 URI template) as `resources/templates/list` shows it.
struct ResourceTemplateInfo {
    std::string uri_template;
    std::string name;
    std::string title;
    std::string description;
    std::string mime_type;
    JsonPtr annotations;
    JsonPtr icons;
    JsonPtr meta;
};

struct PromptArgumentInfo {
    std::string name;
    std::string title;
    std::string description;
    bool required = false;
};

/// A prompt or prompt template as `prompts/list` shows it.
struct PromptInfo {
    std::string name;
    std::string title;
    std::string description;
    std::vector<PromptArgumentInfo> arguments;
    JsonPtr icons;
    JsonPtr meta;
};

/// Keeps a change listener registered while alive; destroying it unregisters the listener.
/// Providers return one from `watch()`; the deleter does the unregistering.
using Subscription = std::shared_ptr<void>;

/// A change a provider reports. `tenant` empty means "every tenant".
struct ChangeEvent {
    enum class Kind {
        tools_list_changed,
        prompts_list_changed,
        resources_list_changed,
        resource_updated, ///< `uri` changed content
    };
    Kind kind = Kind::tools_list_changed;
    std::string tenant;
    std::string uri;
};

using ChangeListener = std::function<void(const ChangeEvent&)>;

/// A cancellable one-shot timer.
class TimerHandle {
public:
    virtual ~TimerHandle() = default;
    /// Prevents the callback from running if it has not started. Thread-safe, idempotent.
    virtual void cancel() = 0;
};

/// Timers for protocol timeouts (server-to-client requests) and provider work (fixtures). The
/// gateway implements it on Asio. Thread-safe; callbacks run on an unspecified thread, never
/// inline from schedule(), and must not block.
class Timers {
public:
    virtual ~Timers() = default;
    virtual std::shared_ptr<TimerHandle> schedule(std::chrono::milliseconds delay,
                                                  std::function<void()> callback) = 0;
};

} // namespace agentd::protocols::mcp
