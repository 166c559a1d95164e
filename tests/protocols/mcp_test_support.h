#pragma once
// Test-side implementations of the MCP provider interfaces and transport seams: small real
// providers with fixed content, a channel and sink that record what the server sends, and timers
// driven by a manual clock (the "fake clock" of STYLE.md 2.9).

#include "agentd/protocols/mcp/server.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace agentd::protocols::mcp::test {

using nlohmann::json;

class ManualTimers final : public Timers {
public:
    std::shared_ptr<TimerHandle> schedule(std::chrono::milliseconds delay,
                                          std::function<void()> callback) override;
    /// Moves the clock forward and runs every timer that became due.
    void advance(std::chrono::milliseconds by);
    [[nodiscard]] std::size_t pending() const;

private:
    struct Entry;
    mutable std::mutex mu_;
    std::chrono::milliseconds now_{0};
    std::vector<std::shared_ptr<Entry>> entries_;
};

class RecordingChannel final : public RequestChannel {
public:
    void send_related(std::string message) override;
    void send_response(std::string message, ResponseStatus status) override;
    void end_without_response() override;

    [[nodiscard]] std::vector<json> related() const;
    [[nodiscard]] std::optional<json> response() const;
    [[nodiscard]] ResponseStatus status() const;
    [[nodiscard]] bool ended_without_response() const;
    /// The response; fails the test when there is none.
    [[nodiscard]] json result() const;
    /// error.code of the response (0 when it is not an error).
    [[nodiscard]] int error_code() const;

private:
    mutable std::mutex mu_;
    std::vector<json> related_;
    std::optional<json> response_;
    ResponseStatus status_ = ResponseStatus::ok;
    bool ended_ = false;
    bool response_after_end_ = false;
};

class RecordingSink final : public ConnectionSink {
public:
    void send(std::string message) override;
    [[nodiscard]] std::vector<json> messages() const;

private:
    mutable std::mutex mu_;
    std::vector<json> messages_;
};

/// Tools: echo, structured, no_structured, slow, progress, log, ask, ask_url, region, throws,
/// bad_result, plus `generated` extra tools gen_000... for pagination.
class TestTools final : public ToolCatalog {
public:
    explicit TestTools(int generated = 0);
    std::shared_ptr<const std::vector<ToolInfo>> list_tools(const Caller& caller) const override;
    void call_tool(const ToolInfo& tool, json&& arguments,
                   std::shared_ptr<RequestContext> ctx) override;
    Subscription watch(ChangeListener listener) override;

    void fire(const ChangeEvent& event);
    /// Contexts of `slow` calls, in call order.
    std::vector<std::shared_ptr<RequestContext>> slow_calls() const;
    int cancellations() const;

private:
    std::shared_ptr<const std::vector<ToolInfo>> tools_;
    mutable std::mutex mu_;
    std::vector<ChangeListener> listeners_;
    std::vector<std::shared_ptr<RequestContext>> slow_;
    int cancelled_ = 0;
};

class TestResources final : public ResourceProvider {
public:
    std::shared_ptr<const std::vector<ResourceInfo>> list_resources(const Caller&) const override;
    std::shared_ptr<const std::vector<ResourceTemplateInfo>>
    list_templates(const Caller&) const override;
    bool owns(const Caller&, std::string_view uri) const override;
    void read(const std::string& uri, std::shared_ptr<RequestContext> ctx) override;
    void complete(const CompletionQuery& query, std::shared_ptr<RequestContext> ctx) override;
    Subscription watch(ChangeListener listener) override;
    void fire(const ChangeEvent& event);

private:
    std::mutex mu_;
    std::vector<ChangeListener> listeners_;
};

class TestPrompts final : public PromptProvider {
public:
    std::shared_ptr<const std::vector<PromptInfo>> list_prompts(const Caller&) const override;
    void get_prompt(const PromptInfo& prompt, std::map<std::string, std::string> arguments,
                    std::shared_ptr<RequestContext> ctx) override;
    void complete(const CompletionQuery& query, std::shared_ptr<RequestContext> ctx) override;
    Subscription watch(ChangeListener listener) override;
};

/// A server with the test providers, and one connection to it.
struct Harness {
    explicit Harness(ServerOptions options = {}, bool stdio = false, int generated_tools = 0);

    /// Sends a request (or any message) on the connection; returns its channel.
    std::shared_ptr<RecordingChannel> send(const json& message);
    /// Sends a 2026-07-28 request without a session (HTTP) with the given mirrored headers.
    std::shared_ptr<RecordingChannel> send_stateless(const json& message,
                                                     const MirroredHeaders& headers);
    /// initialize + notifications/initialized; returns the initialize result.
    json initialize(const std::string& version = "2025-11-25", json capabilities = json::object());

    std::shared_ptr<ManualTimers> timers = std::make_shared<ManualTimers>();
    std::shared_ptr<TestTools> tools;
    std::shared_ptr<TestResources> resources = std::make_shared<TestResources>();
    std::shared_ptr<TestPrompts> prompts = std::make_shared<TestPrompts>();
    std::shared_ptr<Server> server;
    std::shared_ptr<RecordingSink> sink = std::make_shared<RecordingSink>();
    std::shared_ptr<Connection> connection;
};

json request(json id, const std::string& method, json params = json::object());
/// A 2026-07-28 request: params with the required `_meta` fields (plus `meta_extra`).
json modern_request(json id, const std::string& method, json params = json::object(),
                    json capabilities = json::object(), json meta_extra = json::object());
/// Headers that correctly mirror a 2026-07-28 request.
MirroredHeaders mirror_of(const json& message);

} // namespace agentd::protocols::mcp::test
