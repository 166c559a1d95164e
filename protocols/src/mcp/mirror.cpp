// Validation of the HTTP headers that mirror body fields (2026-07-28 Streamable HTTP, "Request
// Metadata"): MCP-Protocol-Version, Mcp-Method, Mcp-Name and the Mcp-Param-{Name} headers of
// tool parameters annotated with `x-mcp-header`.

#include "mcp/codec.h"
#include "mcp/methods.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace agentd::protocols::mcp::detail {

using nlohmann::json;

namespace {

// RFC 9110 field values: visible ASCII, space and horizontal tab.
bool valid_field_value(std::string_view value) {
    for (const char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if (!(u == '\t' || (u >= 0x20 && u <= 0x7e))) {
            return false;
        }
    }
    return true;
}

std::string lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

struct Annotated {
    std::string header; ///< lower-cased {Name} of Mcp-Param-{Name}
    std::vector<std::string> path;
};

// Annotations reachable from the root through `properties` keys only (statically reachable).
void collect(const json& schema, std::vector<std::string>& path, std::vector<Annotated>& out,
             int depth) {
    if (depth > 32 || !schema.is_object()) {
        return;
    }
    auto props = schema.find("properties");
    if (props == schema.end() || !props->is_object()) {
        return;
    }
    for (const auto& [name, sub] : props->items()) {
        if (!sub.is_object()) {
            continue;
        }
        path.push_back(name);
        if (auto h = sub.find("x-mcp-header"); h != sub.end() && h->is_string()) {
            out.push_back({lower(h->get<std::string>()), path});
        }
        collect(sub, path, out, depth + 1);
        path.pop_back();
    }
}

const json* value_at(const json& arguments, const std::vector<std::string>& path) {
    const json* node = &arguments;
    for (const auto& key : path) {
        if (!node->is_object()) {
            return nullptr;
        }
        auto it = node->find(key);
        if (it == node->end()) {
            return nullptr;
        }
        node = &*it;
    }
    return node;
}

bool header_matches(const std::string& header, const json& value) {
    if (value.is_string()) {
        return header == value.get_ref<const std::string&>();
    }
    if (value.is_boolean()) {
        return header == (value.get<bool>() ? "true" : "false");
    }
    if (value.is_number()) {
        // Integers compare numerically ("42.0" matches 42).
        char* end = nullptr;
        const double parsed = std::strtod(header.c_str(), &end);
        return !header.empty() && end == header.c_str() + header.size() && std::isfinite(parsed) &&
               parsed == value.get<double>();
    }
    return false;
}

} // namespace

std::optional<std::string> decode_header_value(std::string_view value) {
    constexpr std::string_view prefix = "=?base64?";
    constexpr std::string_view suffix = "?=";
    if (value.size() >= prefix.size() + suffix.size() && value.substr(0, prefix.size()) == prefix &&
        value.substr(value.size() - suffix.size()) == suffix) {
        return base64_decode(
            value.substr(prefix.size(), value.size() - prefix.size() - suffix.size()),
            /*url_safe=*/false);
    }
    return std::string(value);
}

std::optional<std::string> check_mirrored_headers(const jsonrpc::Message& message,
                                                  const MirroredHeaders& headers) {
    for (const auto* h : {&headers.protocol_version, &headers.method, &headers.name}) {
        if (*h && !valid_field_value(**h)) {
            return "a header value contains invalid characters";
        }
    }
    if (!headers.protocol_version) {
        return "the MCP-Protocol-Version header is required";
    }
    if (*headers.protocol_version != declared_version(message).value_or("")) {
        return "MCP-Protocol-Version header value '" + *headers.protocol_version +
               "' does not match the body's io.modelcontextprotocol/protocolVersion";
    }
    if (!headers.method) {
        return "the Mcp-Method header is required";
    }
    if (*headers.method != message.method()) {
        return "Mcp-Method header value '" + *headers.method + "' does not match body value '" +
               message.method() + "'";
    }
    const std::string& method = message.method();
    const char* field = method == "tools/call" || method == "prompts/get"
                            ? "name"
                            : (method == "resources/read" ? "uri" : nullptr);
    if (field == nullptr) {
        return std::nullopt;
    }
    const json& params = message.params();
    if (!params.is_object() || !params.contains(field) || !params.at(field).is_string()) {
        return std::nullopt; // the method itself reports the missing field (-32602)
    }
    if (!headers.name) {
        return "the Mcp-Name header is required for " + method;
    }
    auto decoded = decode_header_value(*headers.name);
    if (!decoded) {
        return "the Mcp-Name header has a malformed Base64 value";
    }
    if (*decoded != params.at(field).get_ref<const std::string&>()) {
        return "Mcp-Name header value '" + *headers.name + "' does not match body value '" +
               params.at(field).get<std::string>() + "'";
    }
    return std::nullopt;
}

std::optional<std::string> check_param_headers(const json& input_schema, const json& arguments,
                                               const MirroredHeaders& headers) {
    std::vector<Annotated> annotated;
    std::vector<std::string> path;
    collect(input_schema, path, annotated, 0);
    for (const auto& a : annotated) {
        const std::string* raw = nullptr;
        for (const auto& [name, value] : headers.params) {
            if (name == a.header) {
                raw = &value;
                break;
            }
        }
        const json* value = value_at(arguments, a.path);
        const bool has_value = value != nullptr && !value->is_null();
        if (raw == nullptr) {
            if (has_value) {
                return "the Mcp-Param-" + a.header + " header is required (the argument is set)";
            }
            continue;
        }
        if (!valid_field_value(*raw)) {
            return "the Mcp-Param-" + a.header + " header contains invalid characters";
        }
        if (!has_value) {
            return "the Mcp-Param-" + a.header + " header is set but the argument is not";
        }
        auto decoded = decode_header_value(*raw);
        if (!decoded || !header_matches(*decoded, *value)) {
            return "the Mcp-Param-" + a.header + " header does not match the argument";
        }
    }
    return std::nullopt;
}

} // namespace agentd::protocols::mcp::detail
