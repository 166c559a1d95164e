#include "cli/commands.h"

#include <cstdio>

namespace agentd::gateway::cli {

int serve_command(const Args& /*args*/) {
    std::fputs("agentd serve: this command is not built yet\n", stderr);
    return 1;
}

} // namespace agentd::gateway::cli
