#include "routes/memory_routes.h"

#include "agentd/tools/tool_registry.h"

#include "app/app_context.h"
#include "builtin/builtin_tools.h"
#include "openai/openai_module.h"
#include "routes/json_body.h"

#include <charconv>

namespace agentd::gateway::routes {
namespace {

using builtin::MemoryReply;
using builtin::MemoryService;
using json = nlohmann::json;
using ServicePtr = std::shared_ptr<MemoryService>;

MemoryService::Done answer(const http::ResponseWriterPtr& writer) {
    return [writer](MemoryReply r) {
        if (r.status == 200 && r.body.is_null()) {
            http::Response none;
            none.status = 204;
            writer->respond(std::move(none));
            return;
        }
        writer->respond(json_response(r.status, r.body));
    };
}

/// The {id} path parameter, or nullopt after answering 400.
std::optional<std::int64_t> path_id(const http::Request& request, http::ResponseWriter& writer) {
    const auto text = request.path_param("id").value_or("");
    std::int64_t id = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc() || ptr != text.data() + text.size() || id < 1) {
        writer.respond(http::Response::error(400, "invalid_request",
                                             "id: must be a positive integer memory id"));
        return std::nullopt;
    }
    return id;
}

void handle_store(const ServicePtr& s, http::Request&& r, const http::ResponseWriterPtr& w) {
    if (auto body = read_json_body(r, *w)) {
        s->store(r.principal.tenant, std::move(*body), answer(w));
    }
}

void handle_search(const ServicePtr& s, http::Request&& r, const http::ResponseWriterPtr& w) {
    if (auto body = read_json_body(r, *w)) {
        s->search(r.principal.tenant, std::move(*body), answer(w));
    }
}

void handle_bulk_delete(const ServicePtr& s, http::Request&& r, const http::ResponseWriterPtr& w) {
    if (auto body = read_json_body(r, *w)) {
        s->remove_many(r.principal.tenant, std::move(*body), answer(w));
    }
}

void handle_list(const ServicePtr& s, http::Request&& r, const http::ResponseWriterPtr& w) {
    json query = json::object();
    if (const auto ns = r.query_param("namespace")) {
        query["namespace"] = *ns;
    }
    if (const auto text = r.query_param("limit")) {
        std::size_t limit = 0;
        const auto* end = text->data() + text->size();
        const auto [ptr, ec] = std::from_chars(text->data(), end, limit);
        if (ec != std::errc() || ptr != end || limit == 0 || limit > 1000) {
            w->respond(http::Response::error(400, "invalid_request",
                                             "limit: must be an integer from 1 to 1000"));
            return;
        }
        query["limit"] = limit;
    }
    if (const auto cursor = r.query_param("cursor")) {
        query["cursor"] = *cursor;
    }
    s->list(r.principal.tenant, std::move(query), answer(w));
}

void handle_get(const ServicePtr& s, http::Request&& r, const http::ResponseWriterPtr& w) {
    if (const auto id = path_id(r, *w)) {
        s->get(r.principal.tenant, *id, answer(w));
    }
}

void handle_delete(const ServicePtr& s, http::Request&& r, const http::ResponseWriterPtr& w) {
    if (const auto id = path_id(r, *w)) {
        s->remove(r.principal.tenant, *id, [w](MemoryReply reply) {
            if (reply.ok()) {
                http::Response none;
                none.status = 204;
                w->respond(std::move(none));
                return;
            }
            w->respond(json_response(reply.status, reply.body));
        });
    }
}

} // namespace

void register_memory_module(app::AppContext& context) {
    auto database = context.find_service<memory::Database>();
    if (!database) {
        throw std::runtime_error("the memory module needs the database (the tools module)");
    }
    auto service = std::make_shared<MemoryService>(
        database, context.find_service<openai::OpenAiModule>(), context.blocking());
    using Handler = void (*)(const ServicePtr&, http::Request&&, const http::ResponseWriterPtr&);
    const auto add = [&](const char* method, const char* path, Handler handler) {
        http::RouteOptions options;
        options.scope = "memory";
        options.metrics_name = path;
        context.router().add(
            method, path,
            [service, handler](http::Request&& r, http::ResponseWriterPtr w) {
                handler(service, std::move(r), w);
            },
            options);
    };
    add("POST", "/v1/memory", &handle_store);
    add("GET", "/v1/memory", &handle_list);
    add("POST", "/v1/memory/search", &handle_search);
    add("POST", "/v1/memory/delete", &handle_bulk_delete);
    add("GET", "/v1/memory/{id}", &handle_get);
    add("DELETE", "/v1/memory/{id}", &handle_delete);
    if (context.config().memory.tools) {
        auto registry = context.find_service<tools::ToolRegistry>();
        if (!registry) {
            throw std::runtime_error("memory tools: the tool registry is missing");
        }
        builtin::add_memory_tools(*registry, service);
    }
    context.provide(service);
    context.keep(std::make_unique<ServicePtr>(std::move(service)));
}

} // namespace agentd::gateway::routes
