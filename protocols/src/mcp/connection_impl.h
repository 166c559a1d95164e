#pragma once
// A client connection: the session state of the initialize-based revisions (negotiated version,
// client capabilities, log level, resource subscriptions), the table of requests in flight (for
// notifications/cancelled) and of server-to-client requests awaiting answers. Internal to
// protocols; thread-safe. Locking rule: the connection's mutex is never held while calling into
// an exchange, a channel or a sink (they may call back into the connection).

#include "agentd/protocols/mcp/server.h"

#include "mcp/exchange.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace agentd::protocols::mcp::detail {

class ServerImpl;

class ConnectionImpl final : public Connection,
                             public std::enable_shared_from_this<ConnectionImpl> {
public:
    ConnectionImpl(std::shared_ptr<ServerImpl> server, Caller caller,
                   std::shared_ptr<ConnectionSink> sink, bool stdio);
    ~ConnectionImpl() override;

    void handle(const jsonrpc::Message& message, std::shared_ptr<RequestChannel> channel) override;
    void handle_batch(const std::vector<jsonrpc::Message>& messages,
                      std::shared_ptr<RequestChannel> channel) override;
    std::optional<Version> session_version() const override;
    std::size_t in_flight() const override;
    void close() override;

    [[nodiscard]] const Caller& caller() const { return caller_; }
    [[nodiscard]] bool stdio() const { return stdio_; }
    [[nodiscard]] std::optional<LogLevel> log_level() const;
    void set_log_level(LogLevel level);
    /// Adds/removes a resource subscription; false when the per-session bound is reached.
    bool subscribe(const std::string& uri);
    void unsubscribe(const std::string& uri);

    /// Registers an exchange as in flight; answers it with an error and returns false when its
    /// id is already in flight, the bound is reached, or the connection is closed.
    bool admit(const std::shared_ptr<Exchange>& exchange);
    /// Sends `requests` to the client as server-to-client requests on the exchange's stream and
    /// runs the flow again with the answers (session revisions' form of input_required).
    void request_input(const std::shared_ptr<Exchange>& exchange, nlohmann::json requests,
                       std::string state, std::shared_ptr<const Flow> flow);

    void notify_list_changed(ChangeEvent::Kind kind);
    /// Sends a message that belongs to no request on the connection's sink.
    void send_unrelated(std::string message) { sink_->send(std::move(message)); }
    void notify_resource_updated(const std::string& uri);

private:
    /// The answers gathered for one input round of a session request (guarded by mu_).
    struct Gather {
        std::weak_ptr<Exchange> exchange;
        std::shared_ptr<const Flow> flow;
        std::string state;
        nlohmann::json inputs = nlohmann::json::object();
        std::size_t remaining = 0;
        bool done = false;
        std::vector<jsonrpc::RequestId> ids;
    };
    struct Pending {
        std::shared_ptr<Gather> gather;
        std::string key;
        std::string method;
        std::shared_ptr<TimerHandle> timer;
    };

    void handle_request(const jsonrpc::Message& message, std::shared_ptr<RequestChannel> channel);
    void handle_notification(const jsonrpc::Message& message);
    void handle_response(const jsonrpc::Message& message);
    void handle_initialize(const jsonrpc::Message& message, RequestChannel& channel);
    void forget(const jsonrpc::RequestId& id, const Exchange* exchange);
    void on_timeout(const jsonrpc::RequestId& id);
    void drop_gather(const std::shared_ptr<Gather>& gather);
    void rerun(const std::shared_ptr<Gather>& gather);

    std::shared_ptr<ServerImpl> server_;
    Caller caller_;
    std::shared_ptr<ConnectionSink> sink_;
    bool stdio_;

    mutable std::mutex mu_;
    bool closed_ = false;
    std::optional<Version> version_;
    bool initialized_ = false;
    JsonPtr client_caps_;
    std::optional<LogLevel> log_level_;
    std::set<std::string> subscriptions_;
    std::unordered_map<jsonrpc::RequestId, std::shared_ptr<Exchange>, jsonrpc::RequestIdHash>
        in_flight_;
    std::unordered_map<jsonrpc::RequestId, Pending, jsonrpc::RequestIdHash> outbound_;
    std::int64_t next_outbound_ = 1;
};

} // namespace agentd::protocols::mcp::detail
