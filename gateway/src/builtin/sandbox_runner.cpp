#include "builtin/sandbox_runner.h"

#include "auth/sha256.h"
#include "log/logging.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>

namespace agentd::gateway::builtin {
namespace {

using json = nlohmann::json;
using sandbox::errc;

base::Error invalid(const std::string& field, const std::string& what) {
    return {errc::invalid_argument, field + ": " + what};
}

bool valid_session(std::string_view s) {
    if (s.empty() || s.size() > 64 || s == "." || s == "..") {
        return false;
    }
    for (const char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
        if (!ok) {
            return false;
        }
    }
    return true;
}

/// Why `path` cannot name a file in a workspace ("" when it can): relative, no empty, "." or
/// ".." components. (The sandbox resolves it beneath the workspace, refusing symlinks and
/// mount crossings; this only gives a precise error early.)
std::string bad_path(std::string_view path) {
    if (path.empty() || path.size() > 255) {
        return "must be 1-255 bytes";
    }
    if (path.front() == '/') {
        return "must be relative to /workspace";
    }
    if (path.find('\0') != std::string_view::npos) {
        return "must not contain NUL";
    }
    std::size_t start = 0;
    while (start <= path.size()) {
        const auto slash = path.find('/', start);
        const auto part = path.substr(
            start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
        if (part.empty() || part == "." || part == "..") {
            return "must not have empty, \".\" or \"..\" components";
        }
        if (slash == std::string_view::npos) {
            break;
        }
        start = slash + 1;
    }
    return {};
}

/// The `files` and `read_files` fields into `out`.
base::Result<void> parse_files(const json& body, ParsedRun& out) {
    if (const auto it = body.find("files"); it != body.end() && !it->is_null()) {
        if (!it->is_object()) {
            return invalid("files", "must be an object of path: text");
        }
        if (it->size() > kMaxRunFiles) {
            return invalid("files", "has more than " + std::to_string(kMaxRunFiles) + " entries");
        }
        std::uint64_t total = 0;
        for (const auto& [path, text] : it->items()) {
            if (const auto why = bad_path(path); !why.empty()) {
                return invalid("files", "path \"" + path + "\" " + why);
            }
            if (!text.is_string()) {
                return invalid("files", "\"" + path + "\" must be a string");
            }
            total += text.get_ref<const std::string&>().size();
            if (total > kMaxFilesInBytes) {
                return invalid("files", "are larger than " +
                                            std::to_string(kMaxFilesInBytes / sandbox::kMiB) +
                                            " MiB together");
            }
            out.files.emplace_back(path, text.get<std::string>());
        }
    }
    if (const auto it = body.find("read_files"); it != body.end() && !it->is_null()) {
        if (!it->is_array()) {
            return invalid("read_files", "must be an array of paths");
        }
        if (it->size() > kMaxRunFiles) {
            return invalid("read_files",
                           "has more than " + std::to_string(kMaxRunFiles) + " entries");
        }
        for (const auto& p : *it) {
            if (!p.is_string()) {
                return invalid("read_files", "must be an array of strings");
            }
            const auto& path = p.get_ref<const std::string&>();
            if (const auto why = bad_path(path); !why.empty()) {
                return invalid("read_files", "path \"" + path + "\" " + why);
            }
            out.read_files.push_back(path);
        }
    }
    return {};
}

/// An integer field in [1, max]; nullopt when absent.
base::Result<std::optional<std::uint64_t>> positive(const json& body, const char* field,
                                                    std::uint64_t max) {
    const auto it = body.find(field);
    if (it == body.end() || it->is_null()) {
        return std::optional<std::uint64_t>();
    }
    if (!it->is_number_integer() || it->get<std::int64_t>() < 1 || it->get<std::uint64_t>() > max) {
        return invalid(field, "must be an integer from 1 to " + std::to_string(max));
    }
    return std::optional<std::uint64_t>(it->get<std::uint64_t>());
}

base::Result<std::string> text_field(const json& body, const char* field, bool required,
                                     std::uint64_t max_bytes) {
    const auto it = body.find(field);
    if (it == body.end() || it->is_null()) {
        if (required) {
            return invalid(field, "is required");
        }
        return std::string();
    }
    if (!it->is_string()) {
        return invalid(field, "must be a string");
    }
    const auto& s = it->get_ref<const std::string&>();
    if (s.size() > max_bytes) {
        return invalid(field, "is larger than " + std::to_string(max_bytes) + " bytes");
    }
    return s;
}

} // namespace

/// One run from request to result: the handle once started and a descriptor watching it.
struct SandboxRunner::Pending {
    std::shared_ptr<SandboxRunner> runner;
    ParsedRun run;
    Done done;
    std::mutex mu;
    std::optional<sandbox::RunHandle> handle;
    std::unique_ptr<boost::asio::posix::stream_descriptor> fd;
    bool cancelled = false;
    std::atomic<bool> finished{false};

    void finish(base::Result<sandbox::RunResult> r) {
        if (finished.exchange(true)) {
            return;
        }
        bool was_cancelled = false;
        {
            std::lock_guard lock(mu);
            was_cancelled = cancelled;
        }
        if (was_cancelled) {
            // Logged once the run is gone (killed and reaped, or never started).
            log::log_event(log::Level::info, "sandbox run cancelled",
                           {{"lang", std::string(sandbox::to_string(run.request.language))},
                            {"session", run.session}});
        }
        if (!run.ephemeral_workspace && run.read_files.empty()) {
            deliver(done, std::move(r), {});
            return;
        }
        // Reading files back and removing a per-run workspace are blocking exchanges with the
        // sandbox's zygote: not on I/O threads.
        boost::asio::post(runner->blocking_, [runner = runner, run = std::move(run),
                                              done = std::move(done), r = std::move(r)]() mutable {
            auto files = runner->collect_files(run, r.has_value());
            deliver(done, std::move(r), std::move(files));
        });
    }
    static void deliver(const Done& done, base::Result<sandbox::RunResult> r,
                        std::vector<FileOut> files) {
        if (!r) {
            done(r.error());
            return;
        }
        done(RunOutcome{std::move(*r), std::move(files)});
    }
    void cancel() {
        std::lock_guard lock(mu);
        if (finished.load() || cancelled) {
            return;
        }
        cancelled = true;
        if (handle) {
            handle->cancel();
        }
    }
};

SandboxRunner::SandboxRunner(std::shared_ptr<sandbox::Sandbox> sandbox,
                             const SandboxExposeConfig& config, boost::asio::io_context& io,
                             boost::asio::thread_pool& blocking)
    : sandbox_(std::move(sandbox)), config_(config), io_(io), blocking_(blocking) {}

base::Result<ParsedRun> SandboxRunner::parse_request(const json& body, std::string_view tenant,
                                                     std::optional<sandbox::Language> lang) const {
    if (!body.is_object()) {
        return invalid("body", "must be a JSON object");
    }
    const auto& sc = sandbox_->config();
    for (const auto& [k, v] : body.items()) {
        if (k != "code" && k != "stdin" && k != "timeout_ms" && k != "memory_mb" &&
            k != "session" && k != "files" && k != "read_files" && (k != "lang" || lang)) {
            return invalid(k, "unknown field");
        }
    }
    ParsedRun out;
    auto& req = out.request;
    if (lang) {
        req.language = *lang;
    } else {
        auto name = text_field(body, "lang", true, 16);
        if (!name) {
            return name.error();
        }
        const auto parsed = sandbox::parse_language(*name);
        if (!parsed) {
            return invalid("lang", "must be \"python\" or \"bash\"");
        }
        req.language = *parsed;
    }
    auto code = text_field(body, "code", true, sc.max_code_bytes);
    auto stdin_data = text_field(body, "stdin", false, sc.max_stdin_bytes);
    auto session = text_field(body, "session", false, 64);
    if (!code || !stdin_data || !session) {
        return !code ? code.error() : !stdin_data ? stdin_data.error() : session.error();
    }
    if (!session->empty() && !valid_session(*session)) {
        return invalid("session", "must be 1-64 characters of A-Z a-z 0-9 _ . - (not . or ..)");
    }
    auto timeout = positive(body, "timeout_ms", config_.max_timeout_ms);
    auto memory_mb = positive(body, "memory_mb", config_.max_memory_mb);
    if (!timeout || !memory_mb) {
        return !timeout ? timeout.error() : memory_mb.error();
    }
    sandbox::Limits limits = sc.default_limits;
    limits.wall_ms = static_cast<std::uint32_t>(timeout->value_or(config_.default_timeout_ms));
    // The CPU limit follows the wall clock, so a busy program is stopped by its timeout.
    limits.cpu_ms = std::min(limits.wall_ms, sc.max_limits.cpu_ms);
    limits.memory_bytes = memory_mb->value_or(config_.default_memory_mb) * sandbox::kMiB;
    req.limits = limits;
    req.code = std::move(*code);
    req.stdin_data = std::move(*stdin_data);
    if (!session->empty()) {
        req.workspace_id = workspace_id(tenant, *session);
        out.session = std::move(*session);
    }
    if (auto files = parse_files(body, out); !files) {
        return files.error();
    }
    if (req.workspace_id.empty() && (!out.files.empty() || !out.read_files.empty())) {
        // A workspace for this run alone; "\x01" never occurs in a session name.
        req.workspace_id =
            workspace_id(tenant, "\x01run-" + std::to_string(next_run_workspace_.fetch_add(1)));
        out.ephemeral_workspace = true;
    }
    return out;
}

std::function<void()> SandboxRunner::run(ParsedRun run, Done done) {
    auto pending = std::make_shared<Pending>();
    pending->runner = shared_from_this();
    pending->run = std::move(run);
    pending->done = std::move(done);
    std::function<void()> cancel = [weak = std::weak_ptr<Pending>(pending)] {
        if (auto p = weak.lock()) {
            p->cancel();
        }
    };
    if (pending->run.request.workspace_id.empty()) {
        start(pending);
    } else {
        // Creating a workspace is a short blocking exchange with the zygote: not on I/O threads.
        boost::asio::post(blocking_, [self = shared_from_this(), pending] {
            auto ready = self->prepare_workspace(pending->run);
            if (!ready) {
                pending->finish(ready.error());
                return;
            }
            self->start(pending);
        });
    }
    return cancel;
}

namespace {

using Finish = std::function<void(base::Result<sandbox::RunResult>)>;

void await_end(const std::shared_ptr<Finish>& finish, const std::shared_ptr<void>& keep,
               boost::asio::posix::stream_descriptor& fd,
               const std::function<std::optional<base::Result<sandbox::RunResult>>()>& poll) {
    fd.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                  [finish, keep, &fd, poll](boost::system::error_code ec) {
                      auto r = poll();
                      if (!r && !ec) {
                          await_end(finish, keep, fd, poll);
                          return;
                      }
                      if (!r) {
                          (*finish)(base::Error(errc::io_error,
                                                "waiting for the sandbox failed: " + ec.message()));
                          return;
                      }
                      (*finish)(std::move(*r));
                  });
}

} // namespace

void SandboxRunner::start(const std::shared_ptr<Pending>& pending) {
    std::optional<base::Error> failed;
    {
        std::lock_guard lock(pending->mu);
        if (pending->cancelled) {
            failed = base::Error(errc::cancelled, "the run was cancelled");
        } else if (auto handle = sandbox_->start(pending->run.request); !handle) {
            failed = handle.error();
        } else if (const int fd = ::dup(handle->wait_fd()); fd < 0) {
            failed = base::Error(errc::io_error, "cannot wait for the sandbox (dup failed)");
        } else {
            pending->handle.emplace(std::move(*handle));
            pending->fd = std::make_unique<boost::asio::posix::stream_descriptor>(io_, fd);
        }
    }
    if (failed) {
        pending->finish(std::move(*failed));
        return;
    }
    log::log_event(log::Level::debug, "sandbox run started",
                   {{"lang", std::string(sandbox::to_string(pending->run.request.language))},
                    {"session", pending->run.session}});
    auto finish = std::make_shared<Finish>(
        [pending](base::Result<sandbox::RunResult> r) { pending->finish(std::move(r)); });
    const std::weak_ptr<Pending> weak = pending;
    await_end(finish, pending, *pending->fd,
              [weak]() -> std::optional<base::Result<sandbox::RunResult>> {
                  auto p = weak.lock();
                  if (!p) {
                      return base::Result<sandbox::RunResult>(
                          base::Error(errc::cancelled, "the run was abandoned"));
                  }
                  std::lock_guard inner(p->mu);
                  return p->handle->try_result();
              });
}

base::Result<void> SandboxRunner::prepare_workspace(const ParsedRun& run) {
    const std::string& id = run.request.workspace_id;
    if (auto created = sandbox_->create_workspace(id); !created) {
        return created.error();
    }
    for (const auto& [path, text] : run.files) {
        if (auto written = sandbox_->write_file(id, path, text); !written) {
            return base::Error(written.error().code,
                               "files: \"" + path + "\": " + written.error().what());
        }
    }
    return {};
}

std::vector<FileOut> SandboxRunner::collect_files(const ParsedRun& run, bool read) {
    std::vector<FileOut> out;
    const std::string& id = run.request.workspace_id;
    std::uint64_t total = 0;
    for (const auto& path : read ? run.read_files : std::vector<std::string>{}) {
        FileOut f;
        f.path = path;
        if (total >= kMaxFilesOutBytes) {
            f.error = "not read: the files read back reached " +
                      std::to_string(kMaxFilesOutBytes / sandbox::kMiB) + " MiB";
        } else if (auto data = sandbox_->read_file(
                       id, path, std::min(kMaxFileOutBytes, kMaxFilesOutBytes - total));
                   data) {
            total += data->size();
            f.content = std::move(*data);
        } else {
            f.error = data.error().what();
        }
        out.push_back(std::move(f));
    }
    if (run.ephemeral_workspace) {
        // Gone with the run (it may never have been made when the start failed).
        (void)sandbox_->remove_workspace(id);
    }
    return out;
}

std::string workspace_id(std::string_view tenant, std::string_view session) {
    std::string key(tenant);
    key.push_back('\n');
    key.append(session);
    return "ws-" + auth::to_hex(auth::sha256(key)).substr(0, 40);
}

json result_json(const sandbox::RunResult& r) {
    const auto opt = [](const std::optional<int>& v) { return v ? json(*v) : json(nullptr); };
    return {{"exit_code", opt(r.exit_code)},
            {"signal", opt(r.signal)},
            {"stdout", r.stdout_data},
            {"stderr", r.stderr_data},
            {"timed_out", r.timed_out},
            {"wall_ms", r.wall_ms},
            {"cpu_ms", r.cpu_ms},
            {"max_rss_kb", r.max_rss_kb},
            {"isolation", r.isolation.names()},
            {"stdout_truncated", r.stdout_truncated},
            {"stderr_truncated", r.stderr_truncated},
            {"stdout_bytes", r.stdout_bytes},
            {"stderr_bytes", r.stderr_bytes},
            {"limit", std::string(sandbox::to_string(r.limit))},
            {"warm", r.warm}};
}

json result_json(const RunOutcome& outcome) {
    json out = result_json(outcome.result);
    if (!outcome.files.empty()) {
        json files = json::array();
        for (const auto& f : outcome.files) {
            files.push_back(f.content ? json{{"path", f.path}, {"content", *f.content}}
                                      : json{{"path", f.path}, {"error", f.error}});
        }
        out["files"] = std::move(files);
    }
    return out;
}

sandbox::SandboxConfig make_sandbox_config(const SandboxExposeConfig& c) {
    sandbox::SandboxConfig sc;
    sc.max_concurrent_runs = c.max_concurrent_runs;
    sc.max_queued_runs = c.max_queued_runs;
    sc.warm_python = c.warm_python;
    sc.default_limits.wall_ms = c.default_timeout_ms;
    sc.default_limits.cpu_ms = c.default_timeout_ms;
    sc.default_limits.memory_bytes = std::uint64_t{c.default_memory_mb} * sandbox::kMiB;
    sc.max_limits.wall_ms = std::max(sc.max_limits.wall_ms, c.max_timeout_ms);
    sc.max_limits.cpu_ms = std::max(sc.max_limits.cpu_ms, c.max_timeout_ms);
    sc.max_limits.memory_bytes =
        std::max(sc.max_limits.memory_bytes, std::uint64_t{c.max_memory_mb} * sandbox::kMiB);
    return sc;
}

} // namespace agentd::gateway::builtin
