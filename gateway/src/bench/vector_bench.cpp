#include "bench/benches.h"

#include <cstdio>

namespace agentd::gateway::bench {

int vector_bench(const cli::Args& /*args*/) {
    std::fputs("agentd bench vector: this benchmark is not built yet\n", stderr);
    return 1;
}

} // namespace agentd::gateway::bench
