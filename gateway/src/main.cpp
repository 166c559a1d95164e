// agentd: the single binary (CONTRACT.md "Commands").
#include "agentd/gateway/cli.h"

int main(int argc, char** argv) {
    return agentd::gateway::run_cli(argc, argv);
}
