#include "runtime/agent_runtime.h"

#include "agentd/tools/errc.h"

#include "runtime/turn_run.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

namespace agentd::gateway::runtime {

AgentRuntime::AgentRuntime(std::vector<AgentSpec> agents, const openai::ModelService* model,
                           std::shared_ptr<tools::ToolRegistry> registry,
                           boost::asio::thread_pool& blocking,
                           std::shared_ptr<protocols::mcp::Timers> timers,
                           std::shared_ptr<Tracer> tracer)
    : agents_(std::move(agents)), model_(model), registry_(std::move(registry)),
      blocking_(blocking), tracer_(std::move(tracer)), impl_(std::make_shared<Impl>()) {
    impl_->timers = std::move(timers);
}

const AgentSpec* AgentRuntime::find(const std::string& agent) const {
    for (const auto& a : agents_) {
        if (a.name == agent) {
            return &a;
        }
    }
    return nullptr;
}

std::string AgentRuntime::answer_text(const TurnResult& result) {
    if (!result.text.empty()) {
        return result.text;
    }
    // A model that only called tools: its last tool result is the answer.
    if (!result.tool_calls.empty()) {
        return result.tool_calls.back().result;
    }
    return "(no answer)";
}

void AgentRuntime::run_turn(TurnRequest request, TurnEvents events, TurnCallback done) {
    const AgentSpec* spec = find(request.agent);
    if (spec == nullptr) {
        done(base::Error(tools::errc::not_found, "no agent \"" + request.agent + "\""));
        return;
    }
    if (model_ == nullptr) {
        done(base::Error(tools::errc::upstream_error,
                         "no model is loaded: agents need `agentd serve --model FILE.gguf`"));
        return;
    }
    if (impl_->stopping.load()) {
        done(base::Error(tools::errc::cancelled, "agentd is shutting down"));
        return;
    }
    auto run = std::make_shared<TurnRun>();
    run->runtime = shared_from_this();
    run->spec = spec;
    run->model = model_;
    run->cancel = request.cancel ? request.cancel : std::make_shared<tools::CancellationSignal>();
    run->request = std::move(request);
    run->events = std::move(events);
    run->done = std::move(done);
    {
        std::lock_guard lock(impl_->mu);
        impl_->running[run.get()] = run;
    }
    // Rendering and tokenizing are CPU work: off the caller's (possibly I/O) thread.
    boost::asio::post(blocking_, [run] { run->start(); });
}

void AgentRuntime::stop() {
    impl_->stopping = true;
    std::vector<std::shared_ptr<TurnRun>> runs;
    {
        std::lock_guard lock(impl_->mu);
        for (auto& [key, weak] : impl_->running) {
            if (auto r = weak.lock()) {
                runs.push_back(std::move(r));
            }
        }
    }
    for (auto& r : runs) {
        if (r->cancel) {
            r->cancel->cancel();
        }
    }
}

} // namespace agentd::gateway::runtime
