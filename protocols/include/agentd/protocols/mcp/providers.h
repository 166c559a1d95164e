#pragma once
/// What the rest of agentd implements to appear in MCP: tools, resources and prompts (with
/// argument completion). The MCP server owns the protocol (versions, pagination, cursors, result
/// shapes, notifications, cancellation); providers own the content.
///
/// Rules for every provider:
/// - Listings are per caller tenant, cheap and non-blocking (an in-memory snapshot), sorted by
///   their key (tool name, resource URI, template URI, prompt name) with unique keys. The server
///   paginates them with opaque cursors.
/// - Work methods (call/read/get/complete) must return quickly without blocking; they finish by
///   calling exactly one completion method of the RequestContext, from any thread, later if
///   need be. They must not throw.
/// - Change listeners (watch) may be called from any thread; the server fans events out to the
///   sessions and `subscriptions/listen` streams that asked for them.
///
/// Ownership: the server shares ownership of its providers for its lifetime.
/// Thread-safety: all methods may be called concurrently from any thread.

#include "agentd/protocols/mcp/request_context.h"
#include "agentd/protocols/mcp/types.h"

#include <nlohmann/json_fwd.hpp>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace agentd::protocols::mcp {

/// The tools one part of agentd offers (REST-registered tools, sandboxed code, memory tools,
/// upstream MCP servers, the conformance fixtures).
class ToolCatalog {
public:
    virtual ~ToolCatalog() = default;
    /// The tools `caller` may see, sorted by name.
    [[nodiscard]] virtual std::shared_ptr<const std::vector<ToolInfo>>
    list_tools(const Caller& caller) const = 0;
    /// Calls `tool` (an entry of a recent list_tools(ctx->caller()) snapshot). `arguments` is an
    /// object (empty when the client sent none). The catalog validates it against the tool's
    /// input schema and reports invalid input as a tool result with `isError: true`.
    /// Completes `ctx` with a CallToolResult `{"content": [...], "structuredContent"?,
    /// "isError"?}`, or fails with errc::invalid_params when the tool no longer exists.
    virtual void call_tool(const ToolInfo& tool, nlohmann::json&& arguments,
                           std::shared_ptr<RequestContext> ctx) = 0;
    /// Registers a listener for ChangeEvent::Kind::tools_list_changed.
    [[nodiscard]] virtual Subscription watch(ChangeListener listener) = 0;
};

/// A request for argument completion (`completion/complete`).
struct CompletionQuery {
    std::string ref;                            ///< prompt name, or resource template URI
    std::string argument;                       ///< the argument being completed
    std::string value;                          ///< what the user typed so far
    std::map<std::string, std::string> context; ///< already-resolved arguments
};

/// Resources and resource templates.
class ResourceProvider {
public:
    virtual ~ResourceProvider() = default;
    /// Direct resources `caller` may read, sorted by URI.
    [[nodiscard]] virtual std::shared_ptr<const std::vector<ResourceInfo>>
    list_resources(const Caller& caller) const = 0;
    /// Resource templates, sorted by URI template.
    [[nodiscard]] virtual std::shared_ptr<const std::vector<ResourceTemplateInfo>>
    list_templates(const Caller& caller) const = 0;
    /// True when read() serves `uri` for `caller` (a listed resource or a template match).
    [[nodiscard]] virtual bool owns(const Caller& caller, std::string_view uri) const = 0;
    /// Completes with a ReadResourceResult `{"contents": [{"uri", "mimeType"?, "text"|"blob"}]}`
    /// (never an empty list for a missing resource), or fails with errc::resource_not_found.
    virtual void read(const std::string& uri, std::shared_ptr<RequestContext> ctx) = 0;
    /// Completes with a CompleteResult `{"completion": {"values": [...], "total"?, "hasMore"?}}`
    /// for an argument of the template `query.ref`. The default completes with no values.
    virtual void complete(const CompletionQuery& query, std::shared_ptr<RequestContext> ctx);
    /// Registers a listener for resources_list_changed and resource_updated events.
    [[nodiscard]] virtual Subscription watch(ChangeListener listener) = 0;
};

/// Prompts and prompt templates.
class PromptProvider {
public:
    virtual ~PromptProvider() = default;
    /// Prompts `caller` may get, sorted by name.
    [[nodiscard]] virtual std::shared_ptr<const std::vector<PromptInfo>>
    list_prompts(const Caller& caller) const = 0;
    /// Completes with a GetPromptResult `{"description"?, "messages": [...]}`. The server has
    /// already checked that every required argument is present and that all are strings.
    virtual void get_prompt(const PromptInfo& prompt, std::map<std::string, std::string> arguments,
                            std::shared_ptr<RequestContext> ctx) = 0;
    /// Completes with a CompleteResult for an argument of the prompt `query.ref`. The default
    /// completes with no values.
    virtual void complete(const CompletionQuery& query, std::shared_ptr<RequestContext> ctx);
    /// Registers a listener for prompts_list_changed events.
    [[nodiscard]] virtual Subscription watch(ChangeListener listener) = 0;
};

/// Everything one MCP server serves. Any list may be empty; the server advertises only the
/// capabilities it can back. Several providers of a kind are merged; on a name clash the
/// earlier one wins.
struct Providers {
    std::vector<std::shared_ptr<ToolCatalog>> tools;
    std::vector<std::shared_ptr<ResourceProvider>> resources;
    std::vector<std::shared_ptr<PromptProvider>> prompts;
};

} // namespace agentd::protocols::mcp
