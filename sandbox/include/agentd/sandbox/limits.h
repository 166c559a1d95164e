#pragma once
/// Resource limits of one sandboxed run. Defaults are CONTRACT.md's. Plain value type.

#include <cstdint>
#include <string>

namespace agentd::sandbox {

inline constexpr std::uint64_t kMiB = 1024ULL * 1024ULL;

struct Limits {
    std::uint32_t wall_ms = 5000;               ///< wall clock; the whole PID namespace is killed
    std::uint32_t cpu_ms = 5000;                ///< CPU per process (RLIMIT_CPU, whole seconds)
    std::uint64_t memory_bytes = 512 * kMiB;    ///< RLIMIT_AS per process and the memory cgroup
    std::uint32_t max_procs = 64;               ///< processes + threads (RLIMIT_NPROC, pids cgroup)
    std::uint32_t max_open_files = 256;         ///< RLIMIT_NOFILE
    std::uint64_t max_file_bytes = 64 * kMiB;   ///< RLIMIT_FSIZE
    std::uint64_t workspace_bytes = 256 * kMiB; ///< size of a tmpfs workspace
    std::uint64_t max_output_bytes = 1 * kMiB;  ///< captured per stream; the rest is counted
    std::uint64_t tmp_bytes = 64 * kMiB;        ///< size of /tmp and of /dev/shm (tmpfs each)

    friend bool operator==(const Limits&, const Limits&) = default;
};

/// Hard bounds a request can never exceed, whatever the configuration says (sanity, not
/// policy): 1 hour wall, 1 TiB memory, 65536 processes, ...
/// Returns an empty string when `l` is valid, else what is wrong.
std::string validate_limits(const Limits& l);

/// True when every limit of `l` is within the matching limit of `max`.
bool within(const Limits& l, const Limits& max);

} // namespace agentd::sandbox
