// tools/list and tools/call.

#include "agentd/protocols/errc.h"

#include "mcp/methods.h"

namespace agentd::protocols::mcp::detail {

using nlohmann::json;

namespace {

json tool_json(const ToolInfo& tool) {
    json out = {{"name", tool.name}};
    if (!tool.title.empty()) {
        out["title"] = tool.title;
    }
    if (!tool.description.empty()) {
        out["description"] = tool.description;
    }
    out["inputSchema"] = tool.input_schema ? *tool.input_schema : json{{"type", "object"}};
    if (tool.output_schema) {
        out["outputSchema"] = *tool.output_schema;
    }
    if (tool.annotations) {
        out["annotations"] = *tool.annotations;
    }
    if (tool.icons) {
        out["icons"] = *tool.icons;
    }
    if (tool.meta) {
        out["_meta"] = *tool.meta;
    }
    return out;
}

// Shapes a provider's CallToolResult: `content` always an array; structured content mirrored as
// text for older clients; a tool that declares an output schema must return structured content.
void finish_call(const ToolInfo& tool, const ExchangePtr& ex, json&& result) {
    if (!result.contains("content")) {
        result["content"] = json::array();
    }
    if (!result.at("content").is_array() ||
        (result.contains("isError") && !result.at("isError").is_boolean())) {
        ex->respond_error(base::Error(errc::internal_error,
                                      "tool " + tool.name + " returned a malformed result"));
        return;
    }
    const bool is_error = result.value("isError", false);
    const bool structured = result.contains("structuredContent");
    if (structured && result.at("content").empty()) {
        result["content"].push_back(
            {{"type", "text"}, {"text", jsonrpc::serialize(result.at("structuredContent"))}});
    }
    if (tool.output_schema && !is_error && !structured) {
        result = {{"content",
                   {{{"type", "text"},
                     {"text", "tool " + tool.name +
                                  " declares an outputSchema but returned no structuredContent"}}}},
                  {"isError", true}};
    }
    ex->server().decorate(*ex, result, std::nullopt);
    ex->respond(result);
}

} // namespace

void tools_list(ServerImpl& server, const ExchangePtr& ex, const MirroredHeaders* /*headers*/) {
    auto tools = server.tools(ex->caller());
    auto page = paginate(server, ex, "tools", *tools,
                         [](const ToolInfo& t) -> const std::string& { return t.name; });
    if (!page) {
        return;
    }
    json list = json::array();
    for (std::size_t i = page->begin; i < page->end; ++i) {
        list.push_back(tool_json((*tools)[i]));
    }
    json result = {{"tools", std::move(list)}};
    if (page->next_cursor) {
        result["nextCursor"] = *page->next_cursor;
    }
    server.decorate(*ex, result, server.options().list_ttl);
    ex->respond(result);
}

void tools_call(ServerImpl& server, const ExchangePtr& ex, const MirroredHeaders* headers) {
    const json& params = ex->params();
    if (!params.contains("name") || !params.at("name").is_string()) {
        invalid_params(ex, "name must be a string");
        return;
    }
    const std::string name = params.at("name").get<std::string>();
    JsonPtr arguments;
    if (auto it = params.find("arguments"); it != params.end() && !it->is_null()) {
        if (!it->is_object()) {
            invalid_params(ex, "arguments must be an object");
            return;
        }
        arguments = JsonPtr(ex->params_ptr(), &*it); // aliases the request params
    } else {
        arguments = std::make_shared<const json>(json::object());
    }
    ToolInfo tool;
    auto owner = server.tool_owner(ex->caller(), name, tool);
    if (!owner) {
        invalid_params(ex, "Unknown tool: " + name);
        return;
    }
    if (headers != nullptr && tool.input_schema) {
        if (auto problem = check_param_headers(*tool.input_schema, *arguments, *headers)) {
            ex->respond_error(base::Error(errc::header_mismatch, "Header mismatch: " + *problem),
                              ResponseStatus::rejected);
            return;
        }
    }
    auto flow = std::make_shared<Flow>();
    flow->target = name;
    flow->allows_input = true;
    auto shared_tool = std::make_shared<const ToolInfo>(std::move(tool));
    flow->invoke = [owner, shared_tool, arguments](const std::shared_ptr<Attempt>& attempt) {
        owner->call_tool(*shared_tool, json(*arguments), attempt);
    };
    flow->finish = [shared_tool](const ExchangePtr& e, json&& result) {
        finish_call(*shared_tool, e, std::move(result));
    };
    run_flow(server, ex, std::move(flow));
}

} // namespace agentd::protocols::mcp::detail
