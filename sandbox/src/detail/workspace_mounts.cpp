#include "detail/workspace_mounts.h"

#include "agentd/sandbox/errc.h"

#include "detail/channel.h"
#include "detail/ids.h"
#include "detail/root_fs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <sys/mount.h>
#include <sys/stat.h>

namespace agentd::sandbox::detail {
namespace {

void reply_error(int reply, errc code, const std::string& why) {
    send_msg(reply, "ER " + std::to_string(static_cast<int>(code)) + " " + why);
}

void reply_dir(int reply, const std::string& path) {
    const int fd = ::open(path.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        reply_error(reply, errc::io_error, std::string("open workspace: ") + std::strerror(errno));
        return;
    }
    send_msg(reply, "OK", &fd, 1);
    ::close(fd);
}

} // namespace

void WorkspaceMounts::handle(const std::string& msg, int reply) {
    std::istringstream in(msg);
    std::string op, id;
    std::uint64_t bytes = 0;
    in >> op >> id;
    if (!valid_workspace_id(id)) {
        reply_error(reply, errc::invalid_argument, "invalid workspace id");
        return;
    }
    if (op == "WSC" && (in >> bytes) && bytes > 0) {
        create(id, bytes, reply);
    } else if (op == "WSR") {
        remove(id, reply);
    } else {
        reply_error(reply, errc::invalid_argument, "bad workspace request");
    }
}

void WorkspaceMounts::create(const std::string& id, std::uint64_t bytes, int reply) {
    const std::string path = ctx_.workspace_root + "/" + id;
    if (ids_.count(id) != 0) {
        reply_dir(reply, path);
        return;
    }
    if (ids_.size() >= ctx_.config.max_workspaces) {
        reply_error(reply, errc::limit_exceeded, "too many workspaces");
        return;
    }
    if (::mkdir(path.c_str(), 0700) != 0) {
        reply_error(reply, errc::io_error, std::string("mkdir: ") + std::strerror(errno));
        return;
    }
    const uid_t uid = ctx_.host.outer_uid;
    const gid_t gid = ctx_.host.outer_gid;
    const bool ok = ctx_.workspace_tmpfs ? mount_tmpfs(path, bytes, 0755, uid, gid)
                                         : (::chown(path.c_str(), uid, gid) == 0 &&
                                            ::chmod(path.c_str(), 0755) == 0);
    if (!ok) {
        const int err = errno;
        ::rmdir(path.c_str());
        reply_error(reply, errc::io_error, std::string("workspace: ") + std::strerror(err));
        return;
    }
    ids_.insert(id);
    reply_dir(reply, path);
}

void WorkspaceMounts::remove(const std::string& id, int reply) {
    if (ids_.erase(id) == 0) {
        reply_error(reply, errc::not_found, "no such workspace");
        return;
    }
    const std::string path = ctx_.workspace_root + "/" + id;
    if (ctx_.workspace_tmpfs) {
        // Lazy: runs still using the workspace keep it until they end; memory is freed then.
        ::umount2(path.c_str(), MNT_DETACH);
        ::rmdir(path.c_str());
    } else {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    send_msg(reply, "OK");
}

void WorkspaceMounts::remove_all() noexcept {
    for (const auto& id : ids_) {
        const std::string path = ctx_.workspace_root + "/" + id;
        if (ctx_.workspace_tmpfs) {
            ::umount2(path.c_str(), MNT_DETACH);
            ::rmdir(path.c_str());
        } else {
            std::error_code ec;
            std::filesystem::remove_all(path, ec);
        }
    }
    ids_.clear();
}

} // namespace agentd::sandbox::detail
