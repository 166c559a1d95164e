#include "agentd/sandbox/sandbox.h"

#include "detail/channel.h"
#include "detail/client.h"
#include "detail/context.h"
#include "detail/ids.h"
#include "detail/sandbox_impl.h"
#include "detail/sys.h"
#include "detail/wire.h"
#include "detail/zygote.h"
#include "detail/zygote_setup.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>

namespace agentd::sandbox {
namespace {

constexpr int kHelloTimeoutMs = 20000;

base::Result<void> validate_config(const SandboxConfig& c) {
    for (const Limits* l : {&c.default_limits, &c.max_limits}) {
        if (auto why = validate_limits(*l); !why.empty()) {
            return base::fail(errc::invalid_argument, "sandbox limits: " + why);
        }
    }
    if (!within(c.default_limits, c.max_limits)) {
        return base::fail(errc::invalid_argument, "default sandbox limits exceed the maximums");
    }
    for (const std::string* p : {&c.python_path, &c.bash_path, &c.staging_dir}) {
        if (p->empty() || (*p)[0] != '/') {
            return base::fail(errc::invalid_argument, "sandbox paths must be absolute: " + *p);
        }
    }
    struct stat st {};
    if (::stat(c.staging_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        return base::fail(errc::invalid_argument, "staging directory missing: " + c.staging_dir);
    }
    if (c.max_concurrent_runs == 0 || c.max_queued_runs == 0) {
        return base::fail(errc::invalid_argument, "run concurrency and queue must be positive");
    }
    return {};
}

base::Result<std::string> make_workspace_root(const SandboxConfig& c, bool& own) {
    own = false;
    if (!c.workspace_root.empty()) {
        struct stat st {};
        if (c.workspace_root[0] != '/' || ::stat(c.workspace_root.c_str(), &st) != 0 ||
            !S_ISDIR(st.st_mode)) {
            return base::fail(errc::invalid_argument,
                              "workspace root must be an existing absolute directory");
        }
        return c.workspace_root;
    }
    std::string tmpl = "/tmp/agentd-workspaces-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
        return base::fail(errc::io_error, std::string("mkdtemp: ") + std::strerror(errno));
    }
    own = true;
    return tmpl;
}

base::Result<std::string> read_hello(int control) {
    pollfd p{control, POLLIN, 0};
    if (::poll(&p, 1, kHelloTimeoutMs) != 1) {
        return base::fail(errc::unavailable, "the sandbox zygote did not start");
    }
    char buf[256];
    const ssize_t n = detail::recv_msg(control, buf, sizeof(buf));
    if (n <= 0) {
        return base::fail(errc::unavailable, "the sandbox zygote exited during start-up");
    }
    return std::string(buf, static_cast<std::size_t>(n));
}

// One real run through every layer: what it verifies is what this host provides.
base::Result<void> probe(Sandbox& sb, const SandboxConfig& config, HostReport& host) {
    RunRequest req;
    const bool have_bash = ::access(config.bash_path.c_str(), X_OK) == 0;
    req.language = have_bash ? Language::bash : Language::python;
    req.code = have_bash ? "exit 0\n" : "pass\n";
    req.prefer_warm = false;
    auto result = sb.run(req);
    if (!result) {
        return base::fail(result.error().code.value() == static_cast<int>(errc::unavailable)
                              ? errc::unavailable
                              : errc::spawn_failed,
                          "sandbox self-test failed: " + result.error().what());
    }
    if (result->exit_code != 0) {
        return base::fail(errc::spawn_failed, "sandbox self-test program failed: " +
                                                  result->stderr_data.substr(0, 500));
    }
    host.layers = result->isolation;
    const LayerSet missing = config.required.minus(host.layers);
    if (!missing.empty()) {
        std::string names;
        for (const auto& n : missing.names()) {
            names += (names.empty() ? "" : ", ") + n;
        }
        return base::fail(errc::unavailable,
                          "required isolation layers unavailable on this host: " + names);
    }
    return {};
}

} // namespace

std::string_view to_string(HostReport::Mode m) noexcept {
    switch (m) {
    case HostReport::Mode::root:
        return "root";
    case HostReport::Mode::rootless:
        return "rootless";
    case HostReport::Mode::minimal:
        break;
    }
    return "minimal";
}

Sandbox::Sandbox(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}

Sandbox::~Sandbox() {
    impl_->control.reset(); // the zygote kills every run and exits
    if (impl_->zygote > 0) {
        int st = 0;
        while (::waitpid(impl_->zygote, &st, 0) < 0 && errno == EINTR) {
        }
    }
    if (impl_->own_workspace_root) {
        ::rmdir(impl_->workspace_root.c_str());
    }
}

base::Result<std::unique_ptr<Sandbox>> Sandbox::create(SandboxConfig config) {
    if (auto ok = validate_config(config); !ok) {
        return ok.error();
    }
    detail::Context ctx;
    ctx.config = config;
    auto strict = detail::build_filter(detail::FilterKind::strict);
    auto tmpl = detail::build_filter(detail::FilterKind::template_);
    if (!strict || !tmpl) {
        return (strict ? tmpl.error() : strict.error());
    }
    ctx.strict = std::move(*strict);
    ctx.template_filter = std::move(*tmpl);
    ctx.host_paths = detail::discover_host_paths(config.extra_ro_binds);
    auto impl = std::make_unique<Impl>();
    auto root = make_workspace_root(config, impl->own_workspace_root);
    if (!root) {
        return root.error();
    }
    ctx.workspace_root = impl->workspace_root = *root;

    int pair[2];
    if (!detail::seqpacket_pair(pair)) {
        return base::fail(errc::io_error, std::string("socketpair: ") + std::strerror(errno));
    }
    detail::UniqueFd mine(pair[0]), theirs(pair[1]);
    const pid_t pid = ::fork();
    if (pid < 0) {
        return base::fail(errc::spawn_failed, std::string("fork: ") + std::strerror(errno));
    }
    if (pid == 0) {
        mine.reset();
        detail::zygote_main(ctx, theirs.release());
    }
    impl->zygote = pid;
    theirs.reset();
    impl->control = std::move(mine);
    impl->config = config;
    std::unique_ptr<Sandbox> sb(new Sandbox(std::move(impl)));
    Impl& im = *sb->impl_;

    auto hello_text = read_hello(im.control.get());
    detail::Hello hello;
    if (!hello_text) {
        return hello_text.error();
    }
    if (!detail::parse_hello(*hello_text, hello)) {
        return base::fail(errc::unavailable, "bad start-up message from the sandbox zygote");
    }
    ::fcntl(im.control.get(), F_SETFL, ::fcntl(im.control.get(), F_GETFL) | O_NONBLOCK);
    im.host.mode = hello.mode;
    im.host.cgroup = hello.cgroup;
    im.host.warm_python = config.warm_python && hello.mode != HostReport::Mode::minimal;
    im.workspace_tmpfs = hello.workspace_tmpfs;
    im.chown_files = hello.mode == HostReport::Mode::root;
    im.file_owner_uid = config.sandbox_uid;
    im.file_owner_gid = config.sandbox_gid;
    if (auto ok = probe(*sb, config, im.host); !ok) {
        return ok.error();
    }
    return sb;
}

const HostReport& Sandbox::host() const noexcept {
    return impl_->host;
}

const SandboxConfig& Sandbox::config() const noexcept {
    return impl_->config;
}

bool Sandbox::wait_warm_ready(std::chrono::milliseconds timeout) {
    if (!impl_->host.warm_python) {
        return false;
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto r = detail::zygote_request(impl_->control.get(), "WRM", -1,
                                        std::chrono::milliseconds(2000));
        if (r && r->text == "OK 1") {
            return true;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

base::Result<std::string> program_seccomp_filter() {
    auto prog = detail::build_filter(detail::FilterKind::strict);
    if (!prog) {
        return prog.error();
    }
    return detail::bpf_bytes(*prog);
}

base::Result<RunResult> Sandbox::run(const RunRequest& request) {
    auto handle = start(request);
    if (!handle) {
        return handle.error();
    }
    return handle->wait();
}

} // namespace agentd::sandbox
