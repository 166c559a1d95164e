#include "agentd/protocols/json_rpc.h"

#include "agentd/protocols/errc.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <limits>

namespace agentd::protocols {

using nlohmann::json;

JsonPtr share_json(const json& value) {
    return std::make_shared<const json>(value);
}

namespace jsonrpc {
namespace {

const json& empty_object() {
    static const json value = json::object();
    return value;
}

const json& null_value() {
    static const json value;
    return value;
}

base::Error invalid(std::string message) {
    return base::Error(errc::invalid_request, std::move(message));
}

} // namespace

// ---- RequestId -------------------------------------------------------------------------------

std::string RequestId::to_json_text() const {
    json out;
    write(out);
    return out.dump();
}

void RequestId::write(json& out) const {
    if (const auto* i = std::get_if<std::int64_t>(&value_)) {
        out = *i;
    } else if (const auto* u = std::get_if<std::uint64_t>(&value_)) {
        out = *u;
    } else if (const auto* s = std::get_if<std::string>(&value_)) {
        out = *s;
    } else {
        out = nullptr;
    }
}

bool RequestId::read(const json& in, RequestId& out) {
    if (in.is_string()) {
        out.value_ = in.get<std::string>();
        return true;
    }
    if (in.is_number_integer()) {
        // Canonical form: values that fit int64 are int64, only larger ones are uint64, so equal
        // numbers compare equal whichever way the parser stored them.
        if (in.is_number_unsigned()) {
            const auto u = in.get<std::uint64_t>();
            if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
                out.value_ = static_cast<std::int64_t>(u);
            } else {
                out.value_ = u;
            }
        } else {
            out.value_ = in.get<std::int64_t>();
        }
        return true;
    }
    return false;
}

std::size_t RequestId::hash() const {
    if (const auto* i = std::get_if<std::int64_t>(&value_)) {
        return std::hash<std::int64_t>{}(*i);
    }
    if (const auto* u = std::get_if<std::uint64_t>(&value_)) {
        return std::hash<std::uint64_t>{}(*u) ^ 0x9e3779b97f4a7c15ULL;
    }
    if (const auto* s = std::get_if<std::string>(&value_)) {
        return std::hash<std::string>{}(*s) ^ 0x51ed2701ULL;
    }
    return 0;
}

// ---- Message ---------------------------------------------------------------------------------

Message::Message() = default;

const json& Message::params() const {
    return params_ ? *params_ : empty_object();
}

const json& Message::body() const {
    return body_ ? *body_ : null_value();
}

const json& Message::payload() const {
    if (!body_ || !body_->is_object()) {
        return null_value();
    }
    if (kind_ == Kind::result) {
        return body_->at("result");
    }
    if (kind_ == Kind::error) {
        return body_->at("error");
    }
    return null_value();
}

Message Message::make_request(RequestId id, std::string method, JsonPtr params) {
    Message m;
    m.kind_ = Kind::request;
    m.id_ = std::move(id);
    m.method_ = std::move(method);
    json body = {{"jsonrpc", "2.0"}, {"method", m.method_}};
    m.id_.write(body["id"]);
    if (params) {
        body["params"] = *params;
    }
    m.params_ = std::move(params);
    m.body_ = std::make_shared<const json>(std::move(body));
    return m;
}

namespace {

// Reads the id of a message that is otherwise invalid, so the error response can carry it.
void read_id_if_any(const json& obj, RequestId& id) {
    if (auto it = obj.find("id"); it != obj.end()) {
        (void)RequestId::read(*it, id);
    }
}

bool classify_response(const json& obj, Message::Kind& kind, base::Error& problem) {
    const bool has_result = obj.contains("result");
    const bool has_error = obj.contains("error");
    if (has_result && has_error) {
        problem = invalid("a response must not carry both \"result\" and \"error\"");
        return false;
    }
    if (has_error) {
        const json& err = obj.at("error");
        if (!err.is_object() || !err.contains("code") || !err.at("code").is_number_integer() ||
            !err.contains("message") || !err.at("message").is_string()) {
            problem = invalid("\"error\" must be an object with an integer \"code\" and a string "
                              "\"message\"");
            return false;
        }
        kind = Message::Kind::error;
        return true;
    }
    kind = Message::Kind::result;
    return true;
}

} // namespace

Message Message::from_json(JsonPtr value) {
    Message m;
    m.body_ = value;
    if (!value || !value->is_object()) {
        m.problem_ = invalid("a JSON-RPC message must be a JSON object");
        return m;
    }
    const json& obj = *value;
    auto version = obj.find("jsonrpc");
    if (version == obj.end() || !version->is_string() ||
        version->get_ref<const std::string&>() != "2.0") {
        read_id_if_any(obj, m.id_);
        m.problem_ = invalid("\"jsonrpc\" must be the string \"2.0\"");
        return m;
    }
    auto method = obj.find("method");
    auto id = obj.find("id");
    if (method != obj.end()) {
        if (!method->is_string()) {
            read_id_if_any(obj, m.id_);
            m.problem_ = invalid("\"method\" must be a string");
            return m;
        }
        if (obj.contains("result") || obj.contains("error")) {
            read_id_if_any(obj, m.id_);
            m.problem_ = invalid("a request must not carry \"result\" or \"error\"");
            return m;
        }
        if (auto params = obj.find("params"); params != obj.end()) {
            if (!params->is_object() && !params->is_array()) {
                read_id_if_any(obj, m.id_);
                m.problem_ = invalid("\"params\" must be an object or an array");
                return m;
            }
            m.params_ = JsonPtr(value, &*params); // aliases the shared body
        }
        m.method_ = method->get<std::string>();
        if (id == obj.end()) {
            m.kind_ = Kind::notification;
            return m;
        }
        if (!RequestId::read(*id, m.id_)) {
            m.method_.clear();
            m.params_.reset();
            m.problem_ = invalid("\"id\" must be a string or an integer");
            return m;
        }
        m.kind_ = Kind::request;
        return m;
    }
    if (!obj.contains("result") && !obj.contains("error")) {
        read_id_if_any(obj, m.id_);
        m.problem_ = invalid("a message needs \"method\" (request or notification) or \"result\"/"
                             "\"error\" (response)");
        return m;
    }
    Kind kind = Kind::invalid;
    if (!classify_response(obj, kind, m.problem_)) {
        read_id_if_any(obj, m.id_);
        return m;
    }
    if (id == obj.end()) {
        m.problem_ = invalid("a response needs an \"id\"");
        return m;
    }
    if (!RequestId::read(*id, m.id_)) {
        if (!(kind == Kind::error && id->is_null())) {
            m.problem_ = invalid("\"id\" must be a string or an integer");
            return m;
        }
    }
    m.kind_ = kind;
    return m;
}

// ---- parsing ---------------------------------------------------------------------------------

ParsedFrame parse(std::string_view text, const ParseLimits& limits) {
    ParsedFrame frame;
    if (text.size() > limits.max_bytes) {
        frame.error =
            base::Error(errc::parse_error,
                        "message larger than " + std::to_string(limits.max_bytes) + " bytes");
        return frame;
    }
    bool too_deep = false;
    const auto max_depth = static_cast<int>(limits.max_depth);
    json::parser_callback_t guard = [&too_deep, max_depth](int depth, json::parse_event_t event,
                                                           json& /*parsed*/) {
        if (depth > max_depth && (event == json::parse_event_t::object_start ||
                                  event == json::parse_event_t::array_start)) {
            too_deep = true;
            return false; // discard the subtree; the frame is rejected below
        }
        return true;
    };
    json value = json::parse(text.begin(), text.end(), guard, /*allow_exceptions=*/false);
    if (too_deep) {
        frame.error = base::Error(errc::parse_error,
                                  "JSON nested deeper than " + std::to_string(limits.max_depth));
        return frame;
    }
    if (value.is_discarded()) {
        frame.error = base::Error(errc::parse_error, "invalid JSON");
        return frame;
    }
    if (value.is_array()) {
        frame.batch = true;
        if (value.empty()) {
            frame.error = invalid("an empty batch is not a valid request");
            return frame;
        }
        if (value.size() > limits.max_batch) {
            frame.error = invalid("a batch may hold at most " + std::to_string(limits.max_batch) +
                                  " messages");
            return frame;
        }
        auto whole = std::make_shared<const json>(std::move(value));
        frame.messages.reserve(whole->size());
        for (const auto& element : *whole) {
            frame.messages.push_back(Message::from_json(JsonPtr(whole, &element)));
        }
        frame.ok = true;
        return frame;
    }
    frame.messages.push_back(Message::from_json(std::make_shared<const json>(std::move(value))));
    frame.ok = true;
    return frame;
}

// ---- serialization ---------------------------------------------------------------------------

std::string serialize(const json& value) {
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string make_result(const RequestId& id, const json& result) {
    json msg = {{"jsonrpc", "2.0"}};
    id.write(msg["id"]);
    msg["result"] = result;
    return serialize(msg);
}

std::string make_error(const RequestId& id, int code, std::string_view message) {
    json msg = {{"jsonrpc", "2.0"}};
    id.write(msg["id"]);
    msg["error"] = {{"code", code}, {"message", message}};
    return serialize(msg);
}

std::string make_error(const RequestId& id, int code, std::string_view message, const json& data) {
    json msg = {{"jsonrpc", "2.0"}};
    id.write(msg["id"]);
    msg["error"] = {{"code", code}, {"message", message}, {"data", data}};
    return serialize(msg);
}

std::string make_notification(std::string_view method, const json& params) {
    json msg = {{"jsonrpc", "2.0"}, {"method", method}};
    if (!params.is_null()) {
        msg["params"] = params;
    }
    return serialize(msg);
}

std::string make_request(const RequestId& id, std::string_view method, const json& params) {
    json msg = {{"jsonrpc", "2.0"}};
    id.write(msg["id"]);
    msg["method"] = method;
    if (!params.is_null()) {
        msg["params"] = params;
    }
    return serialize(msg);
}

int code_of(const base::Error& error, bool legacy_resource_code) {
    if (error.code.category() != protocols::error_category()) {
        return rpc_code::internal_error;
    }
    switch (static_cast<errc>(error.code.value())) {
    case errc::parse_error:
        return rpc_code::parse_error;
    case errc::invalid_request:
        return rpc_code::invalid_request;
    case errc::method_not_found:
        return rpc_code::method_not_found;
    case errc::invalid_params:
    case errc::cancelled:
        return rpc_code::invalid_params;
    case errc::unsupported_version:
        return rpc_code::unsupported_protocol_version;
    case errc::resource_not_found:
        return legacy_resource_code ? rpc_code::resource_not_found_legacy
                                    : rpc_code::invalid_params;
    case errc::missing_client_capability:
        return rpc_code::missing_client_capability;
    case errc::header_mismatch:
        return rpc_code::header_mismatch;
    case errc::internal_error:
    case errc::busy:
        return rpc_code::internal_error;
    case errc::task_not_found:
    case errc::task_not_cancelable:
    case errc::push_not_supported:
    case errc::unsupported_operation:
    case errc::content_type_not_supported:
    case errc::invalid_agent_response:
    case errc::extended_card_not_configured:
    case errc::extension_support_required:
    case errc::version_not_supported:
        // A2A's codes: -32001 (task_not_found) .. -32009 (version_not_supported), in order.
        return -32001 - (error.code.value() - static_cast<int>(errc::task_not_found));
    }
    return rpc_code::internal_error;
}

} // namespace jsonrpc
} // namespace agentd::protocols
