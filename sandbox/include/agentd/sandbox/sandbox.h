#pragma once
/// The sandbox: runs untrusted Python or bash programs in fresh Linux namespaces with a private
/// root, seccomp, rlimits and cgroups, and reports which of those layers it verified.
///
/// Ownership: `Sandbox::create` forks a small helper process (the zygote) that owns every run
/// and every managed workspace; the Sandbox object owns the zygote, which exits with it (and on
/// its own when agentd dies). Create it early, before agentd starts many threads or loads a
/// model, so the zygote is small and forks fast.
///
/// Threads: every member function is thread-safe. `start` never waits for the program: it
/// validates, writes the request to a memfd and hands it to the zygote (a few syscalls; it
/// fails with errc::busy instead of blocking when the zygote's queue is full). The program's
/// progress is awaited on `RunHandle::wait_fd()` (see below), so an Asio server never blocks an
/// I/O thread. `run` and the workspace functions block (briefly for workspaces): call them on a
/// thread pool.
///
/// Errors: expected failures are values (agentd/sandbox/errc.h). What the program does (exit
/// status, signals, timeouts, limits) is a successful RunResult, not an error.

#include "agentd/sandbox/config.h"
#include "agentd/sandbox/errc.h"
#include "agentd/sandbox/run.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::sandbox {

/// What the host lets the sandbox do, found by a real probe run at start-up.
struct HostReport {
    enum class Mode : std::uint8_t {
        root,     ///< agentd is root: namespaces created as root, program as sandbox_uid
        rootless, ///< not root: everything inside a user namespace of agentd's own uid
        minimal,  ///< no namespaces possible: rlimits, seccomp and no_new_privs only
    };
    Mode mode = Mode::minimal;
    LayerSet layers;          ///< verified on the probe run (with a managed workspace)
    std::string cgroup;       ///< "v2", "v1" or "none"
    bool warm_python = false; ///< the warm interpreter is configured and started
};
std::string_view to_string(HostReport::Mode m) noexcept;

/// A run in progress. Move-only; destroying it before the result was taken cancels the run
/// (the whole PID namespace is killed).
class RunHandle {
public:
    RunHandle(RunHandle&&) noexcept;
    RunHandle& operator=(RunHandle&&) noexcept;
    RunHandle(const RunHandle&) = delete;
    RunHandle& operator=(const RunHandle&) = delete;
    ~RunHandle();

    /// A descriptor that becomes readable (POLLIN, level-triggered) once the result is ready or
    /// the run failed. Owned by the handle: to wait with Asio, wrap a dup() of it in a
    /// posix::stream_descriptor and async_wait(wait_read), then call try_result().
    [[nodiscard]] int wait_fd() const noexcept;

    /// The result when the run has finished, nullopt while it is still going (never blocks).
    /// After it returned a value the handle is spent.
    [[nodiscard]] std::optional<base::Result<RunResult>> try_result();

    /// Blocks until the run finished and returns its result.
    [[nodiscard]] base::Result<RunResult> wait();

    /// Kills the run now; a later try_result()/wait() returns errc::cancelled. Idempotent.
    void cancel() noexcept;

    struct State;
    explicit RunHandle(std::unique_ptr<State> state) noexcept;

private:
    std::unique_ptr<State> state_;
};

class Sandbox {
public:
    /// Probes the host, builds the seccomp filters, forks the zygote and (optionally) starts the
    /// warm Python interpreter. Fails with errc::unavailable when a required layer is missing,
    /// errc::invalid_argument for a bad configuration.
    [[nodiscard]] static base::Result<std::unique_ptr<Sandbox>> create(SandboxConfig config);

    Sandbox(const Sandbox&) = delete;
    Sandbox& operator=(const Sandbox&) = delete;
    /// Stops the zygote: running programs are killed, managed workspaces are removed.
    ~Sandbox();

    /// Starts a run (see the class comment). errc::invalid_argument for a bad request,
    /// errc::not_found for an unknown workspace, errc::busy when too many runs wait.
    [[nodiscard]] base::Result<RunHandle> start(const RunRequest& request);

    /// start() + wait().
    [[nodiscard]] base::Result<RunResult> run(const RunRequest& request);

    [[nodiscard]] const HostReport& host() const noexcept;
    [[nodiscard]] const SandboxConfig& config() const noexcept;

    /// Blocks until the warm interpreter accepts runs or `timeout` passes; false when it is not
    /// configured, failed, or not ready in time (runs then start cold).
    bool wait_warm_ready(std::chrono::milliseconds timeout);

    // Managed workspaces: a tmpfs of limits.workspace_bytes per id, private to the sandbox,
    // persistent across runs until removed or idle for workspace_idle_ttl_s. Ids are 1-64 of
    // [A-Za-z0-9_.-] (not "." or ".."). Paths inside are relative; they can never leave the
    // workspace (no "..", symlinks or mount crossings are followed).

    /// Creates the workspace, or succeeds when it exists. errc::limit_exceeded when
    /// max_workspaces exist.
    [[nodiscard]] base::Result<void> create_workspace(std::string_view id);
    /// Removes the workspace and everything in it; errc::not_found when it does not exist.
    [[nodiscard]] base::Result<void> remove_workspace(std::string_view id);
    /// Writes a file (creating parent directories), owned by the sandbox user.
    /// errc::limit_exceeded when the workspace is full.
    [[nodiscard]] base::Result<void> write_file(std::string_view id, std::string_view path,
                                                std::string_view data);
    /// Reads a regular file of at most `max_bytes` (errc::limit_exceeded when larger).
    [[nodiscard]] base::Result<std::string> read_file(std::string_view id, std::string_view path,
                                                      std::uint64_t max_bytes);
    /// Relative paths of the regular files in the workspace (at most `max_entries`).
    [[nodiscard]] base::Result<std::vector<std::string>> list_files(std::string_view id,
                                                                    std::size_t max_entries);
    /// Removes workspaces idle for longer than the configured TTL; returns how many. Also done
    /// on every create_workspace.
    std::size_t sweep_idle_workspaces();

    struct Impl;

private:
    explicit Sandbox(std::unique_ptr<Impl> impl) noexcept;
    std::unique_ptr<Impl> impl_;
};

/// The seccomp filter every sandboxed program runs under, compiled for this machine, as raw
/// classic BPF (an array of struct sock_filter). For audits and for giving other launchers the
/// same policy (the benchmark hands it to bubblewrap). errc::unavailable when libseccomp fails.
[[nodiscard]] base::Result<std::string> program_seccomp_filter();

} // namespace agentd::sandbox
