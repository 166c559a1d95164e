#include "agentd/sandbox/sandbox.h"

#include "detail/channel.h"
#include "detail/ids.h"
#include "detail/sandbox_impl.h"
#include "detail/sys.h"
#include "detail/wire.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

namespace agentd::sandbox {

struct RunHandle::State {
    detail::UniqueFd reply;
    detail::UniqueFd memfd;
    bool done = false;
    bool cancelled = false;
};

namespace {

constexpr std::size_t kMaxArgs = 256;
constexpr std::size_t kMaxArgBytes = 64 * 1024;
constexpr std::uint64_t kMaxResultBytes = 3ULL << 30;

base::Result<detail::WireRequest> to_wire(const RunRequest& r, const SandboxConfig& c) {
    detail::WireRequest w;
    if (r.code.size() > c.max_code_bytes) {
        return base::fail(errc::invalid_argument,
                          "program larger than " + std::to_string(c.max_code_bytes) + " bytes");
    }
    if (r.stdin_data.size() > c.max_stdin_bytes) {
        return base::fail(errc::invalid_argument,
                          "stdin larger than " + std::to_string(c.max_stdin_bytes) + " bytes");
    }
    if (r.args.size() > kMaxArgs) {
        return base::fail(errc::invalid_argument, "too many program arguments");
    }
    for (const auto& a : r.args) {
        if (a.size() > kMaxArgBytes || a.find('\0') != std::string::npos) {
            return base::fail(errc::invalid_argument, "program argument too long or contains NUL");
        }
    }
    w.limits = r.limits.value_or(c.default_limits);
    if (auto why = validate_limits(w.limits); !why.empty()) {
        return base::fail(errc::invalid_argument, why);
    }
    if (!within(w.limits, c.max_limits)) {
        return base::fail(errc::invalid_argument,
                          "requested limits exceed the configured maximums");
    }
    if (!r.workspace_id.empty() && !r.host_workspace.empty()) {
        return base::fail(errc::invalid_argument, "a run has one workspace, not two");
    }
    if (!r.workspace_id.empty() && !detail::valid_workspace_id(r.workspace_id)) {
        return base::fail(errc::invalid_argument, "invalid workspace id");
    }
    if (!r.host_workspace.empty()) {
        struct stat st {};
        if (r.host_workspace[0] != '/' || r.host_workspace.size() > 4096 ||
            ::stat(r.host_workspace.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
            return base::fail(errc::invalid_argument,
                              "workspace must be an existing directory given by absolute path");
        }
    }
    w.language = r.language;
    w.code = r.code;
    w.args = r.args;
    w.stdin_data = r.stdin_fd >= 0 ? std::string() : r.stdin_data;
    w.stdin_from_fd = r.stdin_fd >= 0;
    w.workspace_id = r.workspace_id;
    w.host_workspace = r.host_workspace;
    w.warm = r.prefer_warm && r.language == Language::python;
    w.required = c.required;
    return w;
}

base::Result<RunResult> read_result(int memfd) {
    struct stat st {};
    if (::fstat(memfd, &st) != 0 || st.st_size <= 0 ||
        static_cast<std::uint64_t>(st.st_size) > kMaxResultBytes) {
        return base::fail(errc::io_error, "the run's result is missing");
    }
    std::string data(static_cast<std::size_t>(st.st_size), '\0');
    detail::WireResult res;
    if (!detail::pread_all(memfd, data.data(), data.size(), 0) ||
        !detail::decode_result(data, res)) {
        return base::fail(errc::io_error, "the run's result could not be decoded");
    }
    if (res.error != errc{}) {
        return base::fail(res.error, res.message);
    }
    return std::move(res.result);
}

} // namespace

RunHandle::RunHandle(std::unique_ptr<State> state) noexcept : state_(std::move(state)) {}
RunHandle::RunHandle(RunHandle&&) noexcept = default;
RunHandle& RunHandle::operator=(RunHandle&& o) noexcept {
    if (this != &o) {
        cancel();
        state_ = std::move(o.state_);
    }
    return *this;
}

RunHandle::~RunHandle() {
    cancel();
}

int RunHandle::wait_fd() const noexcept {
    return state_ ? state_->reply.get() : -1;
}

void RunHandle::cancel() noexcept {
    if (state_ && !state_->done && !state_->cancelled) {
        state_->cancelled = true;
        // The monitor sees end-of-file on the reply socket and kills the run.
        ::shutdown(state_->reply.get(), SHUT_WR);
    }
}

std::optional<base::Result<RunResult>> RunHandle::try_result() {
    if (!state_ || state_->done) {
        return base::Result<RunResult>(base::fail(errc::invalid_argument, "result already taken"));
    }
    pollfd p{state_->reply.get(), POLLIN, 0};
    if (::poll(&p, 1, 0) != 1) {
        return std::nullopt;
    }
    char buf[16];
    const ssize_t n = detail::recv_msg(state_->reply.get(), buf, sizeof(buf));
    if (n < 0 && errno == EAGAIN) {
        return std::nullopt;
    }
    state_->done = true;
    if (n >= 1 && buf[0] == 'D') {
        return read_result(state_->memfd.get());
    }
    if (n >= 4 && std::memcmp(buf, "BUSY", 4) == 0) {
        return base::Result<RunResult>(base::fail(errc::busy, "too many sandbox runs queued"));
    }
    if (state_->cancelled) {
        return base::Result<RunResult>(base::fail(errc::cancelled, "the run was cancelled"));
    }
    return base::Result<RunResult>(
        base::fail(errc::spawn_failed, "the sandbox monitor ended without a result"));
}

base::Result<RunResult> RunHandle::wait() {
    for (;;) {
        if (!state_) {
            return base::fail(errc::invalid_argument, "empty run handle");
        }
        pollfd p{state_->reply.get(), POLLIN, 0};
        const int n = ::poll(&p, 1, -1);
        if (n < 0 && errno != EINTR) {
            return base::fail(errc::io_error, std::string("poll: ") + std::strerror(errno));
        }
        if (auto r = try_result()) {
            return std::move(*r);
        }
    }
}

base::Result<RunHandle> Sandbox::start(const RunRequest& request) {
    auto wire = to_wire(request, impl_->config);
    if (!wire) {
        return wire.error();
    }
    if (!request.workspace_id.empty()) {
        if (auto dir = impl_->workspace_dir(request.workspace_id); !dir) {
            return dir.error();
        }
    }
    const std::string data = detail::encode_request(*wire);
    detail::UniqueFd memfd(::memfd_create("agentd-run", MFD_CLOEXEC));
    if (!memfd || !detail::write_all(memfd.get(), data.data(), data.size())) {
        return base::fail(errc::io_error, std::string("memfd: ") + std::strerror(errno));
    }
    int pair[2];
    if (!detail::seqpacket_pair(pair)) {
        return base::fail(errc::io_error, std::string("socketpair: ") + std::strerror(errno));
    }
    auto state = std::make_unique<RunHandle::State>();
    state->reply.reset(pair[0]);
    detail::UniqueFd remote(pair[1]);
    // Runs the warm interpreter can take: python, in a fresh or managed tmpfs workspace.
    const bool warm = wire->warm && impl_->host.warm_python && wire->host_workspace.empty() &&
                      (wire->workspace_id.empty() || impl_->workspace_tmpfs);
    const int fds[3] = {remote.get(), memfd.get(), request.stdin_fd};
    if (!detail::send_msg(impl_->control.get(), warm ? "RUN W" : "RUN C", fds,
                          request.stdin_fd >= 0 ? 3 : 2)) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return base::fail(errc::busy, "the sandbox is busy");
        }
        return base::fail(errc::unavailable, "the sandbox zygote is gone");
    }
    state->memfd = std::move(memfd);
    return RunHandle(std::move(state));
}

} // namespace agentd::sandbox
