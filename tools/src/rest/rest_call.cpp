// Calling a REST tool: the request, the executor, and the mapping of every outcome.
#include "agentd/tools/errc.h"
#include "agentd/tools/rest_tool.h"

#include "schema/json_util.h"
#include "util/str_cat.h"
#include "util/text.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <utility>

namespace agentd::tools {
namespace {

using util::str_cat;

constexpr std::size_t max_error_body_bytes = 2000;
constexpr std::size_t max_response_depth = 128;

bool uses_query(std::string_view method) {
    return method == "GET" || method == "DELETE";
}

void percent_encode(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                                c == '~';
        if (unreserved) {
            out.push_back(c);
        } else {
            out.push_back('%');
            out.push_back(hex[u >> 4U]);
            out.push_back(hex[u & 0xFU]);
        }
    }
}

void append_param(std::string& query, std::string_view key, const nlohmann::json& value) {
    if (value.is_null()) {
        return;
    }
    if (!query.empty()) {
        query.push_back('&');
    }
    percent_encode(query, key);
    query.push_back('=');
    percent_encode(query, value.is_string() ? value.get_ref<const std::string&>() : value.dump());
}

/// Arguments as a query string: scalars as text, arrays as repeated keys, objects as JSON,
/// nulls omitted.
std::string to_query(const nlohmann::json& arguments) {
    std::string query;
    for (auto it = arguments.begin(); it != arguments.end(); ++it) {
        if (it->is_array()) {
            for (const auto& element : *it) {
                append_param(query, it.key(), element);
            }
        } else {
            append_param(query, it.key(), *it);
        }
    }
    return query;
}

bool has_header(const std::vector<std::pair<std::string, std::string>>& headers,
                std::string_view name) {
    return std::any_of(headers.begin(), headers.end(),
                       [&](const auto& h) { return util::iequals(h.first, name); });
}

std::string label(const RestToolSpec& spec) {
    return str_cat("REST endpoint ", spec.endpoint.method, " ", spec.endpoint.url);
}

ToolResult failure_result(const RestToolSpec& spec, const base::Error& error,
                          std::chrono::milliseconds timeout) {
    const std::string& why = error.message;
    if (error.code == errc::timeout) {
        return ToolResult::error(str_cat(label(spec), " did not answer within ",
                                         std::to_string(timeout.count()), " ms (timed out ", why,
                                         ")"));
    }
    if (error.code == errc::cancelled) {
        return ToolResult::error(str_cat("the call to ", label(spec), " was cancelled"));
    }
    return ToolResult::error(str_cat(label(spec), " failed: ", why));
}

ToolResult status_result(const RestToolSpec& spec, const HttpClientResponse& response) {
    std::string message = str_cat(label(spec), " answered HTTP ", std::to_string(response.status),
                                  response.reason.empty() ? "" : " ", response.reason);
    if (response.status >= 300 && response.status < 400) {
        const std::string location = response.header("Location");
        message +=
            str_cat(" (redirects are not followed",
                    location.empty() ? "" : "; Location: ", util::safe_excerpt(location, 300), ")");
    }
    if (!response.body.empty()) {
        message += str_cat(": ", util::safe_excerpt(response.body, max_error_body_bytes));
    }
    return ToolResult::error(std::move(message));
}

ToolResult success_result(const RestToolSpec& spec, const HttpClientResponse& response) {
    const bool wants_object = spec.definition.output_schema != nullptr;
    const std::string status = std::to_string(response.status);
    if (response.body.empty()) {
        if (wants_object) {
            return ToolResult::error(str_cat(label(spec), " answered HTTP ", status,
                                             " with an empty body, but the tool declares an "
                                             "output schema"));
        }
        return ToolResult::text(str_cat("(HTTP ", status, ", empty response)"));
    }
    auto value = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) {
        const std::string type = response.header("Content-Type");
        return ToolResult::error(str_cat(
            label(spec), " answered HTTP ", status, " with a body that is not JSON (Content-Type: ",
            type.empty() ? std::string("none") : util::safe_excerpt(type, 100),
            "): ", util::safe_excerpt(response.body, 200)));
    }
    if (schema::json_depth(value, max_response_depth) > max_response_depth) {
        return ToolResult::error(str_cat(label(spec), " answered JSON nested deeper than ",
                                         std::to_string(max_response_depth), " levels"));
    }
    ToolResult result =
        ToolResult::text(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    if (value.is_object()) {
        result.structured_content = std::make_shared<const nlohmann::json>(std::move(value));
    } else if (wants_object) {
        return ToolResult::error(str_cat(label(spec), " answered a JSON ", value.type_name(),
                                         ", but the tool's output schema requires an object"));
    }
    return result;
}

/// Runs one REST tool. Immutable; shared by every call of the tool.
class RestExecutor final : public ToolExecutor {
public:
    RestExecutor(std::shared_ptr<const RestToolSpec> spec, std::shared_ptr<HttpClient> client,
                 RestToolPolicy policy)
        : spec_(std::move(spec)), client_(std::move(client)), policy_(std::move(policy)) {}

    void invoke(ToolInvocation invocation, ToolCallback done) const override {
        HttpClientRequest request =
            build_rest_request(*spec_, *invocation.arguments, policy_, invocation.deadline);
        request.cancel = invocation.cancel;
        const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
            request.deadline - std::chrono::steady_clock::now());
        client_->send(std::move(request),
                      [spec = spec_, timeout = std::max(timeout, std::chrono::milliseconds(0)),
                       done = std::move(done)](base::Result<HttpClientResponse> outcome) {
                          done(map_rest_response(*spec, outcome, timeout));
                      });
    }

private:
    std::shared_ptr<const RestToolSpec> spec_;
    std::shared_ptr<HttpClient> client_;
    RestToolPolicy policy_;
};

} // namespace

std::string HttpClientResponse::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (util::iequals(key, name)) {
            return value;
        }
    }
    return {};
}

HttpClientRequest build_rest_request(const RestToolSpec& spec, const nlohmann::json& arguments,
                                     const RestToolPolicy& policy,
                                     std::chrono::steady_clock::time_point deadline) {
    const auto& ep = spec.endpoint;
    HttpClientRequest request;
    request.method = ep.method;
    request.tls = ep.parsed.tls;
    request.host = ep.parsed.host;
    request.port = ep.parsed.port;
    request.target = ep.parsed.target;
    request.headers = ep.headers;
    if (!has_header(request.headers, "Accept")) {
        request.headers.emplace_back("Accept", "application/json");
    }
    if (!has_header(request.headers, "User-Agent")) {
        request.headers.emplace_back("User-Agent", "agentd-rest-tool/1");
    }
    if (uses_query(ep.method)) {
        const std::string query = to_query(arguments);
        if (!query.empty()) {
            request.target +=
                str_cat(request.target.find('?') == std::string::npos ? "?" : "&", query);
        }
    } else {
        request.headers.emplace_back("Content-Type", "application/json");
        request.body = arguments.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    request.deadline = std::min(deadline, std::chrono::steady_clock::now() + spec.timeout);
    request.max_response_bytes = policy.max_response_bytes;
    request.policy = policy.net;
    return request;
}

ToolResult map_rest_response(const RestToolSpec& spec,
                             const base::Result<HttpClientResponse>& outcome,
                             std::chrono::milliseconds timeout) {
    if (!outcome) {
        return failure_result(spec, outcome.error(), timeout);
    }
    if (outcome->status < 200 || outcome->status > 299) {
        return status_result(spec, *outcome);
    }
    return success_result(spec, *outcome);
}

base::Result<ToolPtr> make_rest_tool(RestToolSpec spec, std::shared_ptr<HttpClient> client,
                                     const RestToolPolicy& policy) {
    if (!client) {
        return base::fail(errc::invalid_argument, "REST tools need an HTTP client");
    }
    auto details = share_json(rest_spec_to_json(spec, /*redact=*/true));
    ToolDefinition definition = spec.definition;
    definition.source = ToolSource::rest;
    auto shared_spec = std::make_shared<const RestToolSpec>(std::move(spec));
    auto executor = std::make_shared<const RestExecutor>(shared_spec, std::move(client), policy);
    return Tool::create(std::move(definition), std::move(executor), std::move(details),
                        policy.schema);
}

} // namespace agentd::tools
