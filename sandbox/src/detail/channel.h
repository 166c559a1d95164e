#pragma once
// Messages with attached descriptors over AF_UNIX SOCK_SEQPACKET sockets (message boundaries
// are kept, so one call is one message). Used between agentd, the zygote, the per-run monitor
// and the sandboxed processes. Async-signal-safe (no allocation).

#include <cstddef>
#include <string_view>
#include <sys/types.h>

namespace agentd::sandbox::detail {

inline constexpr int kMaxMsgFds = 8;

/// Sends one message with `nfds` descriptors (at most kMaxMsgFds). EINTR is retried; returns
/// false with errno on failure.
bool send_msg(int sock, std::string_view data, const int* fds = nullptr, int nfds = 0) noexcept;

/// Receives one message into `buf` (truncated to `cap`). Received descriptors (close-on-exec)
/// go to `fds` (up to kMaxMsgFds; the count in *nfds); excess descriptors are closed. Returns
/// the message length, 0 on EOF, -1 with errno on error (EINTR is retried; EAGAIN returned).
ssize_t recv_msg(int sock, char* buf, std::size_t cap, int* fds = nullptr,
                 int* nfds = nullptr) noexcept;

/// A SOCK_SEQPACKET socketpair with close-on-exec set on both ends.
bool seqpacket_pair(int out[2]) noexcept;

} // namespace agentd::sandbox::detail
