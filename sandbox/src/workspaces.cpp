// Managed workspaces, agentd's side: the zygote mounts them and hands back a directory
// descriptor; files are then read and written here with openat2(RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV), so no path a program can
// create in its workspace (symlinks, "..", mounts, FIFOs) leads anywhere else.
#include "agentd/sandbox/sandbox.h"

#include "detail/client.h"
#include "detail/ids.h"
#include "detail/sandbox_impl.h"
#include "detail/sys.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <vector>

namespace agentd::sandbox {
namespace {

constexpr auto kZygoteTimeout = std::chrono::milliseconds(10000);
constexpr std::uint64_t kResolve =
    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
constexpr std::size_t kMaxPath = 4096;
constexpr int kMaxDepth = 64;

int open_beneath(int dir, const std::string& path, int flags, mode_t mode = 0) {
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags) | O_CLOEXEC | O_NOFOLLOW;
    how.mode = (flags & O_CREAT) != 0 ? mode : 0;
    how.resolve = kResolve;
    for (;;) {
        const long fd = ::syscall(SYS_openat2, dir, path.c_str(), &how, sizeof(how));
        if (fd >= 0 || errno != EINTR) {
            return static_cast<int>(fd);
        }
    }
}

base::Error fs_error(const char* what, const std::string& path) {
    const int e = errno;
    const errc code = e == ENOENT                                  ? errc::not_found
                      : (e == ENOSPC || e == EDQUOT || e == EFBIG) ? errc::limit_exceeded
                      : (e == ELOOP || e == EXDEV || e == ENOTDIR || e == EISDIR || e == EAGAIN)
                          ? errc::invalid_argument
                          : errc::io_error;
    return base::Error(code, std::string(what) + " '" + path + "': " + std::strerror(e));
}

// Splits a workspace-relative path; rejects absolute paths, NUL, ".." and empty names.
bool split_path(std::string_view path, std::vector<std::string>& parts) {
    if (path.empty() || path.size() > kMaxPath || path.front() == '/' ||
        path.find('\0') != std::string_view::npos) {
        return false;
    }
    parts.clear();
    while (!path.empty()) {
        const auto slash = path.find('/');
        const auto part = path.substr(0, slash);
        if (part == "..") {
            return false;
        }
        if (!part.empty() && part != ".") {
            parts.emplace_back(part);
        }
        if (slash == std::string_view::npos) {
            break;
        }
        path.remove_prefix(slash + 1);
    }
    return !parts.empty() && parts.size() <= kMaxDepth;
}

void list_dir(int dir, const std::string& prefix, int depth, std::size_t max,
              std::vector<std::string>& out) {
    const int fd = open_beneath(dir, ".", O_RDONLY | O_DIRECTORY);
    DIR* d = fd < 0 ? nullptr : ::fdopendir(fd);
    if (d == nullptr) {
        if (fd >= 0) {
            ::close(fd);
        }
        return;
    }
    while (dirent* e = ::readdir(d)) {
        if (out.size() >= max) {
            break;
        }
        const std::string name = e->d_name;
        if (name == "." || name == "..") {
            continue;
        }
        struct stat st {};
        if (::fstatat(::dirfd(d), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            continue;
        }
        if (S_ISREG(st.st_mode)) {
            out.push_back(prefix + name);
        } else if (S_ISDIR(st.st_mode) && depth < kMaxDepth) {
            const int sub = open_beneath(::dirfd(d), name, O_PATH | O_DIRECTORY);
            if (sub >= 0) {
                list_dir(sub, prefix + name + "/", depth + 1, max, out);
                ::close(sub);
            }
        }
    }
    ::closedir(d);
}

} // namespace

base::Result<std::shared_ptr<detail::UniqueFd>> Sandbox::Impl::workspace_dir(std::string_view id) {
    std::lock_guard lock(mu);
    const auto it = workspaces.find(id);
    if (it == workspaces.end()) {
        return base::fail(errc::not_found, "no workspace '" + std::string(id) + "'");
    }
    it->second.last_used_ms = detail::now_ms();
    return it->second.dir;
}

base::Result<void> Sandbox::Impl::remove_locked(const std::string& id) {
    auto reply = detail::zygote_request(control.get(), "WSR " + id, -1, kZygoteTimeout);
    workspaces.erase(id);
    if (!reply) {
        return reply.error();
    }
    if (reply->text != "OK") {
        return detail::reply_error(*reply);
    }
    return {};
}

base::Result<void> Sandbox::create_workspace(std::string_view id) {
    if (!detail::valid_workspace_id(id)) {
        return base::fail(errc::invalid_argument, "invalid workspace id");
    }
    sweep_idle_workspaces();
    std::lock_guard lock(impl_->mu);
    if (auto it = impl_->workspaces.find(id); it != impl_->workspaces.end()) {
        it->second.last_used_ms = detail::now_ms();
        return {};
    }
    const std::string msg = "WSC " + std::string(id) + " " +
                            std::to_string(impl_->config.default_limits.workspace_bytes);
    auto reply = detail::zygote_request(impl_->control.get(), msg, -1, kZygoteTimeout);
    if (!reply) {
        return reply.error();
    }
    if (reply->text != "OK" || !reply->fd) {
        return detail::reply_error(*reply);
    }
    Impl::Workspace ws;
    ws.dir = std::make_shared<detail::UniqueFd>(std::move(reply->fd));
    ws.last_used_ms = detail::now_ms();
    impl_->workspaces.emplace(std::string(id), std::move(ws));
    return {};
}

base::Result<void> Sandbox::remove_workspace(std::string_view id) {
    if (!detail::valid_workspace_id(id)) {
        return base::fail(errc::invalid_argument, "invalid workspace id");
    }
    std::lock_guard lock(impl_->mu);
    if (impl_->workspaces.find(id) == impl_->workspaces.end()) {
        return base::fail(errc::not_found, "no workspace '" + std::string(id) + "'");
    }
    return impl_->remove_locked(std::string(id));
}

std::size_t Sandbox::sweep_idle_workspaces() {
    const std::uint64_t ttl_ms = impl_->config.workspace_idle_ttl_s * 1000ULL;
    const std::uint64_t now = detail::now_ms();
    std::lock_guard lock(impl_->mu);
    std::vector<std::string> idle;
    for (const auto& [id, ws] : impl_->workspaces) {
        if (now - ws.last_used_ms >= ttl_ms) {
            idle.push_back(id);
        }
    }
    for (const auto& id : idle) {
        (void)impl_->remove_locked(id);
    }
    return idle.size();
}

base::Result<void> Sandbox::write_file(std::string_view id, std::string_view path,
                                       std::string_view data) {
    std::vector<std::string> parts;
    if (!split_path(path, parts)) {
        return base::fail(errc::invalid_argument, "invalid workspace path");
    }
    auto root = impl_->workspace_dir(id);
    if (!root) {
        return root.error();
    }
    const Impl& im = *impl_;
    detail::UniqueFd dir(open_beneath((*root)->get(), ".", O_PATH | O_DIRECTORY));
    for (std::size_t i = 0; i + 1 < parts.size() && dir; ++i) {
        if (::mkdirat(dir.get(), parts[i].c_str(), 0755) == 0) {
            if (im.chown_files) {
                ::fchownat(dir.get(), parts[i].c_str(), im.file_owner_uid, im.file_owner_gid,
                           AT_SYMLINK_NOFOLLOW);
            }
        } else if (errno != EEXIST) {
            return fs_error("mkdir", parts[i]);
        }
        dir.reset(open_beneath(dir.get(), parts[i], O_PATH | O_DIRECTORY));
    }
    if (!dir) {
        return fs_error("open directory of", std::string(path));
    }
    detail::UniqueFd fd(
        open_beneath(dir.get(), parts.back(), O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK, 0644));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0) {
        return fs_error("open", std::string(path));
    }
    if (!S_ISREG(st.st_mode)) {
        return base::fail(errc::invalid_argument, "not a regular file: " + std::string(path));
    }
    if (im.chown_files && ::fchown(fd.get(), im.file_owner_uid, im.file_owner_gid) != 0) {
        return fs_error("chown", std::string(path));
    }
    if (!detail::write_all(fd.get(), data.data(), data.size())) {
        return fs_error("write", std::string(path));
    }
    return {};
}

base::Result<std::string> Sandbox::read_file(std::string_view id, std::string_view path,
                                             std::uint64_t max_bytes) {
    std::vector<std::string> parts;
    if (!split_path(path, parts)) {
        return base::fail(errc::invalid_argument, "invalid workspace path");
    }
    auto root = impl_->workspace_dir(id);
    if (!root) {
        return root.error();
    }
    std::string rel;
    for (const auto& p : parts) {
        rel += (rel.empty() ? "" : "/") + p;
    }
    // O_NONBLOCK: a FIFO planted under the expected name must not hang us.
    detail::UniqueFd fd(open_beneath((*root)->get(), rel, O_RDONLY | O_NONBLOCK));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0) {
        return fs_error("open", rel);
    }
    if (!S_ISREG(st.st_mode)) {
        return base::fail(errc::invalid_argument, "not a regular file: " + rel);
    }
    if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
        return base::fail(errc::limit_exceeded,
                          "file larger than " + std::to_string(max_bytes) + " bytes: " + rel);
    }
    std::string out(static_cast<std::size_t>(st.st_size), '\0');
    const ssize_t n = ::pread(fd.get(), out.data(), out.size(), 0);
    if (n < 0) {
        return fs_error("read", rel);
    }
    out.resize(static_cast<std::size_t>(n));
    return out;
}

base::Result<std::vector<std::string>> Sandbox::list_files(std::string_view id,
                                                           std::size_t max_entries) {
    auto root = impl_->workspace_dir(id);
    if (!root) {
        return root.error();
    }
    std::vector<std::string> out;
    list_dir((*root)->get(), "", 0, max_entries, out);
    return out;
}

} // namespace agentd::sandbox
