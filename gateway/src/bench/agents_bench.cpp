// agentd bench agents --model F [--sessions 1,8,32] [--turns 6] [--answer-tokens 16]
//                     [--threads 0] [--json]
//
// Agent turns end to end in one process, without HTTP: the agent runtime over the scheduler
// (continuous batching) on --model, one sandboxed `run_python` call per turn (forced by
// tool_choice and a narrow argument schema, so every model — even random-weight synthetic ones —
// makes exactly one valid call), then a short answer. For each session count N, N sessions run
// concurrently, each doing --turns turns in sequence over a growing conversation (each turn's
// prompt is the previous one plus the new messages: what a prefix cache can reuse).
//
// Reported per N: turns/s, turn latency p50/p99 (ms), prefix-cache hit rate (cached / prompt
// tokens), generated tokens/s and prompt tokens/s (aggregate), sandbox runs.
//
// The KV cache is sized for the sessions (--kv-memory-mb, default 2048 MiB: 87k tokens of the
// ~100M model in F32). With the server's default of one context's worth, 32 growing
// conversations evict each other's prefixes and the run measures preemption, not the runtime.

#include "agentd/sandbox/sandbox.h"

#include "bench/benches.h"
#include "builtin/sandbox_tools.h"
#include "log/logging.h"
#include "mcp/asio_timers.h"
#include "openai/model_service.h"
#include "runtime/agent_runtime.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace agentd::gateway::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kUsage =
    "usage: agentd bench agents --model FILE.gguf [--sessions 1,8,32] [--turns 6]\n"
    "                           [--answer-tokens 16] [--threads N]\n"
    "                           [--kv-memory-mb 2048] [--kv-type f32|f16] [--json]\n";

struct Options {
    std::string model;
    std::vector<int> sessions{1, 8, 32};
    int turns = 6;
    int answer_tokens = 16;
    int threads = 0;
    int kv_memory_mb = 2048;
    std::string kv_type = "f32";
    bool json = false;
};

int positive(const std::string& flag, std::string_view v) {
    int x = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
    if (ec != std::errc() || p != v.data() + v.size() || x <= 0) {
        throw std::invalid_argument(flag + " needs positive numbers");
    }
    return x;
}

Options parse(const cli::Args& args) {
    Options o;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        const auto value = [&]() -> const std::string& {
            if (i + 1 >= args.size()) {
                throw std::invalid_argument(a + " needs a value");
            }
            return args[++i];
        };
        if (a == "--json") {
            o.json = true;
        } else if (a == "--help") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        } else if (a == "--model") {
            o.model = value();
        } else if (a == "--sessions") {
            o.sessions.clear();
            std::string_view list = value();
            while (!list.empty()) {
                const auto comma = list.find(',');
                o.sessions.push_back(positive(a, list.substr(0, comma)));
                list = comma == std::string_view::npos ? "" : list.substr(comma + 1);
            }
        } else if (a == "--turns") {
            o.turns = positive(a, value());
        } else if (a == "--answer-tokens") {
            o.answer_tokens = positive(a, value());
        } else if (a == "--threads") {
            o.threads = positive(a, value());
        } else if (a == "--kv-memory-mb") {
            o.kv_memory_mb = positive(a, value());
        } else if (a == "--kv-type") {
            o.kv_type = value();
            if (o.kv_type != "f16" && o.kv_type != "f32") {
                throw std::invalid_argument("--kv-type must be f16 or f32");
            }
        } else {
            throw std::invalid_argument("unknown option " + a + "\n" + kUsage);
        }
    }
    if (o.model.empty()) {
        throw std::invalid_argument(std::string("--model is required\n") + kUsage);
    }
    return o;
}

runtime::AgentSpec bench_agent(int answer_tokens) {
    runtime::AgentSpec a;
    a.name = "bench";
    a.system_prompt = "You compute with Python.";
    a.tools = {"run_python"};
    a.tool_choice = "run_python";
    a.followup_tool_choice = "none";
    a.max_steps = 2;
    a.sampling.temperature = 0;
    a.sampling.max_tokens = 96;
    a.token_budget = 96 + answer_tokens;
    a.tool_schemas["run_python"] =
        R"({"type":"object","properties":{"code":{"type":"string",)"
        R"("pattern":"^print\\([1-9]\\*[1-9]\\)$"}},"required":["code"],)"
        R"("additionalProperties":false})";
    return a;
}

struct Level {
    int sessions = 0;
    int turns = 0;
    int failed = 0;
    double seconds = 0;
    std::vector<double> latencies_ms;
    std::int64_t prompt_tokens = 0;
    std::int64_t cached_tokens = 0;
    std::int64_t completion_tokens = 0;
    int tool_calls = 0;
};

double percentile(std::vector<double> v, double p) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    const auto idx = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(idx, v.size() - 1)];
}

/// One session: `turns` turns in sequence over a growing conversation.
struct Session : std::enable_shared_from_this<Session> {
    std::shared_ptr<runtime::AgentRuntime> rt;
    Level* level = nullptr;
    std::mutex* level_mu = nullptr;
    int turns_left = 0;
    int id = 0;
    std::vector<runtime::TurnMessage> conversation;
    std::function<void()> finished;

    void next() {
        if (turns_left-- == 0) {
            finished();
            return;
        }
        conversation.push_back({"user",
                                "Session " + std::to_string(id) + ", question " +
                                    std::to_string(turns_left) + ": compute a product.",
                                {},
                                {}});
        runtime::TurnRequest req;
        req.tenant = "bench";
        req.agent = "bench";
        req.face = "bench";
        req.messages = conversation;
        const auto start = Clock::now();
        auto self = shared_from_this();
        rt->run_turn(std::move(req), {}, [self, start](base::Result<runtime::TurnResult> r) {
            const double ms =
                std::chrono::duration<double, std::milli>(Clock::now() - start).count();
            {
                std::lock_guard lock(*self->level_mu);
                if (!r) {
                    ++self->level->failed;
                } else {
                    ++self->level->turns;
                    self->level->latencies_ms.push_back(ms);
                    self->level->prompt_tokens += r->usage.prompt_tokens;
                    self->level->cached_tokens += r->usage.cached_tokens;
                    self->level->completion_tokens += r->usage.completion_tokens;
                    self->level->tool_calls += static_cast<int>(r->tool_calls.size());
                }
            }
            if (r) {
                for (const auto& c : r->tool_calls) {
                    self->conversation.push_back({"assistant", "", {c}, {}});
                    self->conversation.push_back({"tool", c.result, {}, c.id});
                }
                self->conversation.push_back(
                    {"assistant", runtime::AgentRuntime::answer_text(*r), {}, {}});
            }
            self->next();
        });
    }
};

Level run_level(const std::shared_ptr<runtime::AgentRuntime>& rt, int sessions, int turns) {
    Level level;
    level.sessions = sessions;
    std::mutex mu;
    std::promise<void> all_done;
    std::atomic<int> left{sessions};
    const auto start = Clock::now();
    std::vector<std::shared_ptr<Session>> list;
    for (int s = 0; s < sessions; ++s) {
        auto session = std::make_shared<Session>();
        session->rt = rt;
        session->level = &level;
        session->level_mu = &mu;
        session->turns_left = turns;
        session->id = s;
        session->finished = [&left, &all_done] {
            if (--left == 0) {
                all_done.set_value();
            }
        };
        list.push_back(session);
    }
    for (auto& s : list) {
        s->next();
    }
    all_done.get_future().wait();
    level.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return level;
}

nlohmann::json level_json(const Level& l) {
    const double hit = l.prompt_tokens > 0 ? static_cast<double>(l.cached_tokens) /
                                                 static_cast<double>(l.prompt_tokens)
                                           : 0.0;
    return {{"sessions", l.sessions},
            {"turns", l.turns},
            {"failed_turns", l.failed},
            {"turns_per_s", l.turns / l.seconds},
            {"turn_p50_ms", percentile(l.latencies_ms, 0.5)},
            {"turn_p99_ms", percentile(l.latencies_ms, 0.99)},
            {"prefix_cache_hit_rate", hit},
            {"generated_tokens_per_s", static_cast<double>(l.completion_tokens) / l.seconds},
            {"prompt_tokens_per_s", static_cast<double>(l.prompt_tokens) / l.seconds},
            {"sandbox_runs", l.tool_calls},
            {"seconds", l.seconds}};
}

} // namespace

int agents_bench(const cli::Args& args) {
    const Options o = parse(args);
    log::init_logging(log::Level::warn, log::Format::text);
    // The sandbox's zygote forks before the model is loaded (small and fast to fork).
    auto sb = sandbox::Sandbox::create(sandbox::SandboxConfig{});
    if (!sb) {
        throw std::runtime_error("sandbox: " + sb.error().what());
    }
    std::shared_ptr<sandbox::Sandbox> sandbox(std::move(*sb));
    boost::asio::io_context io;
    auto guard = boost::asio::make_work_guard(io);
    std::vector<std::thread> io_threads;
    for (int i = 0; i < 2; ++i) {
        io_threads.emplace_back([&io] { io.run(); });
    }
    boost::asio::thread_pool blocking(4);
    openai::EngineConfig engine;
    engine.threads = o.threads;
    engine.kv_memory_mb = static_cast<std::uint64_t>(o.kv_memory_mb);
    engine.kv_type = o.kv_type;
    engine.max_sequences = std::max(64, *std::max_element(o.sessions.begin(), o.sessions.end()));
    auto model = openai::ModelService::load(o.model, engine, nullptr);
    auto registry = std::make_shared<tools::ToolRegistry>();
    auto runner = std::make_shared<builtin::SandboxRunner>(sandbox, builtin::SandboxExposeConfig{},
                                                           io, blocking);
    if (auto tool = builtin::make_run_code_tool(runner, sandbox::Language::python);
        !tool || !registry->add_shared(*tool)) {
        throw std::runtime_error("cannot register run_python");
    }
    auto timers = std::make_shared<mcp::AsioTimers>(io);
    auto tracer = std::make_shared<runtime::Tracer>(runtime::TracerOptions{}, nullptr, nullptr);
    auto rt = std::make_shared<runtime::AgentRuntime>(
        std::vector<runtime::AgentSpec>{bench_agent(o.answer_tokens)}, model.get(), registry,
        blocking, timers, tracer);

    nlohmann::json levels = nlohmann::json::array();
    for (const int n : o.sessions) {
        const Level l = run_level(rt, n, o.turns);
        auto j = level_json(l);
        if (!o.json) {
            std::printf("sessions %3d: %5.2f turns/s, turn p50 %7.1f ms p99 %7.1f ms, prefix hit "
                        "%4.1f%%, %7.1f gen tok/s, %8.1f prompt tok/s, %d failed\n",
                        n, j["turns_per_s"].get<double>(), j["turn_p50_ms"].get<double>(),
                        j["turn_p99_ms"].get<double>(),
                        100.0 * j["prefix_cache_hit_rate"].get<double>(),
                        j["generated_tokens_per_s"].get<double>(),
                        j["prompt_tokens_per_s"].get<double>(), l.failed);
            std::fflush(stdout);
        }
        levels.push_back(std::move(j));
    }
    rt->stop();
    blocking.join();
    model.reset();
    guard.reset();
    io.stop();
    for (auto& t : io_threads) {
        t.join();
    }
    if (o.json) {
        std::puts(
            nlohmann::json{{"model", o.model}, {"turns_per_session", o.turns}, {"levels", levels}}
                .dump()
                .c_str());
    }
    return 0;
}

} // namespace agentd::gateway::bench
