// parse_rest_registration and rest_spec_to_json.
#include "agentd/tools/errc.h"
#include "agentd/tools/rest_tool.h"

#include "util/str_cat.h"
#include "util/text.h"

#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <utility>

namespace agentd::tools {
namespace {

using util::str_cat;

constexpr std::array<std::string_view, 8> known_fields{
    "name",          "title",       "description", "input_schema",
    "output_schema", "annotations", "endpoint",    "timeout_ms"};

constexpr std::array<std::pair<std::string_view, std::string_view>, 6> field_hints{{
    {"inputSchema", "input_schema"},
    {"outputSchema", "output_schema"},
    {"timeout", "timeout_ms"},
    {"timeoutMs", "timeout_ms"},
    {"url", "endpoint.url"},
    {"method", "endpoint.method"},
}};

// Headers the client manages itself (framing, connection, the JSON body's type).
constexpr std::array<std::string_view, 12> reserved_headers{"host",
                                                            "content-length",
                                                            "transfer-encoding",
                                                            "connection",
                                                            "keep-alive",
                                                            "upgrade",
                                                            "te",
                                                            "trailer",
                                                            "expect",
                                                            "proxy-connection",
                                                            "content-type",
                                                            "content-encoding"};

constexpr std::array<std::string_view, 5> methods{"GET", "POST", "PUT", "PATCH", "DELETE"};

base::Error invalid(std::string message) {
    return base::fail(errc::invalid_argument, std::move(message));
}

bool is_tchar(char c) {
    static constexpr std::string_view specials = "!#$%&'*+-.^_`|~";
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           specials.find(c) != std::string_view::npos;
}

base::Result<void> check_fields(const nlohmann::json& body) {
    for (auto it = body.begin(); it != body.end(); ++it) {
        bool known = false;
        for (const auto f : known_fields) {
            known = known || it.key() == f;
        }
        if (known) {
            continue;
        }
        std::string message = str_cat("unknown field \"", util::safe_excerpt(it.key(), 64), "\"");
        for (const auto& [wrong, right] : field_hints) {
            if (it.key() == wrong) {
                message += str_cat(" (did you mean \"", right, "\"?)");
            }
        }
        return invalid(str_cat(message, "; allowed: name, title, description, input_schema, "
                                        "output_schema, annotations, endpoint, timeout_ms"));
    }
    return {};
}

base::Result<std::string> string_field(const nlohmann::json& body, std::string_view field,
                                       bool required, std::size_t max_bytes) {
    const auto it = body.find(field);
    if (it == body.end()) {
        if (required) {
            return invalid(str_cat(field, ": required"));
        }
        return std::string();
    }
    if (!it->is_string()) {
        return invalid(str_cat(field, ": must be a string, not ", it->type_name()));
    }
    const auto& s = it->get_ref<const std::string&>();
    if (s.size() > max_bytes) {
        return invalid(str_cat(field, ": is ", std::to_string(s.size()),
                               " bytes long; the limit is ", std::to_string(max_bytes)));
    }
    return s;
}

base::Result<JsonPtr> schema_field(const nlohmann::json& body, std::string_view field,
                                   bool required, const RestToolPolicy& policy) {
    const auto it = body.find(field);
    if (it == body.end()) {
        if (required) {
            return invalid(str_cat(field, ": required (a JSON Schema with \"type\": \"object\")"));
        }
        return JsonPtr{};
    }
    if (!it->is_object()) {
        return invalid(str_cat(field, ": must be a JSON Schema object, not ", it->type_name()));
    }
    const std::size_t size = it->dump().size();
    if (size > policy.max_schema_bytes) {
        return invalid(str_cat(field, ": is ", std::to_string(size), " bytes long; the limit is ",
                               std::to_string(policy.max_schema_bytes)));
    }
    if (it->value("type", nlohmann::json()) != "object") {
        return base::fail(errc::invalid_schema,
                          str_cat(field, ": the root must have \"type\": \"object\" (MCP tools "
                                         "take and return JSON objects)"));
    }
    auto compiled = JsonSchema::compile(*it, policy.schema);
    if (!compiled) {
        return base::fail(errc::invalid_schema, str_cat(field, ": ", compiled.error().message));
    }
    return share_json(*it);
}

base::Result<JsonPtr> annotations_field(const nlohmann::json& body) {
    const auto it = body.find("annotations");
    if (it == body.end()) {
        return JsonPtr{};
    }
    if (!it->is_object()) {
        return invalid(str_cat("annotations: must be an object, not ", it->type_name()));
    }
    for (auto a = it->begin(); a != it->end(); ++a) {
        const bool hint = a.key() == "readOnlyHint" || a.key() == "destructiveHint" ||
                          a.key() == "idempotentHint" || a.key() == "openWorldHint";
        if (hint && !a->is_boolean()) {
            return invalid(str_cat("annotations.", a.key(), ": must be a boolean"));
        }
        if (a.key() == "title" && !a->is_string()) {
            return invalid("annotations.title: must be a string");
        }
    }
    return share_json(*it);
}

base::Result<void> check_header(std::string_view name, const nlohmann::json& value,
                                const RestToolPolicy& policy) {
    const std::string where = str_cat("endpoint.headers.", util::safe_excerpt(name, 64));
    if (name.empty() || name.size() > policy.max_header_name_bytes) {
        return invalid(str_cat(where, ": header names must be 1-",
                               std::to_string(policy.max_header_name_bytes), " characters long"));
    }
    for (const char c : name) {
        if (!is_tchar(c)) {
            return invalid(str_cat(where, ": header names may contain only letters, digits and "
                                          "!#$%&'*+-.^_`|~"));
        }
    }
    for (const auto r : reserved_headers) {
        if (util::iequals(name, r)) {
            return invalid(str_cat(where, ": this header is set by agentd and cannot be "
                                          "configured"));
        }
    }
    if (util::ascii_lower(name).rfind("proxy-", 0) == 0) {
        return invalid(str_cat(where, ": proxy headers cannot be configured"));
    }
    if (!value.is_string()) {
        return invalid(str_cat(where, ": must be a string, not ", value.type_name()));
    }
    const auto& v = value.get_ref<const std::string&>();
    if (v.size() > policy.max_header_value_bytes) {
        return invalid(str_cat(where, ": value is longer than ",
                               std::to_string(policy.max_header_value_bytes), " bytes"));
    }
    for (const char c : v) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7F) {
            return invalid(str_cat(where, ": value contains a control character (CR, LF, NUL, "
                                          "...)"));
        }
    }
    if (!v.empty() &&
        (v.front() == ' ' || v.front() == '\t' || v.back() == ' ' || v.back() == '\t')) {
        return invalid(str_cat(where, ": value must not begin or end with whitespace"));
    }
    return {};
}

base::Result<RestEndpoint> endpoint_field(const nlohmann::json& body,
                                          const RestToolPolicy& policy) {
    const auto it = body.find("endpoint");
    if (it == body.end()) {
        return invalid("endpoint: required ({\"url\": ..., \"method\": ..., \"headers\"?: {...}})");
    }
    if (!it->is_object()) {
        return invalid(str_cat("endpoint: must be an object, not ", it->type_name()));
    }
    for (auto f = it->begin(); f != it->end(); ++f) {
        if (f.key() != "url" && f.key() != "method" && f.key() != "headers") {
            return invalid(str_cat("endpoint: unknown field \"", util::safe_excerpt(f.key(), 64),
                                   "\"; allowed: url, method, headers"));
        }
    }
    RestEndpoint ep;
    auto url = string_field(*it, "url", true, policy.max_url_bytes);
    if (!url) {
        return invalid(str_cat("endpoint.", url.error().message));
    }
    ep.url = std::move(*url);
    auto parsed = parse_endpoint_url(ep.url, policy);
    if (!parsed) {
        return parsed.error();
    }
    ep.parsed = std::move(*parsed);
    auto method = string_field(*it, "method", false, 16);
    if (!method) {
        return invalid(str_cat("endpoint.", method.error().message));
    }
    ep.method = method->empty() ? "POST" : *method;
    bool known_method = false;
    for (const auto m : methods) {
        known_method = known_method || ep.method == m;
    }
    if (!known_method) {
        return invalid(str_cat("endpoint.method: must be GET, POST, PUT, PATCH or DELETE (upper "
                               "case), not \"",
                               util::safe_excerpt(ep.method, 16), "\""));
    }
    const auto headers = it->find("headers");
    if (headers == it->end()) {
        return ep;
    }
    if (!headers->is_object()) {
        return invalid(str_cat("endpoint.headers: must be an object of name: value strings, not ",
                               headers->type_name()));
    }
    if (headers->size() > policy.max_headers) {
        return invalid(
            str_cat("endpoint.headers: at most ", std::to_string(policy.max_headers), " headers"));
    }
    for (auto h = headers->begin(); h != headers->end(); ++h) {
        if (auto ok = check_header(h.key(), *h, policy); !ok) {
            return ok.error();
        }
        for (const auto& [seen, value] : ep.headers) {
            if (util::iequals(seen, h.key())) {
                return invalid(str_cat("endpoint.headers: \"", h.key(), "\" and \"", seen,
                                       "\" are the same header"));
            }
        }
        ep.headers.emplace_back(h.key(), h->get<std::string>());
    }
    return ep;
}

base::Result<std::chrono::milliseconds> timeout_field(const nlohmann::json& body,
                                                      const RestToolPolicy& policy) {
    const auto it = body.find("timeout_ms");
    if (it == body.end()) {
        return policy.default_timeout;
    }
    const auto max = policy.max_timeout.count();
    const bool integral =
        it->is_number_integer() || (it->is_number_float() && std::isfinite(it->get<double>()) &&
                                    std::trunc(it->get<double>()) == it->get<double>());
    if (!integral) {
        return invalid(str_cat("timeout_ms: must be an integer number of milliseconds, not ",
                               util::safe_excerpt(it->dump(), 40)));
    }
    const double value = it->get<double>();
    if (value < 1 || value > static_cast<double>(max)) {
        return invalid(str_cat("timeout_ms: must be between 1 and ", std::to_string(max), ", not ",
                               it->dump()));
    }
    return std::chrono::milliseconds(static_cast<long long>(value));
}

bool is_secret_header(std::string_view name) {
    const std::string lower = util::ascii_lower(name);
    for (const char* marker : {"auth", "cookie", "key", "token", "secret", "password", "credential",
                               "signature", "session"}) {
        if (lower.find(marker) != std::string::npos) {
            return true;
        }
    }
    return false;
}

} // namespace

base::Result<RestToolSpec> parse_rest_registration(const nlohmann::json& body,
                                                   const RestToolPolicy& policy) {
    if (!body.is_object()) {
        return invalid(str_cat("the request body must be a JSON object, not ", body.type_name()));
    }
    if (auto ok = check_fields(body); !ok) {
        return ok.error();
    }
    RestToolSpec spec;
    auto& def = spec.definition;
    def.source = ToolSource::rest;
    auto name = string_field(body, "name", true, policy.max_name_bytes);
    if (!name) {
        return name.error();
    }
    if (!is_valid_tool_name(*name)) {
        return invalid(str_cat("name: must be 1-128 characters of A-Z a-z 0-9 _ - . (got \"",
                               util::safe_excerpt(*name, 64), "\")"));
    }
    def.name = std::move(*name);
    auto title = string_field(body, "title", false, policy.max_title_bytes);
    auto description = string_field(body, "description", true, policy.max_description_bytes);
    if (!title || !description) {
        return !title ? title.error() : description.error();
    }
    if (description->empty()) {
        return invalid("description: must not be empty (it tells the model what the tool does)");
    }
    def.title = std::move(*title);
    def.description = std::move(*description);
    auto input = schema_field(body, "input_schema", true, policy);
    if (!input) {
        return input.error();
    }
    auto output = schema_field(body, "output_schema", false, policy);
    if (!output) {
        return output.error();
    }
    auto annotations = annotations_field(body);
    if (!annotations) {
        return annotations.error();
    }
    def.input_schema = std::move(*input);
    def.output_schema = std::move(*output);
    def.annotations = std::move(*annotations);
    auto endpoint = endpoint_field(body, policy);
    if (!endpoint) {
        return endpoint.error();
    }
    spec.endpoint = std::move(*endpoint);
    auto timeout = timeout_field(body, policy);
    if (!timeout) {
        return timeout.error();
    }
    spec.timeout = *timeout;
    return spec;
}

nlohmann::json rest_spec_to_json(const RestToolSpec& spec, bool redact) {
    nlohmann::json j = to_registration_json(spec.definition);
    nlohmann::json headers = nlohmann::json::object();
    for (const auto& [name, value] : spec.endpoint.headers) {
        headers[name] = redact && is_secret_header(name) ? std::string("<redacted>") : value;
    }
    j["endpoint"] = {{"url", spec.endpoint.url},
                     {"method", spec.endpoint.method},
                     {"headers", std::move(headers)}};
    j["timeout_ms"] = spec.timeout.count();
    return j;
}

} // namespace agentd::tools
