#include "detail/client.h"

#include "agentd/sandbox/errc.h"

#include "detail/channel.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace agentd::sandbox::detail {

base::Result<Reply> zygote_request(int control, std::string_view msg, int extra_fd,
                                   std::chrono::milliseconds timeout) {
    int pair[2];
    if (!seqpacket_pair(pair)) {
        return base::fail(errc::io_error, std::string("socketpair: ") + std::strerror(errno));
    }
    UniqueFd mine(pair[0]), theirs(pair[1]);
    const int fds[2] = {theirs.get(), extra_fd};
    if (!send_msg(control, msg, fds, extra_fd >= 0 ? 2 : 1)) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return base::fail(errc::busy, "the sandbox is busy");
        }
        return base::fail(errc::unavailable, "the sandbox zygote is gone");
    }
    theirs.reset();
    pollfd p{mine.get(), POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (n != 1) {
        return base::fail(errc::unavailable, "the sandbox zygote did not answer");
    }
    char buf[600];
    int rfds[kMaxMsgFds];
    int nfds = 0;
    const ssize_t len = recv_msg(mine.get(), buf, sizeof(buf), rfds, &nfds);
    Reply r;
    for (int i = 0; i < nfds; ++i) {
        if (i == 0) {
            r.fd.reset(rfds[0]);
        } else {
            ::close(rfds[i]);
        }
    }
    if (len <= 0) {
        return base::fail(errc::unavailable, "the sandbox zygote closed the request");
    }
    r.text.assign(buf, static_cast<std::size_t>(len));
    return r;
}

base::Error reply_error(const Reply& r) {
    if (r.text.rfind("ER ", 0) == 0) {
        char* end = nullptr;
        const long code = std::strtol(r.text.c_str() + 3, &end, 10);
        const std::string why = (end != nullptr && *end == ' ') ? std::string(end + 1) : r.text;
        if (code >= 1 && code <= static_cast<long>(errc::cancelled)) {
            return base::Error(static_cast<errc>(code), why);
        }
    }
    return base::Error(errc::io_error, "unexpected answer from the sandbox zygote: " + r.text);
}

} // namespace agentd::sandbox::detail
