// agentd bench gateway: MCP tools/call throughput and latency over Streamable HTTP at several
// concurrency levels (CONTRACT.md "bench"). Targets --url, or an `agentd serve
// --conformance-fixtures` it starts itself on a free port. tests/bench/gateway/run.sh runs it
// against agentd and the official TypeScript SDK server side by side.
#include "bench/benches.h"
#include "bench/load_generator.h"
#include "bench/serve_bench_client.h"
#include "http/text.h"

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/parsers.hpp>
#include <boost/program_options/value_semantic.hpp>
#include <boost/program_options/variables_map.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace agentd::gateway::bench {
namespace po = boost::program_options;

namespace {

/// `agentd serve --conformance-fixtures` on a free loopback port (a ChildServer, stopped with
/// SIGTERM) over a temporary data directory removed afterwards.
class ServedAgentd {
public:
    ServedAgentd() : data_dir_(make_data_dir()) {
        try {
            child_ = std::make_unique<ChildServer>(std::vector<std::string>{
                "/proc/self/exe", "serve", "--listen", "127.0.0.1:0", "--data", data_dir_.string(),
                "--conformance-fixtures", "--log-level", "warn"});
        } catch (...) {
            remove_data_dir();
            throw;
        }
    }
    ~ServedAgentd() {
        child_.reset();
        remove_data_dir();
    }
    ServedAgentd(const ServedAgentd&) = delete;
    ServedAgentd& operator=(const ServedAgentd&) = delete;

    [[nodiscard]] std::uint16_t port() const { return child_->port(); }

private:
    static std::filesystem::path make_data_dir() {
        char dir_template[] = "/tmp/agentd-bench-XXXXXX";
        if (::mkdtemp(dir_template) == nullptr) {
            throw std::runtime_error("cannot create a temporary data directory");
        }
        return dir_template;
    }
    void remove_data_dir() {
        std::error_code ec;
        std::filesystem::remove_all(data_dir_, ec);
    }

    std::filesystem::path data_dir_;
    std::unique_ptr<ChildServer> child_;
};

std::vector<std::size_t> parse_levels(const std::string& text) {
    std::vector<std::size_t> levels;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        if (item.empty() || item.find_first_not_of("0123456789") != std::string::npos ||
            item.size() > 5 || std::stoul(item) == 0) {
            throw std::runtime_error("--concurrency: expected a list like 1,16,64 (got \"" + text +
                                     "\")");
        }
        levels.push_back(std::stoul(item));
    }
    if (levels.empty()) {
        throw std::runtime_error("--concurrency: at least one level");
    }
    return levels;
}

std::string result_json(const LoadResult& r) {
    char buf[512];
    std::snprintf(
        buf, sizeof buf,
        R"({"concurrency":%zu,"requests":%zu,"errors":%zu,"seconds":%.3f,)"
        R"("requests_per_s":%.1f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f})",
        r.concurrency, r.requests, r.errors, r.seconds, r.requests_per_s, r.p50_ms, r.p90_ms,
        r.p99_ms, r.max_ms);
    return buf;
}

po::options_description bench_options() {
    po::options_description desc("agentd bench gateway options");
    auto add = desc.add_options();
    add("help,h", "print this help");
    add("url", po::value<std::string>(),
        "MCP endpoint to load (default: start `agentd serve --conformance-fixtures` and use its "
        "/mcp)");
    add("concurrency", po::value<std::string>()->default_value("1,16,64"),
        "connection counts to run, comma-separated");
    add("requests", po::value<std::size_t>()->default_value(20000), "measured requests per level");
    add("duration", po::value<double>()->default_value(0),
        "seconds per level instead of a request count");
    add("warmup", po::value<std::size_t>()->default_value(1000),
        "unmeasured requests before each level");
    add("tool", po::value<std::string>()->default_value("test_simple_text"), "tool to call");
    add("arguments", po::value<std::string>()->default_value("{}"),
        "tool arguments (a JSON object)");
    add("protocol-version", po::value<std::string>()->default_value("2025-06-18"),
        "MCP protocol version to negotiate");
    add("no-session", po::bool_switch(), "skip initialize (stateless servers)");
    add("get", po::bool_switch(),
        "plain GET requests counting 200s: the HTTP layer alone (e.g. --url .../healthz)");
    add("threads", po::value<unsigned>()->default_value(1), "client I/O threads");
    add("json", po::bool_switch(), "print one JSON object as the last line");
    return desc;
}

/// Runs every level; prints a table row each and returns the results as JSON array items.
std::string run_levels(LoadOptions options, const std::vector<std::size_t>& levels,
                       bool* any_error) {
    std::printf("%11s %9s %7s %11s %8s %8s %8s\n", "concurrency", "requests", "errors", "req/s",
                "p50 ms", "p90 ms", "p99 ms");
    std::string results;
    for (const std::size_t level : levels) {
        options.concurrency = level;
        const LoadResult r = run_load(options);
        std::printf("%11zu %9zu %7zu %11.1f %8.3f %8.3f %8.3f\n", r.concurrency, r.requests,
                    r.errors, r.requests_per_s, r.p50_ms, r.p90_ms, r.p99_ms);
        std::fflush(stdout);
        if (!r.first_error.empty()) {
            *any_error = true;
            std::fprintf(stderr, "  first error: %s\n", r.first_error.c_str());
        }
        if (!results.empty()) {
            results.push_back(',');
        }
        results += result_json(r);
    }
    return results;
}

} // namespace

int gateway_bench(const cli::Args& args) {
    const po::options_description desc = bench_options();
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(desc).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::fprintf(stderr, "agentd bench gateway: %s\n", e.what());
        return 2;
    }
    if (vm.count("help") != 0) {
        std::cout << "usage: agentd bench gateway [options]\n\n" << desc;
        return 0;
    }
    const auto levels = parse_levels(vm["concurrency"].as<std::string>());
    const std::string tool = vm["tool"].as<std::string>();
    const std::string arguments = vm["arguments"].as<std::string>();
    if (arguments.empty() || arguments.front() != '{' || arguments.back() != '}') {
        std::fputs("agentd bench gateway: --arguments must be a JSON object\n", stderr);
        return 2;
    }

    std::unique_ptr<ServedAgentd> served;
    std::string url = vm.count("url") != 0 ? vm["url"].as<std::string>() : "";
    if (url.empty()) {
        served = std::make_unique<ServedAgentd>();
        url = "http://127.0.0.1:" + std::to_string(served->port()) + "/mcp";
    }

    LoadOptions options;
    options.url = parse_http_url(url);
    options.requests = vm["requests"].as<std::size_t>();
    options.duration =
        std::chrono::milliseconds(static_cast<std::int64_t>(vm["duration"].as<double>() * 1000.0));
    options.warmup = vm["warmup"].as<std::size_t>();
    options.threads = std::max(1u, vm["threads"].as<unsigned>());
    options.mcp_session = !vm["no-session"].as<bool>();
    options.plain_get = vm["get"].as<bool>();
    options.protocol_version = vm["protocol-version"].as<std::string>();
    const std::string prefix = R"({"jsonrpc":"2.0","id":)";
    const std::string suffix = R"(,"method":"tools/call","params":{"name":)" +
                               http::json_string(tool) + R"(,"arguments":)" + arguments + "}}";
    options.body = [prefix, suffix](std::uint64_t id) {
        return prefix + std::to_string(id) + suffix;
    };

    std::printf("target %s, tool %s\n", url.c_str(), tool.c_str());
    bool any_error = false;
    const std::string results = run_levels(options, levels, &any_error);
    if (vm["json"].as<bool>()) {
        std::printf("{\"benchmark\":\"gateway\",\"url\":%s,\"tool\":%s,\"results\":[%s]}\n",
                    http::json_string(url).c_str(), http::json_string(tool).c_str(),
                    results.c_str());
    }
    return any_error ? 1 : 0;
}

} // namespace agentd::gateway::bench
