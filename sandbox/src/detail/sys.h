#pragma once
// Thin wrappers over Linux system calls glibc 2.36 does not wrap (or wraps awkwardly), plus
// small helpers for reading and writing whole files by path. All return -1 with errno set on
// failure, like the system calls themselves. Async-signal-safe unless noted.

#include "detail/unique_fd.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace agentd::sandbox::detail {

/// clone3 with fork semantics (the child continues on a copy of the stack): returns the child
/// pid in the parent, 0 in the child. `pidfd` receives a pidfd when non-null; `cgroup_fd` >= 0
/// places the child into that cgroup v2 directory.
pid_t clone3_fork(std::uint64_t flags, int* pidfd, int cgroup_fd) noexcept;

int pidfd_open(pid_t pid) noexcept;
int pidfd_send_signal(int pidfd, int sig) noexcept;
/// The pid a pidfd refers to in the caller's PID namespace (from /proc/self/fdinfo), -1 when it
/// exited or on error. Not async-signal-safe (reads a file).
pid_t pidfd_to_pid(int pidfd);

int pivot_root(const char* new_root, const char* put_old) noexcept;
int close_range_from(unsigned first) noexcept;

/// Whole-file helpers (not async-signal-safe: they allocate).
bool write_file(const std::string& path, std::string_view data);
bool read_file(const std::string& path, std::string& out, std::size_t max_bytes = 1 << 20);

/// write() until done or a real error (EINTR retried). Async-signal-safe.
bool write_all(int fd, const void* data, std::size_t size) noexcept;
/// pread() of exactly `size` bytes at `offset`.
bool pread_all(int fd, void* data, std::size_t size, std::uint64_t offset) noexcept;
bool pwrite_all(int fd, const void* data, std::size_t size, std::uint64_t offset) noexcept;

/// Monotonic milliseconds.
std::uint64_t now_ms() noexcept;

} // namespace agentd::sandbox::detail
