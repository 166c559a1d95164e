#pragma once
// One client request from dispatch to its response (Exchange), and one provider round of it
// (Attempt, the RequestContext providers see). Internal to protocols.
//
// An Exchange owns the request's identity, protocol environment (version, caller, client
// capabilities, log level, progress token) and its RequestChannel. It guarantees the stream
// rules: related messages only while the request is active, then exactly one response, or none
// when the client cancelled. All members are thread-safe; the channel is called under the
// exchange's mutex so a late progress notification can never overtake the response.

#include "agentd/protocols/mcp/request_context.h"
#include "agentd/protocols/mcp/server.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace agentd::protocols::mcp::detail {

class ServerImpl;
class ConnectionImpl;

class Exchange : public std::enable_shared_from_this<Exchange> {
public:
    struct Init {
        jsonrpc::RequestId id;
        std::string method;
        JsonPtr params; ///< always an object
        Version version = latest_legacy_version;
        Caller caller;
        JsonPtr client_caps;               ///< always an object
        std::optional<LogLevel> log_level; ///< 2026-07-28 `_meta` level
        std::optional<nlohmann::json> progress_token;
        std::shared_ptr<RequestChannel> channel;
        std::weak_ptr<ConnectionImpl> connection; ///< empty for stateless HTTP requests
    };

    Exchange(std::shared_ptr<ServerImpl> server, Init init);

    [[nodiscard]] const jsonrpc::RequestId& id() const { return init_.id; }
    [[nodiscard]] const std::string& method() const { return init_.method; }
    [[nodiscard]] const nlohmann::json& params() const { return *init_.params; }
    [[nodiscard]] const JsonPtr& params_ptr() const { return init_.params; }
    [[nodiscard]] Version version() const { return init_.version; }
    [[nodiscard]] bool modern() const { return is_modern(init_.version); }
    [[nodiscard]] const Caller& caller() const { return init_.caller; }
    [[nodiscard]] const nlohmann::json& client_caps() const { return *init_.client_caps; }
    [[nodiscard]] bool client_supports(ClientFeature feature) const;
    [[nodiscard]] ServerImpl& server() const { return *server_; }
    [[nodiscard]] std::shared_ptr<ConnectionImpl> connection() const;

    [[nodiscard]] bool active() const;
    [[nodiscard]] bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }
    void on_cancel(std::function<void()> callback);
    /// Registers a function run once when the exchange ends (response or cancellation).
    void on_done(std::function<void()> callback);

    /// Sends a message related to the request while it is active; returns false otherwise.
    bool send_related(const std::string& message);
    /// Finishes with `result` (already decorated for its revision).
    void respond(const nlohmann::json& result);
    /// Finishes with a JSON-RPC error for `error` (code per revision) and optional `data`.
    void respond_error(const base::Error& error, ResponseStatus status = ResponseStatus::ok,
                       const nlohmann::json* data = nullptr);
    /// The client cancelled: stop, run cancel callbacks, end the stream without a response.
    void cancel();

    [[nodiscard]] bool wants_progress() const { return init_.progress_token.has_value(); }
    void progress(double value, std::optional<double> total, std::string_view message);
    [[nodiscard]] bool log_enabled(LogLevel level) const;
    void log(LogLevel level, std::string_view logger, const nlohmann::json& data);

    /// Counts input rounds of this request; returns the new count.
    int next_round() { return rounds_.fetch_add(1) + 1; }

private:
    void finish_locked(std::string message, ResponseStatus status);
    void run_done();

    std::shared_ptr<ServerImpl> server_;
    Init init_;
    mutable std::mutex mu_;
    bool finished_ = false;
    std::atomic<bool> cancelled_{false};
    std::optional<double> last_progress_;
    std::vector<std::function<void()>> cancel_callbacks_;
    std::vector<std::function<void()>> done_callbacks_;
    std::atomic<int> rounds_{0};
};

/// How a method runs its provider and turns the provider's result into the method's result.
struct Flow {
    /// Calls the provider with `attempt` (again, for each input round).
    std::function<void(const std::shared_ptr<class Attempt>&)> invoke;
    /// Turns a provider result into the response (decorates and responds on the exchange).
    std::function<void(const std::shared_ptr<Exchange>&, nlohmann::json&&)> finish;
    /// What requestState is bound to besides caller and method (tool name, URI, prompt name).
    std::string target;
    /// Whether the method may return input_required (tools/call, resources/read, prompts/get).
    bool allows_input = false;
};

/// One provider round of an exchange: the RequestContext providers receive.
class Attempt final : public RequestContext, public std::enable_shared_from_this<Attempt> {
public:
    Attempt(std::shared_ptr<Exchange> exchange, std::shared_ptr<const Flow> flow,
            nlohmann::json inputs, std::string state);

    /// Runs the flow's provider with this attempt, turning exceptions into -32603.
    void run();

    [[nodiscard]] const Caller& caller() const override { return exchange_->caller(); }
    [[nodiscard]] Version version() const override { return exchange_->version(); }
    [[nodiscard]] std::string_view method() const override { return exchange_->method(); }
    [[nodiscard]] const nlohmann::json& client_capabilities() const override {
        return exchange_->client_caps();
    }
    [[nodiscard]] bool client_supports(ClientFeature feature) const override {
        return exchange_->client_supports(feature);
    }
    [[nodiscard]] bool cancelled() const override { return exchange_->cancelled(); }
    void on_cancel(std::function<void()> callback) override;
    [[nodiscard]] bool wants_progress() const override { return exchange_->wants_progress(); }
    void progress(double value, std::optional<double> total, std::string_view message) override;
    [[nodiscard]] bool log_enabled(LogLevel level) const override {
        return exchange_->log_enabled(level);
    }
    void log(LogLevel level, std::string_view logger, const nlohmann::json& data) override;
    [[nodiscard]] const nlohmann::json* input_response(std::string_view key) const override;
    [[nodiscard]] const std::string& request_state() const override { return state_; }
    void complete(nlohmann::json&& result) override;
    void fail(base::Error error) override;
    void input_required(nlohmann::json&& input_requests, std::string state) override;

private:
    bool claim() { return !done_.exchange(true, std::memory_order_acq_rel); }

    std::shared_ptr<Exchange> exchange_;
    std::shared_ptr<const Flow> flow_;
    nlohmann::json inputs_;
    std::string state_;
    std::atomic<bool> done_{false};
};

/// Validates an input-requests object produced by a provider; on success returns the client
/// capabilities that are missing for it (an empty object when none are).
[[nodiscard]] base::Result<nlohmann::json> check_input_requests(const Exchange& exchange,
                                                                const nlohmann::json& requests);

} // namespace agentd::protocols::mcp::detail
