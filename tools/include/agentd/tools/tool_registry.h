#pragma once
/// The tool registry: per-tenant catalogues of tools, published as immutable snapshots.
///
/// A `Tool` is a definition plus its compiled schemas and its executor. A `Catalog` is one
/// tenant's immutable, name-sorted list of tools (tools shared by every tenant included); the
/// registry swaps in a new Catalog on every change, so readers (MCP tools/list, the agent
/// runtime) take a snapshot with one shared_ptr copy and never block writers (STYLE.md 2.4).
/// Listeners hear about every change (MCP's notifications/tools/list_changed).
///
/// Ownership: the gateway owns one ToolRegistry (no globals); tools and catalogs are shared
/// immutable objects. Thread-safety: every member is thread-safe and non-blocking (a short
/// internal lock). Listeners run on the thread that made the change, after the new snapshot is
/// published, without any registry lock held; they must be quick.
/// Errors: conflict (name taken), not_found, limit_exceeded, invalid_schema (Tool::create).

#include "agentd/base/result.h"
#include "agentd/tools/json_schema.h"
#include "agentd/tools/tool.h"
#include "agentd/tools/tool_executor.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::tools {

/// A registered tool. Immutable; thread-safe.
class Tool {
public:
    /// Checks the definition (name rule, input schema present with root type "object", output
    /// schema if any with root type "object") and compiles its schemas. `details` is optional
    /// source-specific information for management APIs (e.g. a REST tool's endpoint).
    [[nodiscard]] static base::Result<std::shared_ptr<const Tool>>
    create(ToolDefinition definition, std::shared_ptr<const ToolExecutor> executor,
           JsonPtr details = nullptr, const SchemaOptions& schema_options = {});

    [[nodiscard]] const ToolDefinition& definition() const { return definition_; }
    [[nodiscard]] const std::string& name() const { return definition_.name; }
    [[nodiscard]] const JsonSchema& input_validator() const { return *input_; }
    /// Null when the tool declares no output schema.
    [[nodiscard]] const JsonSchema* output_validator() const { return output_.get(); }
    [[nodiscard]] const ToolExecutor& executor() const { return *executor_; }
    [[nodiscard]] const JsonPtr& details() const { return details_; }

    Tool(ToolDefinition definition, std::shared_ptr<const JsonSchema> input,
         std::shared_ptr<const JsonSchema> output, std::shared_ptr<const ToolExecutor> executor,
         JsonPtr details);

private:
    ToolDefinition definition_;
    std::shared_ptr<const JsonSchema> input_;
    std::shared_ptr<const JsonSchema> output_;
    std::shared_ptr<const ToolExecutor> executor_;
    JsonPtr details_;
};

using ToolPtr = std::shared_ptr<const Tool>;

/// One tenant's tools at one moment. Immutable; thread-safe.
class Catalog {
public:
    Catalog(std::vector<ToolPtr> sorted_tools, std::uint64_t version);

    /// Every tool, sorted by name (byte order), names unique.
    [[nodiscard]] const std::vector<ToolPtr>& tools() const { return tools_; }
    [[nodiscard]] ToolPtr find(std::string_view name) const;
    /// Up to `limit` tools whose names sort after `after` ("" → from the start). A stable
    /// cursor: pass the last name of the previous page.
    [[nodiscard]] std::span<const ToolPtr> page_after(std::string_view after,
                                                      std::size_t limit) const;
    /// Increases with every change of the registry.
    [[nodiscard]] std::uint64_t version() const { return version_; }
    [[nodiscard]] std::size_t size() const { return tools_.size(); }

private:
    std::vector<ToolPtr> tools_;
    std::uint64_t version_;
};

using CatalogPtr = std::shared_ptr<const Catalog>;

/// A change notification. `tenant` empty: the shared tools changed (every tenant's catalogue).
struct CatalogChange {
    std::string tenant;
    std::uint64_t version = 0;
};
using CatalogListener = std::function<void(const CatalogChange&)>;

/// Keeps a listener registered while alive (same convention as protocols' MCP Subscription).
/// Once it is destroyed the listener is not called again (a call already running on another
/// thread finishes first).
using Subscription = std::shared_ptr<void>;

/// An atomic batch of changes for one tenant: removals first, then additions.
struct CatalogEdit {
    std::vector<std::string> remove; ///< names that must exist
    std::vector<ToolPtr> add;        ///< names that must be free after the removals
};

struct RegistryLimits {
    std::size_t max_tools_per_tenant = 1000;
    std::size_t max_shared_tools = 1000;
};

class ToolRegistry {
public:
    explicit ToolRegistry(RegistryLimits limits = {});
    ~ToolRegistry();
    ToolRegistry(const ToolRegistry&) = delete;
    ToolRegistry& operator=(const ToolRegistry&) = delete;

    /// The tenant's current catalogue (its own tools plus the shared ones). Never null.
    [[nodiscard]] CatalogPtr catalog(std::string_view tenant) const;
    /// Shorthand for catalog(tenant)->find(name).
    [[nodiscard]] ToolPtr find(std::string_view tenant, std::string_view name) const;

    /// Adds a tool for one tenant: conflict when the name is taken (by the tenant or a shared
    /// tool), limit_exceeded when the tenant is full.
    [[nodiscard]] base::Result<void> add(std::string_view tenant, ToolPtr tool);
    /// Removes a tenant's tool and returns it: not_found when it has none of that name (shared
    /// tools cannot be removed per tenant).
    [[nodiscard]] base::Result<ToolPtr> remove(std::string_view tenant, std::string_view name);
    /// Applies an edit atomically (all or nothing, one notification).
    [[nodiscard]] base::Result<void> apply(std::string_view tenant, const CatalogEdit& edit);

    /// Adds a tool every tenant sees (builtins, sandbox, memory tools): conflict when any
    /// tenant already has the name.
    [[nodiscard]] base::Result<void> add_shared(ToolPtr tool);
    [[nodiscard]] base::Result<ToolPtr> remove_shared(std::string_view name);

    /// Registers a listener for every tenant's changes.
    [[nodiscard]] Subscription watch(CatalogListener listener);

    struct State;

private:
    void publish(const CatalogChange& change);
    std::shared_ptr<State> state_;
};

} // namespace agentd::tools
