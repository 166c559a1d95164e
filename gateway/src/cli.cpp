#include "agentd/gateway/cli.h"

#include "cli/commands.h"

#include <cstdio>
#include <exception>
#include <string_view>

namespace agentd::gateway {
namespace {

struct Command {
    std::string_view name;
    int (*run)(const cli::Args&);
    std::string_view help;
};

constexpr Command kCommands[] = {
    {"serve", &cli::serve_command, "run the HTTP gateway (MCP, A2A, OpenAI API)"},
    {"mcp", &cli::mcp_command, "serve MCP over stdio (--stdio)"},
    {"sandbox", &cli::sandbox_command, "run a program in the sandbox (sandbox run ...)"},
    {"generate", &cli::generate_command, "complete a prompt with a GGUF model"},
    {"tokenize", &cli::tokenize_command, "print the token ids of a text"},
    {"bench", &cli::bench_command, "run a benchmark (engine|serve|prefix|gateway|sandbox|...)"},
    {"a2a", &cli::a2a_command, "call an A2A agent (a2a call CARD_URL MESSAGE)"},
};

void print_usage(std::FILE* out) {
    std::fputs("usage: agentd <command> [options]\n\ncommands:\n", out);
    for (const auto& c : kCommands) {
        std::fprintf(out, "  %-10.*s %.*s\n", static_cast<int>(c.name.size()), c.name.data(),
                     static_cast<int>(c.help.size()), c.help.data());
    }
    std::fputs("  version    print the version\n\n"
               "`agentd <command> --help` describes a command's options.\n",
               out);
}

} // namespace

int run_cli(int argc, char** argv) noexcept {
    try {
        if (argc < 2) {
            print_usage(stderr);
            return 2;
        }
        const std::string_view name = argv[1];
        if (name == "version" || name == "--version") {
            std::puts("agentd 0.1.0");
            return 0;
        }
        if (name == "help" || name == "--help" || name == "-h") {
            print_usage(stdout);
            return 0;
        }
        const cli::Args args(argv + 2, argv + argc);
        for (const auto& c : kCommands) {
            if (c.name == name) {
                return c.run(args);
            }
        }
        std::fprintf(stderr, "agentd: unknown command '%s'\n\n", argv[1]);
        print_usage(stderr);
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "agentd: %s\n", e.what());
        return 1;
    } catch (...) {
        std::fputs("agentd: unknown error\n", stderr);
        return 1;
    }
}

} // namespace agentd::gateway
