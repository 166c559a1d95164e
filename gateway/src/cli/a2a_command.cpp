// agentd a2a call CARD_URL MESSAGE [--task-id ID] [--context-id ID] [--timeout-ms N]
//                                  [--token-env VAR]
//
// agentd's A2A client from the command line (the peer-agent tool without a model): fetches the
// peer's card, sends MESSAGE, follows the task to its end and prints one JSON object:
// {"state", "task_id", "context_id", "version", "text", "progress": [...]} — exit 0 — or
// {"error": "..."} — exit 1.

#include "agentd/protocols/json_rpc.h"

#include "a2a/peer_client.h"
#include "cli/commands.h"
#include "http_client/beast_http_client.h"
#include "mcp/asio_timers.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <future>
#include <mutex>
#include <thread>

namespace agentd::gateway::cli {
namespace {

constexpr const char* kUsage =
    "usage: agentd a2a call CARD_URL MESSAGE [--task-id ID] [--context-id ID]\n"
    "                       [--timeout-ms N] [--token-env VAR]\n"
    "Sends MESSAGE to the A2A agent whose card is at CARD_URL, follows its task to the end\n"
    "and prints the outcome as one JSON object.\n"
    "  --task-id ID     continue a task of the agent (after input-required)\n"
    "  --context-id ID  send within this context\n"
    "  --timeout-ms N   give up (and cancel the agent's task) after N ms (default 120000)\n"
    "  --token-env VAR  send the bearer token in environment variable VAR\n";

struct Options {
    std::string card_url;
    std::string message;
    std::string task_id;
    std::string context_id;
    long timeout_ms = 120'000;
    std::string token;
};

std::optional<Options> parse(const Args& args) {
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        std::fputs(kUsage, args.empty() ? stderr : stdout);
        return std::nullopt;
    }
    if (args[0] != "call") {
        std::fprintf(stderr, "agentd a2a: unknown subcommand '%s'\n%s", args[0].c_str(), kUsage);
        return std::nullopt;
    }
    Options o;
    std::vector<std::string> positional;
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string& a = args[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= args.size()) {
                throw std::runtime_error("a2a call: " + a + " needs a value");
            }
            return args[++i];
        };
        if (a == "--task-id") {
            o.task_id = value();
        } else if (a == "--context-id") {
            o.context_id = value();
        } else if (a == "--timeout-ms") {
            o.timeout_ms = std::stol(value());
            if (o.timeout_ms < 1) {
                throw std::runtime_error("a2a call: --timeout-ms must be positive");
            }
        } else if (a == "--token-env") {
            const auto var = value();
            const char* v = std::getenv(var.c_str());
            if (v == nullptr) {
                throw std::runtime_error("a2a call: environment variable " + var + " is not set");
            }
            o.token = v;
        } else if (a.starts_with("--")) {
            throw std::runtime_error("a2a call: unknown option " + a);
        } else {
            positional.push_back(a);
        }
    }
    if (positional.size() != 2) {
        std::fputs(kUsage, stderr);
        return std::nullopt;
    }
    o.card_url = positional[0];
    o.message = positional[1];
    return o;
}

} // namespace

int a2a_command(const Args& args) {
    const auto options = parse(args);
    if (!options) {
        return 2;
    }
    boost::asio::io_context io;
    auto guard = boost::asio::make_work_guard(io);
    std::thread runner([&io] { io.run(); });

    a2a::PeerOptions peer;
    peer.card_url = options->card_url;
    peer.bearer_token = options->token;
    // The user's own command: any destination but cloud metadata endpoints.
    peer.policy.allow_loopback = true;
    peer.policy.allow_private = true;
    auto client = std::make_shared<a2a::PeerClient>(http_client::make_beast_http_client(io),
                                                    std::make_shared<mcp::AsioTimers>(io), peer);
    nlohmann::json progress = nlohmann::json::array();
    std::mutex progress_mu;
    a2a::PeerCall call;
    call.text = options->message;
    call.task_id = options->task_id;
    call.context_id = options->context_id;
    call.deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(options->timeout_ms);
    call.progress = [&](double, std::optional<double>, std::string_view message) {
        std::lock_guard lock(progress_mu);
        progress.push_back(std::string(message));
    };
    std::promise<base::Result<a2a::PeerOutcome>> promise;
    auto future = promise.get_future();
    client->call(std::move(call),
                 [&promise](base::Result<a2a::PeerOutcome> r) { promise.set_value(std::move(r)); });
    auto result = future.get();
    guard.reset();
    io.stop();
    runner.join();

    nlohmann::json out;
    if (!result) {
        out = {{"error", result.error().what()}};
        std::puts(protocols::jsonrpc::serialize(out).c_str());
        return 1;
    }
    std::lock_guard lock(progress_mu);
    out = {{"state", protocols::a2a::to_string(result->state, protocols::a2a::Version::v0_3)},
           {"task_id", result->task_id},
           {"context_id", result->context_id},
           {"version", protocols::a2a::to_string(result->version)},
           {"text", result->text},
           {"progress", progress}};
    std::puts(protocols::jsonrpc::serialize(out).c_str());
    return 0;
}

} // namespace agentd::gateway::cli
