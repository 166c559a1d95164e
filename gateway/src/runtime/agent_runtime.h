#pragma once
/// The agent runtime: runs one turn of an agent (config `agents`) over the in-process engine.
///
/// A turn: render the conversation with the model's chat template and the agent's allowed tools
/// → submit to the scheduler (batched with every other live sequence; the prefix-cache namespace
/// is the tenant + model, so a session's growing prompt reuses its cached prefix across steps) →
/// collect content and tool-call deltas → when the model calls tools (arguments constrained by a
/// grammar from each tool's schema, or the agent's narrower `tool_schemas`), validate and run
/// them, independent calls in parallel, append the results and go on → until the model answers
/// without tool calls or a limit ends the turn (max_steps, time budget, token budget,
/// cancellation). Each step is reported to the caller (progress) and traced (runtime/trace.h).
///
/// Ownership: shared (route modules and in-flight turns). Threads: run_turn() is thread-safe and
/// returns at once; preparation runs on the blocking pool, the engine on its thread, tools on
/// their executors; callbacks come from any of those threads. Errors: the callback gets
/// tools::errc::not_found (unknown agent), cancelled, timeout, busy (the scheduler is full), or
/// upstream_error (the model could not be run) — a turn that hits max_steps or a budget is not
/// an error: it ends with the text so far and `finish` saying why.

#include "agentd/base/result.h"
#include "agentd/tools/cancellation.h"
#include "agentd/tools/tool_registry.h"

#include "runtime/agents_config.h"
#include "runtime/trace.h"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace boost::asio {
class thread_pool;
} // namespace boost::asio

namespace agentd::gateway::openai {
class ModelService;
} // namespace agentd::gateway::openai

namespace agentd::gateway::runtime {

struct ToolCallRecord {
    std::string id;
    std::string name;
    std::string arguments; ///< JSON text
    std::string result;    ///< the tool's text
    bool is_error = false;
    protocols::JsonPtr structured; ///< structuredContent, or null
};

/// One message of a conversation, in chat-completion terms.
struct TurnMessage {
    std::string role; ///< "user", "assistant", "tool" (system comes from the agent)
    std::string content;
    std::vector<ToolCallRecord> tool_calls; ///< assistant messages that called tools
    std::string tool_call_id;               ///< tool messages
};

struct TurnRequest {
    std::string tenant;
    std::string agent;
    std::vector<TurnMessage> messages; ///< the conversation, ending with the new user message
    std::shared_ptr<tools::CancellationSignal> cancel; ///< may be null
    std::string traceparent;                           ///< W3C trace context ("" → a new trace)
    std::string face;                                  ///< "a2a", "mcp", "openai" (for traces)
};

/// What the caller hears while the turn runs (any thread; must not block).
struct TurnEvents {
    std::function<void(const std::string& message)> progress;
    std::function<void(const ToolCallRecord& call)> tool_done;
};

struct TurnUsage {
    std::int32_t prompt_tokens = 0;
    std::int32_t completion_tokens = 0;
    std::int32_t cached_tokens = 0;
};

struct TurnResult {
    std::string text;                       ///< the final answer
    std::vector<ToolCallRecord> tool_calls; ///< every call, in order
    TurnUsage usage;
    int steps = 0;
    /// "stop" (answered), "length" (max_tokens), "max_steps", "time_budget", "token_budget".
    std::string finish = "stop";
    std::string trace_id;
};

using TurnCallback = std::function<void(base::Result<TurnResult>)>;

class AgentRuntime : public std::enable_shared_from_this<AgentRuntime> {
public:
    struct Impl;

    /// `model` may be null (agents then fail with upstream_error "no model loaded").
    AgentRuntime(std::vector<AgentSpec> agents, const openai::ModelService* model,
                 std::shared_ptr<tools::ToolRegistry> registry, boost::asio::thread_pool& blocking,
                 std::shared_ptr<protocols::mcp::Timers> timers, std::shared_ptr<Tracer> tracer);

    [[nodiscard]] const AgentSpec* find(const std::string& agent) const;
    [[nodiscard]] const std::vector<AgentSpec>& agents() const { return agents_; }
    [[nodiscard]] bool has_model() const { return model_ != nullptr; }
    [[nodiscard]] const openai::ModelService* model() const { return model_; }
    [[nodiscard]] const std::shared_ptr<tools::ToolRegistry>& registry() const { return registry_; }
    [[nodiscard]] boost::asio::thread_pool& blocking() const { return blocking_; }
    [[nodiscard]] const std::shared_ptr<Tracer>& tracer() const { return tracer_; }
    [[nodiscard]] Impl& impl() const { return *impl_; }

    void run_turn(TurnRequest request, TurnEvents events, TurnCallback done);
    /// A turn's final answer as the caller's face shows it ("(no answer)" for an empty one).
    [[nodiscard]] static std::string answer_text(const TurnResult& result);

    /// No new turns; running ones are cancelled (shutdown).
    void stop();

private:
    std::vector<AgentSpec> agents_;
    const openai::ModelService* model_;
    std::shared_ptr<tools::ToolRegistry> registry_;
    boost::asio::thread_pool& blocking_;
    std::shared_ptr<Tracer> tracer_;
    std::shared_ptr<Impl> impl_;
};

} // namespace agentd::gateway::runtime
