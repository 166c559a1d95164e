#include "http/handler.h"

#include "http/text.h"

#include <algorithm>

namespace agentd::gateway::http {

std::optional<std::string_view> Headers::get(std::string_view name) const {
    for (const auto& [key, value] : items_) {
        if (iequals(key, name)) {
            return std::string_view(value);
        }
    }
    return std::nullopt;
}

std::vector<std::string_view> Headers::get_all(std::string_view name) const {
    std::vector<std::string_view> out;
    for (const auto& [key, value] : items_) {
        if (iequals(key, name)) {
            out.emplace_back(value);
        }
    }
    return out;
}

bool Principal::has_scope(std::string_view scope) const {
    return std::any_of(scopes.begin(), scopes.end(),
                       [&](const std::string& s) { return s == "*" || s == scope; });
}

std::optional<std::string_view> Request::path_param(std::string_view name) const {
    for (const auto& [key, value] : path_params) {
        if (key == name) {
            return std::string_view(value);
        }
    }
    return std::nullopt;
}

std::optional<std::string> Request::query_param(std::string_view name) const {
    std::string_view rest = query;
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
        const auto eq = pair.find('=');
        const auto key = percent_decode(pair.substr(0, eq), /*plus_is_space=*/true);
        if (!key || *key != name) {
            continue;
        }
        if (eq == std::string_view::npos) {
            return std::string();
        }
        // A malformed value reads as absent rather than as a wrong value.
        return percent_decode(pair.substr(eq + 1), /*plus_is_space=*/true);
    }
    return std::nullopt;
}

Response Response::json(unsigned status, std::string body) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

Response Response::error(unsigned status, std::string_view code, std::string_view message) {
    std::string body;
    body.reserve(40 + code.size() + message.size());
    body.append(R"({"error":{"code":)");
    append_json_string(body, code);
    body.append(R"(,"message":)");
    append_json_string(body, message);
    body.append("}}");
    return json(status, std::move(body));
}

} // namespace agentd::gateway::http
