#include "detail/sys.h"

#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <linux/sched.h>
#include <sys/syscall.h>

namespace agentd::sandbox::detail {

pid_t clone3_fork(std::uint64_t flags, int* pidfd, int cgroup_fd) noexcept {
    clone_args args{};
    int pidfd_value = -1;
    args.flags = flags;
    if (pidfd != nullptr) {
        args.flags |= CLONE_PIDFD;
        args.pidfd = reinterpret_cast<std::uint64_t>(&pidfd_value);
    }
    if (cgroup_fd >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = static_cast<std::uint64_t>(cgroup_fd);
    }
    args.exit_signal = SIGCHLD;
    const long r = ::syscall(SYS_clone3, &args, sizeof(args));
    if (r > 0 && pidfd != nullptr) {
        *pidfd = pidfd_value;
    }
    return static_cast<pid_t>(r);
}

int pidfd_open(pid_t pid) noexcept {
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

int pidfd_send_signal(int pidfd, int sig) noexcept {
    return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

pid_t pidfd_to_pid(int pidfd) {
    std::string info;
    if (!read_file("/proc/self/fdinfo/" + std::to_string(pidfd), info, 4096)) {
        return -1;
    }
    const auto pos = info.find("\nPid:");
    if (pos == std::string::npos) {
        return -1;
    }
    const long pid = std::strtol(info.c_str() + pos + 5, nullptr, 10);
    return pid > 0 ? static_cast<pid_t>(pid) : -1;
}

int pivot_root(const char* new_root, const char* put_old) noexcept {
    return static_cast<int>(::syscall(SYS_pivot_root, new_root, put_old));
}

int close_range_from(unsigned first) noexcept {
    return static_cast<int>(::syscall(SYS_close_range, first, ~0U, 0U));
}

bool write_all(int fd, const void* data, std::size_t size) noexcept {
    const auto* p = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t n = ::write(fd, p, size);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        p += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

bool pread_all(int fd, void* data, std::size_t size, std::uint64_t offset) noexcept {
    auto* p = static_cast<char*>(data);
    while (size > 0) {
        const ssize_t n = ::pread(fd, p, size, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        p += n;
        size -= static_cast<std::size_t>(n);
        offset += static_cast<std::uint64_t>(n);
    }
    return true;
}

bool pwrite_all(int fd, const void* data, std::size_t size, std::uint64_t offset) noexcept {
    const auto* p = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t n = ::pwrite(fd, p, size, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        p += n;
        size -= static_cast<std::size_t>(n);
        offset += static_cast<std::uint64_t>(n);
    }
    return true;
}

bool write_file(const std::string& path, std::string_view data) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) {
        return false;
    }
    // Kernel files (uid_map, cgroup knobs) need the value in one write() call.
    const ssize_t n = ::write(fd.get(), data.data(), data.size());
    return n == static_cast<ssize_t>(data.size());
}

bool read_file(const std::string& path, std::string& out, std::size_t max_bytes) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        return false;
    }
    out.clear();
    char buf[4096];
    while (out.size() < max_bytes) {
        const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return false;
        }
        if (n == 0) {
            break;
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
    return true;
}

std::uint64_t now_ms() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000U +
           static_cast<std::uint64_t>(ts.tv_nsec) / 1000000U;
}

} // namespace agentd::sandbox::detail
