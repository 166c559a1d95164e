#pragma once
// agentd's side of the zygote protocol: request/reply over a fresh socketpair per request.

#include "agentd/base/result.h"

#include "detail/unique_fd.h"

#include <chrono>
#include <string>
#include <string_view>

namespace agentd::sandbox::detail {

struct Reply {
    std::string text;
    UniqueFd fd; ///< attached descriptor, if any
};

/// Sends `msg` with a new reply socket (plus `extra_fd` when >= 0) on the control socket and
/// waits up to `timeout` for the answer. errc::busy when the control socket is full,
/// errc::unavailable when the zygote is gone or does not answer.
base::Result<Reply> zygote_request(int control, std::string_view msg, int extra_fd,
                                   std::chrono::milliseconds timeout);

/// Turns an "ER <errc> <why>" reply into an Error (any other text: errc::io_error).
base::Error reply_error(const Reply& r);

} // namespace agentd::sandbox::detail
