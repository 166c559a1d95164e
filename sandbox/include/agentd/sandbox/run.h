#pragma once
/// One sandboxed run: what to run (RunRequest) and what happened (RunResult). Plain value types.

#include "agentd/sandbox/layer.h"
#include "agentd/sandbox/limits.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace agentd::sandbox {

enum class Language : std::uint8_t { python, bash };

std::string_view to_string(Language l) noexcept;
std::optional<Language> parse_language(std::string_view name) noexcept;

struct RunRequest {
    Language language = Language::python;
    /// The program text. It is written to /run/agentd/main.py (or main.sh), read-only, and run
    /// by the interpreter with /workspace as the working directory.
    std::string code;
    /// Extra arguments after the script path (sys.argv[1:], $1...).
    std::vector<std::string> args;
    /// Bytes given to the program's stdin (then EOF). Ignored when stdin_fd >= 0.
    std::string stdin_data;
    /// When >= 0, a readable descriptor (borrowed; the caller keeps ownership) whose content is
    /// pumped into the program's stdin until EOF. The program never receives this descriptor.
    int stdin_fd = -1;
    /// Limits of this run; the configuration's defaults when unset. Must be within the
    /// configuration's maximums.
    std::optional<Limits> limits;
    /// A managed workspace (Sandbox::create_workspace) mounted at /workspace. Empty: none.
    std::string workspace_id;
    /// A host directory bound read-write at /workspace instead (CLI --workspace). Its size is not
    /// capped by the kernel (no workspace_quota layer). Mutually exclusive with workspace_id.
    std::string host_workspace;
    /// With neither workspace, /workspace is a fresh tmpfs of limits.workspace_bytes.
    /// Python only: use the pre-warmed interpreter when the sandbox has one (faster start, same
    /// isolation). Ignored for bash and for host_workspace runs.
    bool prefer_warm = true;
};

/// Why the program stopped, when a limit stopped it.
enum class LimitHit : std::uint8_t { none, wall, cpu, memory, file_size, cancelled };
std::string_view to_string(LimitHit l) noexcept;

struct RunResult {
    std::optional<int> exit_code; ///< set when the program exited normally
    std::optional<int> signal;    ///< set when a signal killed it
    std::string stdout_data;      ///< at most limits.max_output_bytes
    std::string stderr_data;
    std::uint64_t stdout_bytes = 0; ///< total written, including what was dropped
    std::uint64_t stderr_bytes = 0;
    bool stdout_truncated = false;
    bool stderr_truncated = false;
    bool timed_out = false; ///< the wall-clock limit killed it
    LimitHit limit = LimitHit::none;
    std::uint64_t wall_ms = 0;
    std::uint64_t cpu_ms = 0;     ///< user + system of the program and its reaped children
    std::uint64_t max_rss_kb = 0; ///< largest resident set of one of its processes
    LayerSet isolation;           ///< layers verified for this run
    bool warm = false;            ///< ran in the pre-warmed Python interpreter
};

} // namespace agentd::sandbox
