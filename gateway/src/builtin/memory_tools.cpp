#include "builtin/memory_tools.h"

#include <nlohmann/json.hpp>

namespace agentd::gateway::builtin {
namespace {

using json = nlohmann::json;

enum class Op { store, search, remove };

const json kNamespace = {
    {"anyOf",
     json::array({{{"type", "string"}},
                  {{"type", "array"}, {"items", {{"type", "string"}}}, {"maxItems", 100}}})},
    {"description", "Namespace(s); all of the caller's namespaces when absent"}};

const json kFilter = {{"type", "object"},
                      {"description", "Metadata filter: {\"field\": value}, $eq $ne $gt $gte $lt "
                                      "$lte $in $nin $exists, $and $or $not"}};

json store_input() {
    return {{"type", "object"},
            {"properties",
             {{"text", {{"type", "string"}, {"minLength", 1}, {"description", "What to remember"}}},
              {"namespace", {{"type", "string"}, {"description", "Namespace (default \"\")"}}},
              {"metadata", {{"type", "object"}, {"description", "Any JSON object to filter on"}}},
              {"pinned", {{"type", "boolean"}, {"description", "Always put in agent contexts"}}}}},
            {"required", json::array({"text"})},
            {"additionalProperties", false}};
}

json search_input() {
    return {
        {"type", "object"},
        {"properties",
         {{"query", {{"type", "string"}, {"minLength", 1}, {"description", "What to look for"}}},
          {"namespace", kNamespace},
          {"filter", kFilter},
          {"k", {{"type", "integer"}, {"minimum", 1}, {"maximum", 100}, {"default", 10}}},
          {"mode",
           {{"type", "string"},
            {"enum", json::array({"auto", "hybrid", "keyword", "vector"})},
            {"description", "auto: hybrid when a model is loaded, else keyword"}}}}},
        {"required", json::array({"query"})},
        {"additionalProperties", false}};
}

json delete_input() {
    return {
        {"type", "object"},
        {"properties",
         {{"id", {{"type", "integer"}, {"minimum", 1}}},
          {"ids",
           {{"type", "array"},
            {"items", {{"type", "integer"}, {"minimum", 1}}},
            {"minItems", 1},
            {"maxItems", 1000}}},
          {"namespace", kNamespace},
          {"filter", kFilter},
          {"all", {{"type", "boolean"}, {"description", "Delete every memory (of namespace)"}}}}},
        {"additionalProperties", false}};
}

json output_schema(Op op) {
    const json note = {{"type", "string"}};
    switch (op) {
    case Op::store:
        return {{"type", "object"},
                {"properties",
                 {{"id", {{"type", "integer"}}},
                  {"ids", {{"type", "array"}, {"items", {{"type", "integer"}}}}},
                  {"embedded", {{"type", "boolean"}}},
                  {"embedding_model", {{"type", "string"}}},
                  {"note", note}}},
                {"required", json::array({"id", "ids", "embedded"})}};
    case Op::search:
        return {{"type", "object"},
                {"properties",
                 {{"results",
                   {{"type", "array"},
                    {"items",
                     {{"type", "object"},
                      {"properties",
                       {{"id", {{"type", "integer"}}},
                        {"text", {{"type", "string"}}},
                        {"namespace", {{"type", "string"}}},
                        {"score", {{"type", "number"}}}}},
                      {"required", json::array({"id", "text", "score"})}}}}},
                  {"mode",
                   {{"type", "string"}, {"enum", json::array({"hybrid", "keyword", "vector"})}}},
                  {"embedding_model", {{"type", "string"}}},
                  {"note", note}}},
                {"required", json::array({"results", "mode"})}};
    case Op::remove:
        return {{"type", "object"},
                {"properties", {{"deleted", {{"type", "integer"}, {"minimum", 0}}}}},
                {"required", json::array({"deleted"})}};
    }
    return json::object();
}

class MemoryToolExecutor final : public tools::ToolExecutor {
public:
    MemoryToolExecutor(std::shared_ptr<MemoryService> service, Op op)
        : service_(std::move(service)), op_(op) {}

    void invoke(tools::ToolInvocation inv, tools::ToolCallback done) const override {
        json args = inv.arguments ? *inv.arguments : json::object();
        auto reply = [op = op_, done](MemoryReply r) {
            if (!r.ok()) {
                done(tools::ToolResult::error(r.message()));
                return;
            }
            if (op == Op::store && r.body.contains("ids") && !r.body["ids"].empty()) {
                r.body["id"] = r.body["ids"][0];
            }
            tools::ToolResult out = tools::ToolResult::text(
                r.body.dump(-1, ' ', false, json::error_handler_t::replace));
            out.structured_content = tools::share_json(r.body);
            done(std::move(out));
        };
        switch (op_) {
        case Op::store:
            service_->store(inv.tenant, std::move(args), std::move(reply));
            return;
        case Op::search:
            service_->search(inv.tenant, std::move(args), std::move(reply));
            return;
        case Op::remove:
            if (args.contains("id")) {
                if (args.size() != 1) {
                    done(tools::ToolResult::error("id: cannot be combined with other arguments"));
                    return;
                }
                service_->remove(inv.tenant, args["id"].get<std::int64_t>(), std::move(reply));
                return;
            }
            service_->remove_many(inv.tenant, std::move(args), std::move(reply));
            return;
        }
    }

private:
    std::shared_ptr<MemoryService> service_;
    Op op_;
};

base::Result<tools::ToolPtr> make_tool(const std::shared_ptr<MemoryService>& service, Op op,
                                       const char* name, const char* title, const char* description,
                                       json input, bool read_only) {
    tools::ToolDefinition def;
    def.name = name;
    def.title = title;
    def.description = description;
    def.input_schema = tools::share_json(input);
    def.output_schema = tools::share_json(output_schema(op));
    def.annotations = tools::share_json(json{{"readOnlyHint", read_only},
                                             {"destructiveHint", op == Op::remove},
                                             {"openWorldHint", false}});
    def.source = tools::ToolSource::memory;
    return tools::Tool::create(std::move(def), std::make_shared<MemoryToolExecutor>(service, op));
}

} // namespace

base::Result<std::vector<tools::ToolPtr>>
make_memory_tools(std::shared_ptr<MemoryService> service) {
    std::vector<tools::ToolPtr> out;
    const auto add = [&](base::Result<tools::ToolPtr> t) -> bool {
        if (t) {
            out.push_back(std::move(*t));
        }
        return static_cast<bool>(t);
    };
    auto store = make_tool(service, Op::store, "memory_store", "Store a memory",
                           "Stores a text (with optional namespace, metadata and pin) in the "
                           "caller's long-term memory; embedded for semantic search when a model "
                           "is loaded.",
                           store_input(), false);
    if (!add(store)) {
        return store.error();
    }
    auto search = make_tool(service, Op::search, "memory_search", "Search memories",
                            "Finds the caller's memories most relevant to a query: hybrid vector "
                            "+ keyword search when a model is loaded, else keyword (BM25); "
                            "namespace and metadata filters apply inside the search.",
                            search_input(), true);
    if (!add(search)) {
        return search.error();
    }
    auto remove = make_tool(service, Op::remove, "memory_delete", "Delete memories",
                            "Deletes one memory (id), several (ids), or those of a namespace "
                            "and/or matching a metadata filter (all: true for every one).",
                            delete_input(), false);
    if (!add(remove)) {
        return remove.error();
    }
    return out;
}

} // namespace agentd::gateway::builtin
