#include "bench/benches.h"
#include "cli/commands.h"

#include <cstdio>
#include <string_view>

namespace agentd::gateway::cli {
namespace {

struct Bench {
    std::string_view name;
    int (*run)(const Args&);
};

constexpr Bench kBenches[] = {
    {"engine", &bench::engine_bench},   {"serve", &bench::serve_bench},
    {"prefix", &bench::prefix_bench},   {"gateway", &bench::gateway_bench},
    {"sandbox", &bench::sandbox_bench}, {"vector", &bench::vector_bench},
    {"agents", &bench::agents_bench},
};

} // namespace

int bench_command(const Args& args) {
    if (args.empty() || args[0] == "--help") {
        std::fputs("usage: agentd bench <engine|serve|prefix|gateway|sandbox|vector|agents> "
                   "[options] [--json]\n",
                   args.empty() ? stderr : stdout);
        return args.empty() ? 2 : 0;
    }
    for (const auto& b : kBenches) {
        if (b.name == args[0]) {
            return b.run(Args(args.begin() + 1, args.end()));
        }
    }
    std::fprintf(stderr, "agentd bench: unknown benchmark '%s'\n", args[0].c_str());
    return 2;
}

} // namespace agentd::gateway::cli
