#pragma once
/// The sandbox as the server exposes it: one SandboxRunner per process, shared by the built-in
/// tools (run_python, run_bash, and the agents' run_python) and POST /v1/sandbox/run.
///
/// - parse_request() turns the public request object {lang, code, stdin, timeout_ms, memory_mb,
///   session, files, read_files} into a sandbox::RunRequest, checking every field against the
///   configured maximums; a `session` names a persistent workspace private to the caller's
///   tenant. `files` ({path: text}) are written into the workspace before the run and
///   `read_files` ([path]) read back after it; without a session they use a workspace made for
///   this run alone and removed after it.
/// - run() starts the program and awaits its end asynchronously on the I/O context (the run's
///   wait descriptor), so no I/O thread ever blocks; session workspaces are created on the
///   blocking pool. Concurrency is bounded by the sandbox (max_concurrent_runs execute, up to
///   max_queued_runs wait, beyond that errc::busy).
/// - result_json() is the result object of `agentd sandbox run` (CONTRACT.md), also used by the
///   REST route and as the tools' structuredContent.
///
/// Ownership: shared; holds the Sandbox. Threads: every member is thread-safe; `done` runs on an
/// I/O thread or a blocking-pool thread. Errors: values (agentd::sandbox::errc); what the program
/// did is a successful RunResult.

#include "agentd/base/result.h"
#include "agentd/sandbox/sandbox.h"

#include "builtin/builtin_config.h"

#include <nlohmann/json_fwd.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
class thread_pool;
} // namespace boost::asio

namespace agentd::gateway::builtin {

/// A parsed request: what to run and, when a session was named, its workspace.
struct ParsedRun {
    sandbox::RunRequest request;
    std::string session; ///< as the caller named it ("" when none)
    std::vector<std::pair<std::string, std::string>> files; ///< path, text: written before
    std::vector<std::string> read_files;                    ///< paths read back after the run
    bool ephemeral_workspace = false; ///< request.workspace_id exists for this run only
};

/// A file read back after the run: its text, or why it could not be read.
struct FileOut {
    std::string path;
    std::optional<std::string> content;
    std::string error; ///< set when content is empty
};

/// What a run gives back: the program's result and the files asked for, in request order.
struct RunOutcome {
    sandbox::RunResult result;
    std::vector<FileOut> files;
};

/// Bounds of `files` and `read_files`.
inline constexpr std::size_t kMaxRunFiles = 64;
inline constexpr std::uint64_t kMaxFilesInBytes = 4 * sandbox::kMiB;  ///< all `files` together
inline constexpr std::uint64_t kMaxFileOutBytes = 1 * sandbox::kMiB;  ///< each file read back
inline constexpr std::uint64_t kMaxFilesOutBytes = 8 * sandbox::kMiB; ///< all read back

class SandboxRunner : public std::enable_shared_from_this<SandboxRunner> {
public:
    using Done = std::function<void(base::Result<RunOutcome>)>;

    SandboxRunner(std::shared_ptr<sandbox::Sandbox> sandbox, const SandboxExposeConfig& config,
                  boost::asio::io_context& io, boost::asio::thread_pool& blocking);

    /// Parses the request object for `tenant`. `lang` fixes the language (tools); without it
    /// the object must name one. Unknown fields are refused. errc::invalid_argument naming the
    /// field.
    [[nodiscard]] base::Result<ParsedRun>
    parse_request(const nlohmann::json& body, std::string_view tenant,
                  std::optional<sandbox::Language> lang) const;

    /// Starts the run; `done` is called exactly once. The returned function kills the run
    /// (idempotent; harmless after the end): for notifications/cancelled and gone clients.
    std::function<void()> run(ParsedRun run, Done done);

    [[nodiscard]] const sandbox::Sandbox& sandbox() const { return *sandbox_; }
    [[nodiscard]] const SandboxExposeConfig& config() const { return config_; }

private:
    struct Pending;
    void start(const std::shared_ptr<Pending>& pending);
    /// On the blocking pool: creates the workspace and writes the request's files.
    base::Result<void> prepare_workspace(const ParsedRun& run);
    /// On the blocking pool: reads the files back (when `read`: the run ended) and removes a
    /// per-run workspace.
    std::vector<FileOut> collect_files(const ParsedRun& run, bool read);

    std::shared_ptr<sandbox::Sandbox> sandbox_;
    SandboxExposeConfig config_;
    boost::asio::io_context& io_;
    boost::asio::thread_pool& blocking_;
    mutable std::atomic<std::uint64_t> next_run_workspace_{0};
};

/// The workspace id of `session` of `tenant`: a digest, so tenants can never share or guess
/// each other's workspaces.
[[nodiscard]] std::string workspace_id(std::string_view tenant, std::string_view session);

/// The result object of `agentd sandbox run`: exit_code, signal, stdout, stderr, timed_out,
/// wall_ms, cpu_ms, max_rss_kb, isolation, stdout/stderr_truncated and _bytes, limit, warm.
[[nodiscard]] nlohmann::json result_json(const sandbox::RunResult& result);
/// The same, plus `files` ([{path, content} or {path, error}]) when files were read back.
[[nodiscard]] nlohmann::json result_json(const RunOutcome& outcome);

/// The sandbox configuration the server starts with (limits from `config`).
[[nodiscard]] sandbox::SandboxConfig make_sandbox_config(const SandboxExposeConfig& config);

} // namespace agentd::gateway::builtin
