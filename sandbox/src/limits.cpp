#include "agentd/sandbox/limits.h"

#include "agentd/sandbox/config.h"

namespace agentd::sandbox {

std::string validate_limits(const Limits& l) {
    if (l.wall_ms < 1 || l.wall_ms > 3'600'000) {
        return "wall time must be 1 ms .. 1 hour";
    }
    if (l.cpu_ms < 1 || l.cpu_ms > 3'600'000) {
        return "CPU time must be 1 ms .. 1 hour";
    }
    if (l.memory_bytes < 16 * kMiB || l.memory_bytes > (1ULL << 40)) {
        return "memory must be 16 MiB .. 1 TiB";
    }
    if (l.max_procs < 1 || l.max_procs > 65536) {
        return "processes must be 1 .. 65536";
    }
    if (l.max_open_files < 16 || l.max_open_files > 1'048'576) {
        return "open files must be 16 .. 1048576";
    }
    if (l.max_file_bytes < 1 || l.max_file_bytes > (1ULL << 40)) {
        return "file size must be 1 byte .. 1 TiB";
    }
    if (l.workspace_bytes < 64 * 1024 || l.workspace_bytes > (1ULL << 40)) {
        return "workspace size must be 64 KiB .. 1 TiB";
    }
    if (l.max_output_bytes > (1ULL << 30)) {
        return "captured output must be at most 1 GiB per stream";
    }
    if (l.tmp_bytes < 64 * 1024 || l.tmp_bytes > (1ULL << 40)) {
        return "/tmp size must be 64 KiB .. 1 TiB";
    }
    return {};
}

bool within(const Limits& l, const Limits& max) {
    return l.wall_ms <= max.wall_ms && l.cpu_ms <= max.cpu_ms &&
           l.memory_bytes <= max.memory_bytes && l.max_procs <= max.max_procs &&
           l.max_open_files <= max.max_open_files && l.max_file_bytes <= max.max_file_bytes &&
           l.workspace_bytes <= max.workspace_bytes && l.max_output_bytes <= max.max_output_bytes &&
           l.tmp_bytes <= max.tmp_bytes;
}

Limits default_max_limits() {
    Limits m;
    m.wall_ms = 600'000;
    m.cpu_ms = 600'000;
    m.memory_bytes = 8192 * kMiB;
    m.max_procs = 1024;
    m.max_open_files = 65536;
    m.max_file_bytes = 4096 * kMiB;
    m.workspace_bytes = 4096 * kMiB;
    m.max_output_bytes = 64 * kMiB;
    m.tmp_bytes = 4096 * kMiB;
    return m;
}

} // namespace agentd::sandbox
