#pragma once
/// One turn in flight (agent_runtime.h describes the loop). Internal to the runtime.
///
/// Ownership: shared by the runtime's set of running turns, the scheduler sink, tool callbacks
/// and timers. Threads: step logic runs on the blocking pool, one step at a time (each step is
/// started by the previous one's completion); the engine sink only records deltas under `mu`.

#include "agentd/inference/scheduler.h"

#include "runtime/agent_runtime.h"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace agentd::gateway::runtime {

struct AgentRuntime::Impl {
    std::atomic<bool> stopping{false};
    std::shared_ptr<protocols::mcp::Timers> timers;
    std::mutex mu;
    std::map<const void*, std::weak_ptr<struct TurnRun>> running; // guarded by mu
};

struct TurnRun : std::enable_shared_from_this<TurnRun> {
    std::shared_ptr<AgentRuntime> runtime;
    const AgentSpec* spec = nullptr;
    const openai::ModelService* model = nullptr;
    TurnRequest request;
    TurnEvents events;
    TurnCallback done;

    std::vector<TurnMessage> messages;
    TurnResult result;
    std::chrono::steady_clock::time_point deadline;
    std::shared_ptr<tools::CancellationSignal> cancel;
    std::string root_span;
    std::string parent_span;
    std::int64_t started_ns = 0;
    std::atomic<bool> finished{false};
    std::shared_ptr<protocols::mcp::TimerHandle> deadline_timer;
    /// Prefix-cache hold of this turn: each step's prefix stays pinned while its tool calls
    /// run, so the next step's prompt (the same prefix + tool results) hits; dropped at the end.
    std::string cache_hold_key;

    // The step being generated (guarded by mu; the sink writes, the pool reads after the end).
    std::mutex mu;
    std::string step_text;
    std::map<std::size_t, ToolCallRecord> step_calls;
    std::optional<inference::RequestId> engine_request;
    bool time_up = false;
    std::int64_t step_started_ns = 0;
    std::int64_t first_token_ns = 0;

    void start();
    void step();
    void on_update(inference::GenerationUpdate&& update);
    void on_generated(inference::GenerationUpdate update);
    void run_tools(std::vector<ToolCallRecord> calls);
    void end(std::string finish);
    void fail(base::Error error);
    void emit_span(std::string name, std::string parent, std::int64_t start_ns,
                   std::vector<std::pair<std::string, AttrValue>> attributes, bool error = false,
                   std::string status = {});
    [[nodiscard]] std::string body_for_step() const;
};

} // namespace agentd::gateway::runtime
