#pragma once
// The zygote's start-up: decides the mode (root, rootless, minimal), enters its private
// namespaces, probes which namespaces and mounts the kernel allows, creates the cgroup parent
// and the workspace root; and the HELLO message that tells agentd the outcome.

#include "detail/context.h"

#include <string>
#include <string_view>

namespace agentd::sandbox::detail {

/// Runs in the zygote, single-threaded, before its loop. Fills ctx.host, ctx.cgroups and the
/// workspace fields. Never fails: what does not work is left out (and reported).
void setup_zygote(Context& ctx);

std::string hello_message(const Context& ctx);

struct Hello {
    HostReport::Mode mode = HostReport::Mode::minimal;
    std::uint64_t clone_flags = 0;
    bool userns = false;
    std::string cgroup;
    bool workspace_tmpfs = false;
    bool seccomp = false;
};
bool parse_hello(std::string_view msg, Hello& out);

} // namespace agentd::sandbox::detail
