#pragma once
/// JSON-RPC 2.0 envelope (https://www.jsonrpc.org/specification) as MCP uses it.
///
/// Parsing never throws: bodies are parsed with exceptions disabled, bounded in size and nesting
/// depth, and every malformed message becomes a value that says exactly what is wrong (-32700 for
/// text that is not JSON, -32600 for JSON that is not a valid message). Ids are strings or
/// integers; MCP forbids null ids on requests. Batches (arrays) are parsed into their elements;
/// whether a batch is allowed is the caller's decision (MCP 2025-03-26 allows them, later
/// revisions do not).
///
/// Thread-safety: all types are values; `Message` shares its immutable parsed body, so copies are
/// cheap and may cross threads.

#include "agentd/base/result.h"

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace agentd::protocols {

/// Shared immutable JSON (the full nlohmann header is only needed where it is dereferenced).
using JsonPtr = std::shared_ptr<const nlohmann::json>;

/// Copies `value` into a new shared immutable JSON.
[[nodiscard]] JsonPtr share_json(const nlohmann::json& value);

/// JSON-RPC error codes used by MCP (JSON-RPC 2.0 plus the MCP-reserved range).
namespace rpc_code {
inline constexpr int parse_error = -32700;
inline constexpr int invalid_request = -32600;
inline constexpr int method_not_found = -32601;
inline constexpr int invalid_params = -32602;
inline constexpr int internal_error = -32603;
inline constexpr int resource_not_found_legacy = -32002; ///< MCP 2025-11-25 and earlier
inline constexpr int header_mismatch = -32020;
inline constexpr int missing_client_capability = -32021;
inline constexpr int unsupported_protocol_version = -32022;
} // namespace rpc_code

namespace jsonrpc {

/// A request id: an integer or a string. A default-constructed id is "null" (used only in error
/// responses to messages whose id could not be read).
class RequestId {
public:
    RequestId() = default;
    explicit RequestId(std::int64_t v) : value_(v) {}
    explicit RequestId(std::string v) : value_(std::move(v)) {}

    [[nodiscard]] bool is_null() const { return std::holds_alternative<std::monostate>(value_); }
    [[nodiscard]] bool is_string() const { return std::holds_alternative<std::string>(value_); }
    /// The JSON text of the id: `42`, `"abc"` or `null`.
    [[nodiscard]] std::string to_json_text() const;
    /// Writes the id as a JSON value (null when is_null()).
    void write(nlohmann::json& out) const;
    /// Reads an id from a JSON value: integers (within int64/uint64) and strings are ids; anything
    /// else (null, fractional numbers, booleans, objects, arrays) is not.
    [[nodiscard]] static bool read(const nlohmann::json& in, RequestId& out);

    friend bool operator==(const RequestId&, const RequestId&) = default;
    [[nodiscard]] std::size_t hash() const;

private:
    std::variant<std::monostate, std::int64_t, std::uint64_t, std::string> value_;
};

struct RequestIdHash {
    std::size_t operator()(const RequestId& id) const { return id.hash(); }
};

/// One JSON-RPC message.
class Message {
public:
    enum class Kind {
        request,      ///< has method and id
        notification, ///< has method, no id
        result,       ///< response with "result"
        error,        ///< response with "error"
        invalid,      ///< not a valid message; problem() says why, id() is set when readable
    };

    Message();

    [[nodiscard]] Kind kind() const { return kind_; }
    [[nodiscard]] bool is_request() const { return kind_ == Kind::request; }
    [[nodiscard]] bool is_notification() const { return kind_ == Kind::notification; }
    [[nodiscard]] bool is_response() const { return kind_ == Kind::result || kind_ == Kind::error; }
    [[nodiscard]] const RequestId& id() const { return id_; }
    [[nodiscard]] const std::string& method() const { return method_; }
    /// The params object of a request or notification; an empty object when absent.
    [[nodiscard]] const nlohmann::json& params() const;
    /// "result" of a result response, "error" of an error response, null otherwise.
    [[nodiscard]] const nlohmann::json& payload() const;
    /// The whole message as parsed.
    [[nodiscard]] const nlohmann::json& body() const;
    /// Why an invalid message is invalid (errc::invalid_request with a precise message).
    [[nodiscard]] const base::Error& problem() const { return problem_; }

    /// Classifies one already-parsed JSON value. Never throws.
    [[nodiscard]] static Message from_json(JsonPtr value);
    /// Builds a request message (used by tests and by MCP's re-dispatch of a retried request).
    [[nodiscard]] static Message make_request(RequestId id, std::string method, JsonPtr params);

private:
    Kind kind_ = Kind::invalid;
    RequestId id_;
    std::string method_;
    JsonPtr body_;
    JsonPtr params_;
    base::Error problem_;
};

/// Bounds applied while parsing.
struct ParseLimits {
    std::size_t max_bytes = 8u << 20; ///< larger bodies are a parse error
    std::size_t max_depth = 64;       ///< deeper nesting is a parse error
    std::size_t max_batch = 100;      ///< more batch elements is an invalid request
};

/// The outcome of parsing one transport frame (an HTTP body or a stdio line).
struct ParsedFrame {
    bool ok = false; ///< false: `error` says why (errc::parse_error or invalid_request)
    bool batch = false;
    std::vector<Message> messages; ///< one element unless `batch`
    base::Error error;
};

/// Parses one frame. Never throws.
[[nodiscard]] ParsedFrame parse(std::string_view text, const ParseLimits& limits = {});

/// Serialization of outgoing messages. Strings are written with invalid UTF-8 replaced, so these
/// never throw on odd tool output.
[[nodiscard]] std::string serialize(const nlohmann::json& value);
[[nodiscard]] std::string make_result(const RequestId& id, const nlohmann::json& result);
[[nodiscard]] std::string make_error(const RequestId& id, int code, std::string_view message);
[[nodiscard]] std::string make_error(const RequestId& id, int code, std::string_view message,
                                     const nlohmann::json& data);
[[nodiscard]] std::string make_notification(std::string_view method, const nlohmann::json& params);
[[nodiscard]] std::string make_request(const RequestId& id, std::string_view method,
                                       const nlohmann::json& params);

/// The JSON-RPC code of a generic error: protocols::errc values map to their codes
/// (resource_not_found to -32002 when `legacy_resource_code`, else -32602); codes of other
/// categories map to -32603.
[[nodiscard]] int code_of(const base::Error& error, bool legacy_resource_code);

} // namespace jsonrpc
} // namespace agentd::protocols
