#include "detail/channel.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sys/socket.h>

namespace agentd::sandbox::detail {

bool send_msg(int sock, std::string_view data, const int* fds, int nfds) noexcept {
    if (nfds < 0 || nfds > kMaxMsgFds) {
        errno = EINVAL;
        return false;
    }
    iovec iov{const_cast<char*>(data.data()), data.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxMsgFds)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (nfds > 0) {
        std::memset(control, 0, sizeof(control));
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * static_cast<std::size_t>(nfds));
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * static_cast<std::size_t>(nfds));
        std::memcpy(CMSG_DATA(c), fds, sizeof(int) * static_cast<std::size_t>(nfds));
    }
    for (;;) {
        const ssize_t n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
        if (n >= 0) {
            return true;
        }
        if (errno != EINTR) {
            return false;
        }
    }
}

ssize_t recv_msg(int sock, char* buf, std::size_t cap, int* fds, int* nfds) noexcept {
    if (nfds != nullptr) {
        *nfds = 0;
    }
    iovec iov{buf, cap};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxMsgFds)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ssize_t n;
    for (;;) {
        n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        if (n >= 0 || errno != EINTR) {
            break;
        }
    }
    if (n < 0) {
        return -1;
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
            continue;
        }
        const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < count; ++i) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if (fds != nullptr && nfds != nullptr && *nfds < kMaxMsgFds) {
                fds[(*nfds)++] = fd;
            } else {
                ::close(fd);
            }
        }
    }
    return n;
}

bool seqpacket_pair(int out[2]) noexcept {
    return ::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, out) == 0;
}

} // namespace agentd::sandbox::detail
