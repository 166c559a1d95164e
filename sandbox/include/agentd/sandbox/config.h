#pragma once
/// Configuration of a Sandbox (start-up time; plain value type).

#include "agentd/sandbox/layer.h"
#include "agentd/sandbox/limits.h"

#include <cstdint>
#include <string>
#include <vector>

namespace agentd::sandbox {

/// The maximums a request may ask for unless the configuration says otherwise.
Limits default_max_limits();

struct SandboxConfig {
    Limits default_limits;                    ///< used when a request sets none
    Limits max_limits = default_max_limits(); ///< a request above any of these is refused
    /// Layers that must be available: Sandbox::create fails with errc::unavailable when the host
    /// cannot provide one, and a run that could not verify one fails instead of running.
    LayerSet required;
    /// Interpreters, by absolute path (never looked up through PATH).
    std::string python_path = "/usr/bin/python3";
    std::string bash_path = "/bin/bash";
    /// Host uid/gid the program runs as when agentd runs as root (mapped to uid 1000 inside).
    std::uint32_t sandbox_uid = 65534;
    std::uint32_t sandbox_gid = 65534;
    /// An existing host directory used as a mount point inside each run's private mount
    /// namespace while its root is assembled (never written to on the host).
    std::string staging_dir = "/tmp";
    /// Host paths bound read-only at the same place in addition to the built-in list (/usr, the
    /// /lib* and /bin links, the parts of /etc interpreters need).
    std::vector<std::string> extra_ro_binds;
    /// Managed workspaces: an existing host directory under which each workspace is a tmpfs
    /// mount private to the sandbox (invisible on the host). Empty: a directory is created in
    /// the system temp dir.
    std::string workspace_root;
    std::uint32_t max_workspaces = 256;
    std::uint32_t workspace_idle_ttl_s = 3600; ///< unused workspaces are removed after this
    /// Keep a pre-warmed Python interpreter (inside its own sandbox) that forks per run.
    bool warm_python = false;
    /// Modules the warm interpreter imports before the first run.
    std::vector<std::string> warm_preload = {
        "json",   "re",     "math",     "collections", "itertools", "functools", "datetime",
        "random", "string", "textwrap", "io",          "os",        "sys",       "traceback"};
    /// Cold sandboxes kept pre-started (namespaces, cgroup and the read-only part of the root
    /// ready), so a run pays little more than the interpreter. 0: start each on demand.
    std::uint32_t prestarted_runs = 2;
    /// Per-run sandboxes the warm interpreter keeps forked ahead of the request.
    std::uint32_t warm_pool = 2;
    std::uint32_t max_concurrent_runs = 16; ///< more wait in a queue
    std::uint32_t max_queued_runs = 1024;   ///< beyond this start() fails with errc::busy
    std::uint64_t max_code_bytes = 4 * kMiB;
    std::uint64_t max_stdin_bytes = 64 * kMiB;
};

} // namespace agentd::sandbox
