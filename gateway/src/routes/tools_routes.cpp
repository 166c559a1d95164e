#include "routes/tools_routes.h"

#include "agentd/tools/errc.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <utility>

namespace agentd::gateway::routes {
namespace {

using json = nlohmann::json;

constexpr std::size_t max_body_depth = 160;
constexpr std::size_t default_page = 100;
constexpr std::size_t max_page = 1000;

/// How a tools error reaches the client.
http::Response error_response(const base::Error& e) {
    using tools::errc;
    if (e.code == errc::invalid_argument || e.code == errc::invalid_schema) {
        return http::Response::error(400, "invalid_tool", e.message);
    }
    if (e.code == errc::forbidden) {
        return http::Response::error(400, "forbidden_endpoint", e.message);
    }
    if (e.code == errc::conflict) {
        return http::Response::error(409, "tool_exists", e.message);
    }
    if (e.code == errc::not_found) {
        return http::Response::error(404, "tool_not_found", e.message);
    }
    if (e.code == errc::limit_exceeded) {
        return http::Response::error(409, "tool_limit_reached", e.message);
    }
    if (e.code == errc::busy) {
        auto r = http::Response::error(503, "busy", e.message);
        r.headers.add("Retry-After", "1");
        return r;
    }
    return http::Response::error(500, "storage_failed", e.what());
}

/// What GET shows for a tool: the registration of REST tools (redacted), the MCP-shaped
/// definition of others; both with their source.
json describe(const tools::Tool& tool) {
    json j;
    if (tool.details() && tool.details()->is_object()) {
        j = *tool.details();
    } else {
        j = tools::to_registration_json(tool.definition());
    }
    j["source"] = std::string(tools::to_string(tool.definition().source));
    return j;
}

std::size_t depth_of(const json& v) {
    std::size_t deepest = 0;
    std::vector<std::pair<const json*, std::size_t>> stack{{&v, 0}};
    while (!stack.empty()) {
        const auto [node, depth] = stack.back();
        stack.pop_back();
        if (!node->is_structured()) {
            continue;
        }
        deepest = std::max(deepest, depth + 1);
        if (deepest > max_body_depth) {
            return deepest;
        }
        for (const auto& child : *node) {
            stack.emplace_back(&child, depth + 1);
        }
    }
    return deepest;
}

/// Parses a JSON request body; on failure answers and returns nullopt.
std::optional<json> parse_body(const http::Request& request, http::ResponseWriter& writer) {
    const auto type = request.header("Content-Type");
    const std::string_view media = type ? type->substr(0, type->find(';')) : std::string_view{};
    if (media.find("json") == std::string_view::npos) {
        writer.respond(http::Response::error(415, "unsupported_media_type",
                                             "the request body must be JSON (Content-Type: "
                                             "application/json)"));
        return std::nullopt;
    }
    try {
        json body = json::parse(request.body);
        if (depth_of(body) > max_body_depth) {
            writer.respond(http::Response::error(400, "invalid_json",
                                                 "the request body is nested deeper than " +
                                                     std::to_string(max_body_depth) + " levels"));
            return std::nullopt;
        }
        return body;
    } catch (const json::exception& e) {
        std::string what = e.what();
        if (const auto close = what.find("] "); close != std::string::npos) {
            what = what.substr(close + 2); // drop "[json.exception.parse_error.101] "
        }
        writer.respond(http::Response::error(400, "invalid_json",
                                             "the request body is not valid JSON: " + what));
        return std::nullopt;
    }
}

void handle_register(const ToolsRoutesDeps& deps, http::Request&& request,
                     const http::ResponseWriterPtr& writer) {
    auto body = parse_body(request, *writer);
    if (!body) {
        return;
    }
    deps.run_blocking(
        [rest = deps.rest, tenant = request.principal.tenant, body = std::move(*body), writer] {
            try {
                auto tool = rest->register_tool(tenant, body);
                if (!tool) {
                    writer->respond(error_response(tool.error()));
                    return;
                }
                auto response = http::Response::json(201, describe(**tool).dump());
                response.headers.add("Location", "/v1/tools/" + (*tool)->name());
                writer->respond(std::move(response));
            } catch (const std::exception& e) {
                writer->respond(http::Response::error(500, "internal_error", e.what()));
            }
        });
}

void handle_list(const ToolsRoutesDeps& deps, http::Request&& request,
                 const http::ResponseWriterPtr& writer) {
    std::size_t limit = default_page;
    if (const auto text = request.query_param("limit")) {
        const auto* end = text->data() + text->size();
        const auto [ptr, ec] = std::from_chars(text->data(), end, limit);
        if (ec != std::errc() || ptr != end || limit == 0 || limit > max_page) {
            writer->respond(http::Response::error(400, "invalid_request",
                                                  "limit: must be an integer from 1 to " +
                                                      std::to_string(max_page)));
            return;
        }
    }
    const std::string cursor = request.query_param("cursor").value_or("");
    const auto catalog = deps.registry->catalog(request.principal.tenant);
    const auto page = catalog->page_after(cursor, limit);
    json tools = json::array();
    for (const auto& tool : page) {
        tools.push_back(describe(*tool));
    }
    json out = {{"tools", std::move(tools)}};
    if (!page.empty() && catalog->page_after(page.back()->name(), 1).size() == 1) {
        out["next_cursor"] = page.back()->name();
    }
    writer->respond(http::Response::json(200, out.dump()));
}

void handle_get(const ToolsRoutesDeps& deps, http::Request&& request,
                const http::ResponseWriterPtr& writer) {
    const std::string name(request.path_param("name").value_or(""));
    const auto tool = deps.registry->find(request.principal.tenant, name);
    if (!tool) {
        writer->respond(
            http::Response::error(404, "tool_not_found", "no tool named \"" + name + "\""));
        return;
    }
    writer->respond(http::Response::json(200, describe(*tool).dump()));
}

void handle_delete(const ToolsRoutesDeps& deps, http::Request&& request,
                   const http::ResponseWriterPtr& writer) {
    deps.run_blocking([rest = deps.rest, tenant = request.principal.tenant,
                       name = std::string(request.path_param("name").value_or("")), writer] {
        try {
            auto removed = rest->unregister(tenant, name);
            if (!removed) {
                writer->respond(error_response(removed.error()));
                return;
            }
            http::Response response;
            response.status = 204;
            writer->respond(std::move(response));
        } catch (const std::exception& e) {
            writer->respond(http::Response::error(500, "internal_error", e.what()));
        }
    });
}

} // namespace

void register_tools_routes(http::Router& router, ToolsRoutesDeps deps) {
    using Handler =
        void (*)(const ToolsRoutesDeps&, http::Request&&, const http::ResponseWriterPtr&);
    auto shared = std::make_shared<const ToolsRoutesDeps>(std::move(deps));
    const auto add = [&](const char* method, const char* path, Handler handler) {
        http::RouteOptions options;
        options.scope = "tools";
        options.metrics_name = path;
        router.add(
            method, path,
            [shared, handler](http::Request&& r, http::ResponseWriterPtr w) {
                handler(*shared, std::move(r), w);
            },
            options);
    };
    add("POST", "/v1/tools", &handle_register);
    add("GET", "/v1/tools", &handle_list);
    add("GET", "/v1/tools/{name}", &handle_get);
    add("DELETE", "/v1/tools/{name}", &handle_delete);
}

} // namespace agentd::gateway::routes
