#include "agentd/tools/mcp_tool_catalog.h"

#include "agentd/protocols/errc.h"
#include "agentd/tools/tool_call.h"

#include "util/str_cat.h"

#include <nlohmann/json.hpp>

#include <map>
#include <mutex>
#include <utility>

namespace agentd::tools {
namespace {

namespace mcp = protocols::mcp;

mcp::ToolInfo to_info(const ToolDefinition& d) {
    mcp::ToolInfo info;
    info.name = d.name;
    info.title = d.title;
    info.description = d.description;
    info.input_schema = d.input_schema;
    info.output_schema = d.output_schema;
    info.annotations = d.annotations;
    info.icons = d.icons;
    info.meta = d.meta;
    return info;
}

class RegistryCatalog final : public mcp::ToolCatalog {
public:
    RegistryCatalog(std::shared_ptr<ToolRegistry> registry, McpCatalogOptions options)
        : registry_(std::move(registry)), options_(options) {}

    [[nodiscard]] std::shared_ptr<const std::vector<mcp::ToolInfo>>
    list_tools(const mcp::Caller& caller) const override {
        const CatalogPtr catalog = registry_->catalog(caller.tenant);
        const std::lock_guard lock(mutex_);
        auto& entry = cache_[caller.tenant];
        if (!entry.infos || entry.catalog != catalog) {
            auto infos = std::make_shared<std::vector<mcp::ToolInfo>>();
            infos->reserve(catalog->size());
            for (const auto& tool : catalog->tools()) {
                infos->push_back(to_info(tool->definition()));
            }
            entry.catalog = catalog;
            entry.infos = std::move(infos);
        }
        return entry.infos;
    }

    void call_tool(const mcp::ToolInfo& info, nlohmann::json&& arguments,
                   std::shared_ptr<mcp::RequestContext> ctx) override {
        const ToolPtr tool = registry_->find(ctx->caller().tenant, info.name);
        if (!tool) {
            ctx->fail(base::fail(protocols::errc::invalid_params,
                                 util::str_cat("Unknown tool: ", info.name)));
            return;
        }
        ToolInvocation invocation;
        invocation.tenant = ctx->caller().tenant;
        invocation.arguments = std::make_shared<const nlohmann::json>(std::move(arguments));
        invocation.cancel = std::make_shared<CancellationSignal>();
        invocation.deadline = std::chrono::steady_clock::now() + options_.max_call_duration;
        ctx->on_cancel([cancel = invocation.cancel] { cancel->cancel(); });
        if (ctx->wants_progress()) {
            invocation.progress = [ctx](double progress, std::optional<double> total,
                                        std::string_view message) {
                ctx->progress(progress, total, message);
            };
        }
        tools::call_tool(tool, std::move(invocation),
                         [ctx](ToolResult result) { ctx->complete(to_call_tool_result(result)); });
    }

    [[nodiscard]] mcp::Subscription watch(mcp::ChangeListener listener) override {
        return registry_->watch([listener = std::move(listener)](const CatalogChange& change) {
            mcp::ChangeEvent event;
            event.kind = mcp::ChangeEvent::Kind::tools_list_changed;
            event.tenant = change.tenant;
            listener(event);
        });
    }

private:
    struct CacheEntry {
        CatalogPtr catalog;
        std::shared_ptr<const std::vector<mcp::ToolInfo>> infos;
    };

    std::shared_ptr<ToolRegistry> registry_;
    McpCatalogOptions options_;
    mutable std::mutex mutex_;
    mutable std::map<std::string, CacheEntry, std::less<>> cache_;
};

} // namespace

std::shared_ptr<protocols::mcp::ToolCatalog>
make_mcp_tool_catalog(std::shared_ptr<ToolRegistry> registry, McpCatalogOptions options) {
    return std::make_shared<RegistryCatalog>(std::move(registry), options);
}

} // namespace agentd::tools
