// agentd sandbox run --lang python|bash FILE [--timeout-ms N] [--memory-mb N] [--workspace DIR]
// agentd sandbox info
#include "agentd/sandbox/sandbox.h"

#include "builtin/sandbox_runner.h"
#include "cli/commands.h"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <stdexcept>
#include <string>

namespace agentd::gateway::cli {
namespace {

constexpr const char* kUsage =
    "usage: agentd sandbox run --lang python|bash FILE [options] [-- ARGS...]\n"
    "       agentd sandbox info\n"
    "\n"
    "Runs FILE in the sandbox (stdin is passed through) and prints one JSON object:\n"
    "exit_code, signal, stdout, stderr, timed_out, wall_ms, cpu_ms, max_rss_kb, isolation.\n"
    "Exit status 0 when the sandbox itself worked, whatever the program did.\n"
    "\n"
    "options:\n"
    "  --timeout-ms N      wall-clock limit (default 5000)\n"
    "  --cpu-ms N          CPU limit, whole seconds are enforced (default 5000)\n"
    "  --memory-mb N       memory limit (default 512)\n"
    "  --workspace DIR     bind DIR read-write at /workspace (default: a fresh 256 MiB tmpfs)\n"
    "  --require LAYERS    comma-separated layers that must be verified, or refuse to run\n"
    "  --warm              use the pre-warmed Python interpreter (slower for one run: it\n"
    "                      has to start first)\n";

std::uint32_t parse_u32(const std::string& flag, const std::string& value, std::uint32_t max) {
    std::uint32_t v = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || end != value.data() + value.size() || v == 0 || v > max) {
        throw std::invalid_argument(flag + " needs a number between 1 and " + std::to_string(max));
    }
    return v;
}

std::string read_program(const std::string& path, std::uint64_t max_bytes) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read " + path);
    }
    std::string code;
    char buf[65536];
    while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
        code.append(buf, static_cast<std::size_t>(in.gcount()));
        if (code.size() > max_bytes) {
            throw std::runtime_error(path + " is larger than " + std::to_string(max_bytes) +
                                     " bytes");
        }
    }
    return code;
}

void print_json(const nlohmann::json& j) {
    // Program output is arbitrary bytes: invalid UTF-8 becomes U+FFFD rather than an error.
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    std::cout.flush();
}

int info_command() {
    sandbox::SandboxConfig config;
    auto sb = sandbox::Sandbox::create(config);
    if (!sb) {
        throw std::runtime_error(sb.error().what());
    }
    const auto& h = (*sb)->host();
    print_json({{"mode", std::string(sandbox::to_string(h.mode))},
                {"cgroup", h.cgroup},
                {"isolation", h.layers.names()}});
    return 0;
}

int run_command(const Args& args) {
    sandbox::SandboxConfig config;
    sandbox::RunRequest req;
    sandbox::Limits limits = config.default_limits;
    std::string file;
    std::optional<sandbox::Language> lang;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&]() -> const std::string& {
            if (i + 1 >= args.size()) {
                throw std::invalid_argument(a + " needs a value");
            }
            return args[++i];
        };
        if (a == "--lang") {
            lang = sandbox::parse_language(value());
            if (!lang) {
                throw std::invalid_argument("--lang must be python or bash");
            }
        } else if (a == "--timeout-ms") {
            limits.wall_ms = parse_u32(a, value(), 600'000);
        } else if (a == "--cpu-ms") {
            limits.cpu_ms = parse_u32(a, value(), 600'000);
        } else if (a == "--memory-mb") {
            limits.memory_bytes = parse_u32(a, value(), 8192) * sandbox::kMiB;
        } else if (a == "--workspace") {
            req.host_workspace = std::filesystem::absolute(value()).lexically_normal().string();
        } else if (a == "--require") {
            auto layers = sandbox::parse_layer_list(value());
            if (!layers) {
                throw std::invalid_argument("--require: unknown layer in '" + args[i] + "'");
            }
            config.required = *layers;
        } else if (a == "--warm") {
            config.warm_python = true;
        } else if (a == "--") {
            req.args.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
            break;
        } else if (!a.empty() && a[0] == '-') {
            throw std::invalid_argument("unknown option " + a);
        } else if (file.empty()) {
            file = a;
        } else {
            throw std::invalid_argument("more than one FILE");
        }
    }
    if (!lang || file.empty()) {
        std::fputs(kUsage, stderr);
        return 2;
    }
    req.language = *lang;
    req.code = read_program(file, config.max_code_bytes);
    req.limits = limits;
    // Pass stdin through unless it is a terminal (nobody would type a program's input there).
    if (::fcntl(0, F_GETFD) >= 0 && ::isatty(0) == 0) {
        req.stdin_fd = 0;
    }
    auto sb = sandbox::Sandbox::create(config);
    if (!sb) {
        throw std::runtime_error(sb.error().what());
    }
    if (config.warm_python) {
        (*sb)->wait_warm_ready(std::chrono::seconds(10));
    }
    auto result = (*sb)->run(req);
    if (!result) {
        throw std::runtime_error(result.error().what());
    }
    print_json(builtin::result_json(*result));
    return 0;
}

} // namespace

int sandbox_command(const Args& args) {
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        std::fputs(kUsage, args.empty() ? stderr : stdout);
        return args.empty() ? 2 : 0;
    }
    try {
        if (args[0] == "run") {
            return run_command(Args(args.begin() + 1, args.end()));
        }
        if (args[0] == "info") {
            return info_command();
        }
        std::fprintf(stderr, "agentd sandbox: unknown subcommand '%s'\n%s", args[0].c_str(),
                     kUsage);
        return 2;
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "agentd sandbox: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "agentd sandbox: %s\n", e.what());
        return 1;
    }
}

} // namespace agentd::gateway::cli
