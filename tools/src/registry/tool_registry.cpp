#include "agentd/tools/tool_registry.h"

#include "agentd/tools/errc.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <utility>

namespace agentd::tools {
namespace {

using ToolMap = std::map<std::string, ToolPtr, std::less<>>;

struct ListenerEntry {
    // Recursive: a listener may drop its own subscription, or change the registry (which
    // publishes again on the same thread) from inside the callback.
    std::recursive_mutex mutex;
    bool active = true;
    CatalogListener listener;
};

base::Result<void> check_object_schema(const JsonPtr& schema, const char* field) {
    if (!schema->is_object() || schema->value("type", nlohmann::json()) != "object") {
        return base::fail(errc::invalid_schema, std::string(field) +
                                                    ": the root must be a schema object with "
                                                    "\"type\": \"object\" (MCP tools take and "
                                                    "return JSON objects)");
    }
    return {};
}

} // namespace

struct ToolRegistry::State {
    explicit State(RegistryLimits l) : limits(l) {}

    RegistryLimits limits;
    mutable std::mutex mutex;
    std::map<std::string, ToolMap, std::less<>> own; ///< tenant → its tools
    ToolMap shared;
    std::map<std::string, CatalogPtr, std::less<>> catalogs; ///< tenants with own tools
    CatalogPtr shared_catalog = std::make_shared<const Catalog>(std::vector<ToolPtr>{}, 0);
    std::uint64_t version = 0;

    std::mutex listeners_mutex;
    std::vector<std::shared_ptr<ListenerEntry>> listeners;

    /// Rebuilds one tenant's catalogue (mutex held).
    void rebuild(const std::string& tenant) {
        const auto it = own.find(tenant);
        if (it == own.end() || it->second.empty()) {
            own.erase(tenant);
            catalogs.erase(tenant);
            return;
        }
        std::vector<ToolPtr> merged;
        merged.reserve(it->second.size() + shared.size());
        auto a = it->second.begin();
        auto b = shared.begin();
        while (a != it->second.end() || b != shared.end()) {
            if (b == shared.end() || (a != it->second.end() && a->first < b->first)) {
                merged.push_back((a++)->second);
            } else {
                merged.push_back((b++)->second);
            }
        }
        catalogs[tenant] = std::make_shared<const Catalog>(std::move(merged), version);
    }

    void rebuild_all() {
        std::vector<ToolPtr> tools;
        tools.reserve(shared.size());
        for (const auto& [name, tool] : shared) {
            tools.push_back(tool);
        }
        shared_catalog = std::make_shared<const Catalog>(std::move(tools), version);
        for (const auto& [tenant, tools_of_tenant] : own) {
            rebuild(tenant);
        }
    }

    base::Result<void> check_free(const ToolMap& mine, const std::string& name) const {
        if (shared.count(name) != 0) {
            return base::fail(errc::conflict,
                              "the tool name \"" + name + "\" is taken by a built-in tool");
        }
        if (mine.count(name) != 0) {
            return base::fail(errc::conflict, "a tool named \"" + name + "\" already exists");
        }
        return {};
    }
};

Tool::Tool(ToolDefinition definition, std::shared_ptr<const JsonSchema> input,
           std::shared_ptr<const JsonSchema> output, std::shared_ptr<const ToolExecutor> executor,
           JsonPtr details)
    : definition_(std::move(definition)), input_(std::move(input)), output_(std::move(output)),
      executor_(std::move(executor)), details_(std::move(details)) {}

base::Result<ToolPtr> Tool::create(ToolDefinition definition,
                                   std::shared_ptr<const ToolExecutor> executor, JsonPtr details,
                                   const SchemaOptions& schema_options) {
    if (!is_valid_tool_name(definition.name)) {
        return base::fail(errc::invalid_argument,
                          "name: must be 1-128 characters of A-Z a-z 0-9 _ - .");
    }
    if (!executor) {
        return base::fail(errc::invalid_argument, "a tool needs an executor");
    }
    if (!definition.input_schema) {
        return base::fail(errc::invalid_schema, "input_schema: required");
    }
    if (auto ok = check_object_schema(definition.input_schema, "input_schema"); !ok) {
        return ok.error();
    }
    auto input = JsonSchema::compile(*definition.input_schema, schema_options);
    if (!input) {
        return base::fail(errc::invalid_schema, "input_schema: " + input.error().message);
    }
    std::shared_ptr<const JsonSchema> output;
    if (definition.output_schema) {
        if (auto ok = check_object_schema(definition.output_schema, "output_schema"); !ok) {
            return ok.error();
        }
        auto compiled = JsonSchema::compile(*definition.output_schema, schema_options);
        if (!compiled) {
            return base::fail(errc::invalid_schema, "output_schema: " + compiled.error().message);
        }
        output = std::move(*compiled);
    }
    return std::make_shared<const Tool>(std::move(definition), std::move(*input), std::move(output),
                                        std::move(executor), std::move(details));
}

Catalog::Catalog(std::vector<ToolPtr> sorted_tools, std::uint64_t version)
    : tools_(std::move(sorted_tools)), version_(version) {}

ToolPtr Catalog::find(std::string_view name) const {
    const auto it = std::lower_bound(
        tools_.begin(), tools_.end(), name,
        [](const ToolPtr& t, std::string_view n) { return std::string_view(t->name()) < n; });
    return it != tools_.end() && (*it)->name() == name ? *it : nullptr;
}

std::span<const ToolPtr> Catalog::page_after(std::string_view after, std::size_t limit) const {
    auto it = tools_.begin();
    if (!after.empty()) {
        it = std::upper_bound(
            tools_.begin(), tools_.end(), after,
            [](std::string_view n, const ToolPtr& t) { return n < std::string_view(t->name()); });
    }
    const auto available = static_cast<std::size_t>(tools_.end() - it);
    return {it, std::min(limit, available)};
}

ToolRegistry::ToolRegistry(RegistryLimits limits) : state_(std::make_shared<State>(limits)) {}
ToolRegistry::~ToolRegistry() = default;

CatalogPtr ToolRegistry::catalog(std::string_view tenant) const {
    const std::lock_guard lock(state_->mutex);
    const auto it = state_->catalogs.find(tenant);
    return it != state_->catalogs.end() ? it->second : state_->shared_catalog;
}

ToolPtr ToolRegistry::find(std::string_view tenant, std::string_view name) const {
    return catalog(tenant)->find(name);
}

base::Result<void> ToolRegistry::add(std::string_view tenant, ToolPtr tool) {
    CatalogEdit edit;
    edit.add.push_back(std::move(tool));
    return apply(tenant, edit);
}

base::Result<ToolPtr> ToolRegistry::remove(std::string_view tenant, std::string_view name) {
    ToolPtr removed = find(tenant, name);
    CatalogEdit edit;
    edit.remove.emplace_back(name);
    if (auto ok = apply(tenant, edit); !ok) {
        return ok.error();
    }
    return removed;
}

base::Result<void> ToolRegistry::apply(std::string_view tenant_view, const CatalogEdit& edit) {
    const std::string tenant(tenant_view);
    CatalogChange change{tenant, 0};
    {
        const std::lock_guard lock(state_->mutex);
        ToolMap next = state_->own.count(tenant) != 0 ? state_->own[tenant] : ToolMap{};
        for (const auto& name : edit.remove) {
            if (next.erase(name) == 0) {
                return base::fail(errc::not_found, "no tool named \"" + name + "\"");
            }
        }
        for (const auto& tool : edit.add) {
            if (auto ok = state_->check_free(next, tool->name()); !ok) {
                return ok;
            }
            next.emplace(tool->name(), tool);
        }
        if (next.size() > state_->limits.max_tools_per_tenant) {
            return base::fail(errc::limit_exceeded,
                              "a tenant may register at most " +
                                  std::to_string(state_->limits.max_tools_per_tenant) + " tools");
        }
        state_->own[tenant] = std::move(next);
        change.version = ++state_->version;
        state_->rebuild(tenant);
    }
    publish(change);
    return {};
}

base::Result<void> ToolRegistry::add_shared(ToolPtr tool) {
    CatalogChange change;
    {
        const std::lock_guard lock(state_->mutex);
        const std::string& name = tool->name();
        if (state_->shared.count(name) != 0) {
            return base::fail(errc::conflict, "a tool named \"" + name + "\" already exists");
        }
        for (const auto& [tenant, tools] : state_->own) {
            if (tools.count(name) != 0) {
                return base::fail(errc::conflict, "tenant \"" + tenant +
                                                      "\" already has a tool named \"" + name +
                                                      "\"");
            }
        }
        if (state_->shared.size() >= state_->limits.max_shared_tools) {
            return base::fail(errc::limit_exceeded, "too many shared tools");
        }
        state_->shared.emplace(name, std::move(tool));
        change.version = ++state_->version;
        state_->rebuild_all();
    }
    publish(change);
    return {};
}

base::Result<ToolPtr> ToolRegistry::remove_shared(std::string_view name) {
    CatalogChange change;
    ToolPtr removed;
    {
        const std::lock_guard lock(state_->mutex);
        const auto it = state_->shared.find(name);
        if (it == state_->shared.end()) {
            return base::fail(errc::not_found,
                              "no shared tool named \"" + std::string(name) + "\"");
        }
        removed = it->second;
        state_->shared.erase(it);
        change.version = ++state_->version;
        state_->rebuild_all();
    }
    publish(change);
    return removed;
}

Subscription ToolRegistry::watch(CatalogListener listener) {
    auto entry = std::make_shared<ListenerEntry>();
    entry->listener = std::move(listener);
    {
        const std::lock_guard lock(state_->listeners_mutex);
        state_->listeners.push_back(entry);
    }
    std::weak_ptr<State> weak = state_;
    // The deleter deactivates the entry (waiting for a running call) and unlinks it.
    return {entry.get(), [entry, weak](void*) {
                {
                    const std::lock_guard lock(entry->mutex);
                    entry->active = false;
                }
                if (const auto state = weak.lock()) {
                    const std::lock_guard lock(state->listeners_mutex);
                    std::erase(state->listeners, entry);
                }
            }};
}

void ToolRegistry::publish(const CatalogChange& change) {
    std::vector<std::shared_ptr<ListenerEntry>> listeners;
    {
        const std::lock_guard lock(state_->listeners_mutex);
        listeners = state_->listeners;
    }
    for (const auto& entry : listeners) {
        const std::lock_guard lock(entry->mutex);
        if (entry->active) {
            entry->listener(change);
        }
    }
}

} // namespace agentd::tools
