#include "detail/monitor.h"

#include "detail/channel.h"
#include "detail/cold_slot.h"
#include "detail/run_plan.h"
#include "detail/supervisor.h"
#include "detail/sys.h"
#include "detail/warm.h"
#include "detail/wire.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sys/stat.h>

namespace agentd::sandbox::detail {
namespace {

constexpr std::uint64_t kMaxRequestBytes = 1ULL << 31;

bool read_request(int memfd, WireRequest& req) {
    struct stat st {};
    if (::fstat(memfd, &st) != 0 || st.st_size <= 0 ||
        static_cast<std::uint64_t>(st.st_size) > kMaxRequestBytes) {
        return false;
    }
    std::string data(static_cast<std::size_t>(st.st_size), '\0');
    return pread_all(memfd, data.data(), data.size(), 0) && decode_request(data, req);
}

void deliver(int reply, int memfd, const WireResult& res) {
    const std::string data = encode_result(res);
    if (::ftruncate(memfd, 0) == 0 && pwrite_all(memfd, data.data(), data.size(), 0)) {
        send_msg(reply, "D");
    }
}

[[noreturn]] void fail_run(int reply, int memfd, errc code, const std::string& why) {
    WireResult res;
    res.error = code;
    res.message = why;
    deliver(reply, memfd, res);
    ::_exit(0);
}

// Reads and checks the request; answers agentd and exits when it is unusable.
void load(RunPlan& plan, int reply, int memfd) {
    if (!read_request(memfd, plan.request)) {
        fail_run(reply, memfd, errc::io_error, "the run request could not be read");
    }
    std::string why;
    if (!plan.prepare(why)) {
        fail_run(reply, memfd, errc::invalid_argument, why);
    }
}

[[noreturn]] void conclude(RunPlan& plan, const SupervisorOutcome& out, bool warm, int reply,
                           int memfd) {
    const WireResult res = plan.result(out, warm);
    if (!out.cancelled) {
        deliver(reply, memfd, res);
    }
    // After the answer: removing a cgroup waits for its last tasks to leave.
    plan.cleanup();
    ::_exit(0);
}

} // namespace

void slot_monitor_main(Context& ctx, UniqueFd link) {
    ::signal(SIGPIPE, SIG_IGN);
    ColdSlot slot(ctx);
    slot.start();
    char buf[16];
    int fds[kMaxMsgFds];
    int nfds = 0;
    const ssize_t n =
        send_msg(link.get(), "IDLE") ? recv_msg(link.get(), buf, sizeof(buf), fds, &nfds) : -1;
    UniqueFd reply(nfds > 0 ? fds[0] : -1);
    UniqueFd memfd(nfds > 1 ? fds[1] : -1);
    UniqueFd stdin_src(nfds > 2 ? fds[2] : -1);
    if (n <= 0 || !memfd) {
        ::_exit(0); // no job came: the zygote is shutting down
    }
    link.reset();
    RunPlan plan(ctx);
    load(plan, reply.get(), memfd.get());
    SupervisorOutcome out;
    if (!slot.error().empty()) {
        out.setup_error = slot.error();
    } else {
        slot.run(plan, memfd.get(), reply.get(), stdin_src.get(), out);
    }
    conclude(plan, out, false, reply.get(), memfd.get());
}

void warm_monitor_main(Context& ctx, UniqueFd reply, UniqueFd memfd, UniqueFd stdin_src) {
    ::signal(SIGPIPE, SIG_IGN);
    RunPlan plan(ctx);
    load(plan, reply.get(), memfd.get());
    SupervisorOutcome out;
    if (run_warm(ctx, plan, reply.get(), stdin_src.get(), out)) {
        conclude(plan, out, true, reply.get(), memfd.get());
    }
    ColdSlot slot(ctx);
    if (slot.start()) {
        slot.run(plan, memfd.get(), reply.get(), stdin_src.get(), out);
    } else {
        out.setup_error = slot.error();
    }
    conclude(plan, out, false, reply.get(), memfd.get());
}

} // namespace agentd::sandbox::detail
