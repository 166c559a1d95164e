#pragma once
// The MCP server implementation: providers (merged per kind), options, stateless request
// admission, method dispatch, change fan-out to sessions and subscriptions/listen streams.
// Internal to protocols; thread-safe.

#include "agentd/protocols/mcp/server.h"

#include "mcp/exchange.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace agentd::protocols::mcp::detail {

class ConnectionImpl;

/// One open subscriptions/listen stream (2026-07-28).
struct Listen {
    std::shared_ptr<Exchange> exchange;
    bool tools = false;
    bool prompts = false;
    bool resources = false;
    std::vector<std::string> uris; ///< sorted, unique
    bool stdio = false;            ///< ended with notifications/cancelled as well
};

class ServerImpl final : public Server, public std::enable_shared_from_this<ServerImpl> {
public:
    ServerImpl(ServerOptions options, Providers providers, std::shared_ptr<Timers> timers);
    ~ServerImpl() override;
    void start();

    // Server
    std::shared_ptr<Connection> connect(Caller caller, std::shared_ptr<ConnectionSink> sink,
                                        bool stdio) override;
    std::function<void()> handle_stateless(const jsonrpc::Message& message, Caller caller,
                                           const MirroredHeaders& headers,
                                           std::shared_ptr<RequestChannel> channel) override;
    void shutdown() override;
    const ServerOptions& options() const override { return options_; }

    // Internal API for connections and method handlers.
    [[nodiscard]] Timers& timers() const { return *timers_; }
    [[nodiscard]] nlohmann::json server_info() const;
    [[nodiscard]] nlohmann::json capabilities() const;
    [[nodiscard]] bool has_tools() const { return !providers_.tools.empty(); }
    [[nodiscard]] bool has_resources() const { return !providers_.resources.empty(); }
    [[nodiscard]] bool has_prompts() const { return !providers_.prompts.empty(); }
    [[nodiscard]] bool is_shut_down() const;

    /// Admits a 2026-07-28 request: validates `_meta` (and `headers` when given), creates the
    /// exchange, registers it with `conn` (stdio) and dispatches it. Errors are answered on
    /// `channel`; returns the exchange when it was admitted.
    std::shared_ptr<Exchange> start_stateless(const jsonrpc::Message& message, const Caller& caller,
                                              const MirroredHeaders* headers,
                                              std::shared_ptr<RequestChannel> channel,
                                              const std::shared_ptr<ConnectionImpl>& conn);
    /// Runs the method of an admitted exchange.
    void dispatch(const std::shared_ptr<Exchange>& exchange, const MirroredHeaders* headers);

    /// Adds protocol fields of the exchange's revision to a complete result: on 2026-07-28
    /// `resultType` and `_meta` serverInfo, plus cache hints when `ttl` is set.
    void decorate(const Exchange& exchange, nlohmann::json& result,
                  std::optional<std::chrono::milliseconds> ttl, bool public_scope = false) const;
    void add_server_meta(nlohmann::json& result) const;
    /// Seals/open provider state for an input_required round trip of `exchange`.
    [[nodiscard]] std::string seal(const Exchange& exchange, const std::string& target,
                                   const std::string& state) const;
    [[nodiscard]] std::optional<std::string>
    open(const Exchange& exchange, const std::string& target, const std::string& sealed) const;

    // Merged listings (sorted by key; the first provider wins on a clash).
    [[nodiscard]] std::shared_ptr<const std::vector<ToolInfo>> tools(const Caller& caller) const;
    [[nodiscard]] std::shared_ptr<ToolCatalog>
    tool_owner(const Caller& caller, const std::string& name, ToolInfo& out) const;
    [[nodiscard]] std::shared_ptr<const std::vector<ResourceInfo>>
    resources(const Caller& caller) const;
    [[nodiscard]] std::shared_ptr<const std::vector<ResourceTemplateInfo>>
    templates(const Caller& caller) const;
    [[nodiscard]] std::shared_ptr<ResourceProvider> resource_owner(const Caller& caller,
                                                                   std::string_view uri) const;
    [[nodiscard]] std::shared_ptr<ResourceProvider>
    template_owner(const Caller& caller, std::string_view uri_template) const;
    [[nodiscard]] std::shared_ptr<const std::vector<PromptInfo>>
    prompts(const Caller& caller) const;
    [[nodiscard]] std::shared_ptr<PromptProvider>
    prompt_owner(const Caller& caller, const std::string& name, PromptInfo& out) const;

    /// Registers a listen stream; false when the bound on streams is reached or shut down.
    bool add_listen(const std::shared_ptr<Listen>& listen);
    void register_connection(const std::shared_ptr<ConnectionImpl>& conn);

private:
    void on_change(const ChangeEvent& event);
    void end_listen(const std::shared_ptr<Listen>& listen);

    ServerOptions options_;
    Providers providers_;
    std::shared_ptr<Timers> timers_;
    std::string state_key_;
    std::vector<Subscription> watches_;

    mutable std::mutex mu_;
    bool shut_down_ = false;
    std::uint64_t next_listen_ = 1;
    std::list<std::pair<std::uint64_t, std::shared_ptr<Listen>>> listens_;
    std::vector<std::weak_ptr<ConnectionImpl>> connections_;
};

/// `_meta` of a request's params, or nullptr.
[[nodiscard]] const nlohmann::json* meta_of(const nlohmann::json& params);
/// Reads `_meta.progressToken`; an error when present but neither a string nor an integer.
[[nodiscard]] base::Result<std::optional<nlohmann::json>>
read_progress_token(const nlohmann::json& params);

} // namespace agentd::protocols::mcp::detail
