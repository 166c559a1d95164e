#include "agentd/gateway/cli.h"

#include <cstdio>
#include <exception>
#include <string_view>

namespace agentd::gateway {
namespace {

constexpr const char* kUsage = "usage: agentd <command> [options]\n"
                               "commands:\n"
                               "  serve      run the HTTP gateway\n"
                               "  mcp        MCP over stdio\n"
                               "  sandbox    run a program in the sandbox\n"
                               "  generate   complete a prompt with a GGUF model\n"
                               "  tokenize   print token ids\n"
                               "  bench      benchmarks\n"
                               "  version    print the version\n";

} // namespace

int run_cli(int argc, char** argv) noexcept {
    try {
        if (argc < 2) {
            std::fputs(kUsage, stderr);
            return 2;
        }
        const std::string_view command = argv[1];
        if (command == "version" || command == "--version") {
            std::puts("agentd 0.1.0");
            return 0;
        }
        if (command == "help" || command == "--help" || command == "-h") {
            std::fputs(kUsage, stdout);
            return 0;
        }
        std::fprintf(stderr, "agentd: unknown command '%s'\n%s", argv[1], kUsage);
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "agentd: %s\n", e.what());
        return 1;
    }
}

} // namespace agentd::gateway
