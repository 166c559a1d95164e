#include "builtin/sandbox_runner.h"

#include "auth/sha256.h"
#include "log/logging.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

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
        done(std::move(r));
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
            k != "session" && (k != "lang" || lang)) {
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
    return out;
}

std::function<void()> SandboxRunner::run(ParsedRun run, Done done) {
    auto pending = std::make_shared<Pending>();
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
            auto created = self->sandbox_->create_workspace(pending->run.request.workspace_id);
            if (!created) {
                pending->finish(created.error());
                return;
            }
            self->start(pending);
        });
    }
    return cancel;
}

namespace {

void await_end(const std::shared_ptr<SandboxRunner::Done>& finish,
               const std::shared_ptr<void>& keep, boost::asio::posix::stream_descriptor& fd,
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
    auto finish = std::make_shared<Done>(
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
