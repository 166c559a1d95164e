// resources/* and prompts/*.

#include "agentd/protocols/errc.h"

#include "mcp/connection_impl.h"
#include "mcp/methods.h"

#include <map>

namespace agentd::protocols::mcp::detail {

using nlohmann::json;

namespace {

void put_optional(json& out, const char* key, const std::string& value) {
    if (!value.empty()) {
        out[key] = value;
    }
}

void put_optional(json& out, const char* key, const JsonPtr& value) {
    if (value) {
        out[key] = *value;
    }
}

json resource_json(const ResourceInfo& r) {
    json out = {{"uri", r.uri}, {"name", r.name}};
    put_optional(out, "title", r.title);
    put_optional(out, "description", r.description);
    put_optional(out, "mimeType", r.mime_type);
    if (r.size) {
        out["size"] = *r.size;
    }
    put_optional(out, "annotations", r.annotations);
    put_optional(out, "icons", r.icons);
    put_optional(out, "_meta", r.meta);
    return out;
}

json template_json(const ResourceTemplateInfo& t) {
    json out = {{"uriTemplate", t.uri_template}, {"name", t.name}};
    put_optional(out, "title", t.title);
    put_optional(out, "description", t.description);
    put_optional(out, "mimeType", t.mime_type);
    put_optional(out, "annotations", t.annotations);
    put_optional(out, "icons", t.icons);
    put_optional(out, "_meta", t.meta);
    return out;
}

json prompt_json(const PromptInfo& p) {
    json out = {{"name", p.name}};
    put_optional(out, "title", p.title);
    put_optional(out, "description", p.description);
    if (!p.arguments.empty()) {
        json args = json::array();
        for (const auto& a : p.arguments) {
            json arg = {{"name", a.name}};
            put_optional(arg, "title", a.title);
            put_optional(arg, "description", a.description);
            if (a.required) {
                arg["required"] = true;
            }
            args.push_back(std::move(arg));
        }
        out["arguments"] = std::move(args);
    }
    put_optional(out, "icons", p.icons);
    put_optional(out, "_meta", p.meta);
    return out;
}

template <class T, class Key, class ToJson>
void list_page(ServerImpl& server, const ExchangePtr& ex, std::string_view kind, const char* field,
               const std::vector<T>& items, Key key, ToJson to_json) {
    auto page = paginate(server, ex, kind, items, key);
    if (!page) {
        return;
    }
    json list = json::array();
    for (std::size_t i = page->begin; i < page->end; ++i) {
        list.push_back(to_json(items[i]));
    }
    json result = {{field, std::move(list)}};
    if (page->next_cursor) {
        result["nextCursor"] = *page->next_cursor;
    }
    server.decorate(*ex, result, server.options().list_ttl);
    ex->respond(result);
}

const std::string* uri_param(const ExchangePtr& ex) {
    const json& params = ex->params();
    if (!params.contains("uri") || !params.at("uri").is_string() ||
        params.at("uri").get_ref<const std::string&>().empty()) {
        invalid_params(ex, "uri must be a non-empty string");
        return nullptr;
    }
    return &params.at("uri").get_ref<const std::string&>();
}

} // namespace

void resources_list(ServerImpl& server, const ExchangePtr& ex, const MirroredHeaders* /*h*/) {
    auto items = server.resources(ex->caller());
    list_page(
        server, ex, "resources", "resources", *items,
        [](const ResourceInfo& r) -> const std::string& { return r.uri; }, &resource_json);
}

void resources_templates_list(ServerImpl& server, const ExchangePtr& ex,
                              const MirroredHeaders* /*h*/) {
    auto items = server.templates(ex->caller());
    list_page(
        server, ex, "templates", "resourceTemplates", *items,
        [](const ResourceTemplateInfo& t) -> const std::string& { return t.uri_template; },
        &template_json);
}

void resources_read(ServerImpl& server, const ExchangePtr& ex, const MirroredHeaders* /*h*/) {
    const std::string* uri = uri_param(ex);
    if (uri == nullptr) {
        return;
    }
    auto owner = server.resource_owner(ex->caller(), *uri);
    if (!owner) {
        ex->respond_error(base::Error(errc::resource_not_found, "Resource not found: " + *uri));
        return;
    }
    auto flow = std::make_shared<Flow>();
    flow->target = *uri;
    flow->allows_input = true;
    flow->invoke = [owner, target = *uri](const std::shared_ptr<Attempt>& attempt) {
        owner->read(target, attempt);
    };
    flow->finish = [](const ExchangePtr& e, json&& result) {
        if (!result.contains("contents") || !result.at("contents").is_array()) {
            e->respond_error(
                base::Error(errc::internal_error, "resource provider returned no contents"));
            return;
        }
        e->server().decorate(*e, result, e->server().options().read_ttl);
        e->respond(result);
    };
    run_flow(server, ex, std::move(flow));
}

void resources_subscribe(ServerImpl& /*server*/, const ExchangePtr& ex,
                         const MirroredHeaders* /*h*/) {
    const std::string* uri = uri_param(ex);
    if (uri == nullptr) {
        return;
    }
    auto conn = ex->connection();
    if (conn && !conn->subscribe(*uri)) {
        ex->respond_error(base::Error(errc::busy, "too many resource subscriptions"));
        return;
    }
    ex->respond(json::object());
}

void resources_unsubscribe(ServerImpl& /*server*/, const ExchangePtr& ex,
                           const MirroredHeaders* /*h*/) {
    const std::string* uri = uri_param(ex);
    if (uri == nullptr) {
        return;
    }
    if (auto conn = ex->connection()) {
        conn->unsubscribe(*uri);
    }
    ex->respond(json::object());
}

void prompts_list(ServerImpl& server, const ExchangePtr& ex, const MirroredHeaders* /*h*/) {
    auto items = server.prompts(ex->caller());
    list_page(
        server, ex, "prompts", "prompts", *items,
        [](const PromptInfo& p) -> const std::string& { return p.name; }, &prompt_json);
}

void prompts_get(ServerImpl& server, const ExchangePtr& ex, const MirroredHeaders* /*h*/) {
    const json& params = ex->params();
    if (!params.contains("name") || !params.at("name").is_string()) {
        invalid_params(ex, "name must be a string");
        return;
    }
    const std::string name = params.at("name").get<std::string>();
    std::map<std::string, std::string> arguments;
    if (auto it = params.find("arguments"); it != params.end() && !it->is_null()) {
        if (!it->is_object()) {
            invalid_params(ex, "arguments must be an object of strings");
            return;
        }
        for (const auto& [k, v] : it->items()) {
            if (!v.is_string()) {
                invalid_params(ex, "argument " + k + " must be a string");
                return;
            }
            arguments.emplace(k, v.get<std::string>());
        }
    }
    PromptInfo prompt;
    auto owner = server.prompt_owner(ex->caller(), name, prompt);
    if (!owner) {
        invalid_params(ex, "Unknown prompt: " + name);
        return;
    }
    for (const auto& arg : prompt.arguments) {
        if (arg.required && arguments.count(arg.name) == 0) {
            invalid_params(ex, "Missing required argument: " + arg.name);
            return;
        }
    }
    auto flow = std::make_shared<Flow>();
    flow->target = name;
    flow->allows_input = true;
    auto shared_prompt = std::make_shared<const PromptInfo>(std::move(prompt));
    flow->invoke = [owner, shared_prompt, arguments](const std::shared_ptr<Attempt>& attempt) {
        owner->get_prompt(*shared_prompt, arguments, attempt);
    };
    flow->finish = [](const ExchangePtr& e, json&& result) {
        if (!result.contains("messages") || !result.at("messages").is_array()) {
            e->respond_error(
                base::Error(errc::internal_error, "prompt provider returned no messages"));
            return;
        }
        e->server().decorate(*e, result, std::nullopt);
        e->respond(result);
    };
    run_flow(server, ex, std::move(flow));
}

} // namespace agentd::protocols::mcp::detail
