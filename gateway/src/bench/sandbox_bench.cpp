// agentd bench sandbox [--runs N] [--concurrency C] [--throughput-runs M] [--json]
//
// Median wall time of a trivial Python (`print(1)`) and bash (`true`) program started bare, in
// agentd's sandbox cold (new namespaces, root, cgroup, seccomp per run) and warm (the pre-warmed
// interpreter forks per run), and under bubblewrap with comparable isolation (all namespaces, the
// same read-only binds, our seccomp filter, an unprivileged uid) — all in one process, one run
// after the other. Then throughput of concurrent short runs, cold and warm.
#include "agentd/sandbox/sandbox.h"

#include "bench/benches.h"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <grp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <vector>

namespace agentd::gateway::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
    int runs = 30;
    int concurrency = 4;
    int throughput_runs = 48;
    bool json = false;
    bool help = false;
};

constexpr const char* kUsage =
    "usage: agentd bench sandbox [--runs N] [--concurrency C] [--throughput-runs M] [--json]\n"
    "  --runs N             timed runs per measurement after 3 warm-up runs (1..10000, default "
    "30)\n"
    "  --concurrency C      sandbox slots, and parallel clients of the throughput run (1..256, "
    "default 4)\n"
    "  --throughput-runs M  runs in the throughput measurement (1..100000, default 48)\n"
    "  --json               print one JSON object as the last line of stdout\n"
    "  --help               this text\n";

int parse_int(const std::string& flag, const std::string& v, int max) {
    int out = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc() || end != v.data() + v.size() || out < 1 || out > max) {
        throw std::invalid_argument(flag + " needs a number between 1 and " + std::to_string(max));
    }
    return out;
}

Options parse(const cli::Args& args) {
    Options o;
    for (std::size_t i = 0; i < args.size(); ++i) {
        auto value = [&]() -> const std::string& {
            if (i + 1 >= args.size()) {
                throw std::invalid_argument(args[i] + " needs a value");
            }
            return args[++i];
        };
        if (args[i] == "--runs") {
            o.runs = parse_int("--runs", value(), 10000);
        } else if (args[i] == "--concurrency") {
            o.concurrency = parse_int("--concurrency", value(), 256);
        } else if (args[i] == "--throughput-runs") {
            o.throughput_runs = parse_int("--throughput-runs", value(), 100000);
        } else if (args[i] == "--json") {
            o.json = true;
        } else if (args[i] == "--help" || args[i] == "-h") {
            o.help = true;
        } else {
            throw std::invalid_argument("unknown option " + args[i]);
        }
    }
    return o;
}

double ms_since(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0
                     : (v.size() % 2 == 1 ? v[v.size() / 2]
                                          : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2);
}

// Runs `fn` (which times one run) three times to warm caches, then `runs` times.
double median_of(int runs, const std::function<double()>& fn) {
    for (int i = 0; i < 3; ++i) {
        fn();
    }
    std::vector<double> samples;
    for (int i = 0; i < runs; ++i) {
        samples.push_back(fn());
    }
    return median(samples);
}

// fork + exec `argv` with stdout on a pipe (drained), optionally as an unprivileged user first;
// returns the wall time in ms. `keep_fd` stays open in the child (the seccomp program).
double spawn_ms(const std::vector<std::string>& argv, bool drop_to_nobody, int keep_fd = -1) {
    std::vector<char*> cargv;
    for (const auto& a : argv) {
        cargv.push_back(const_cast<char*>(a.c_str()));
    }
    cargv.push_back(nullptr);
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe failed");
    }
    const auto start = Clock::now();
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(out[1], 1);
        if (keep_fd >= 0) {
            // A fresh open file description: bubblewrap reads it from offset 0 every time.
            const int fd = ::open(("/proc/self/fd/" + std::to_string(keep_fd)).c_str(), O_RDONLY);
            if (fd < 0 || ::dup2(fd, 3) != 3) {
                ::_exit(126);
            }
        }
        if (drop_to_nobody && ::geteuid() == 0 &&
            (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0)) {
            ::_exit(126);
        }
        ::execv(cargv[0], cargv.data());
        ::_exit(127);
    }
    ::close(out[1]);
    char buf[256];
    while (::read(out[0], buf, sizeof(buf)) > 0) {
    }
    ::close(out[0]);
    int st = 0;
    ::waitpid(pid, &st, 0);
    const double ms = ms_since(start);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        throw std::runtime_error("benchmark command failed: " + argv[0] + " " + argv.back());
    }
    return ms;
}

// bubblewrap with the isolation agentd applies: every namespace, the same read-only binds,
// fresh /proc, /dev and /tmp, a clean environment, a new session and the same seccomp filter.
std::vector<std::string> bwrap_argv(const std::vector<std::string>& program) {
    std::vector<std::string> a = {"/usr/bin/bwrap", "--unshare-all", "--die-with-parent",
                                  "--new-session",  "--cap-drop",    "ALL"};
    for (const char* p : {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
                          "/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives"}) {
        struct stat st {};
        if (::lstat(p, &st) != 0) {
            continue;
        }
        if (S_ISLNK(st.st_mode)) {
            char target[4096];
            const ssize_t n = ::readlink(p, target, sizeof(target) - 1);
            if (n > 0) {
                a.insert(a.end(),
                         {"--symlink", std::string(target, static_cast<std::size_t>(n)), p});
            }
        } else {
            a.insert(a.end(), {"--ro-bind", p, p});
        }
    }
    a.insert(a.end(), {"--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs",
                       "/workspace", "--chdir", "/workspace", "--clearenv", "--setenv", "PATH",
                       "/usr/bin:/bin", "--seccomp", "3"});
    a.insert(a.end(), program.begin(), program.end());
    return a;
}

int seccomp_memfd() {
    auto bpf = sandbox::program_seccomp_filter();
    if (!bpf) {
        throw std::runtime_error(bpf.error().what());
    }
    const int fd = ::memfd_create("agentd-bench-seccomp", MFD_CLOEXEC);
    if (fd < 0 || ::write(fd, bpf->data(), bpf->size()) != static_cast<ssize_t>(bpf->size())) {
        throw std::runtime_error("memfd for the seccomp filter failed");
    }
    return fd;
}

double sandbox_ms(sandbox::Sandbox& sb, sandbox::Language lang, bool warm) {
    sandbox::RunRequest req;
    req.language = lang;
    req.code = lang == sandbox::Language::python ? "print(1)\n" : "true\n";
    req.prefer_warm = warm;
    const auto start = Clock::now();
    auto r = sb.run(req);
    const double ms = ms_since(start);
    if (!r || r->exit_code != 0 || (warm && !r->warm)) {
        throw std::runtime_error("sandbox benchmark run failed: " +
                                 (r ? r->stderr_data : r.error().what()));
    }
    return ms;
}

double runs_per_second(sandbox::Sandbox& sb, bool warm, int concurrency, int total) {
    std::atomic<int> next{0};
    std::atomic<int> failed{0};
    const auto start = Clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < concurrency; ++t) {
        threads.emplace_back([&] {
            while (next.fetch_add(1) < total) {
                try {
                    sandbox_ms(sb, sandbox::Language::python, warm);
                } catch (const std::exception&) {
                    failed.fetch_add(1);
                }
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    const double seconds = ms_since(start) / 1000.0;
    if (failed.load() != 0) {
        throw std::runtime_error(std::to_string(failed.load()) + " throughput runs failed");
    }
    return total / seconds;
}

std::unique_ptr<sandbox::Sandbox> make_sandbox(bool warm, int concurrency) {
    sandbox::SandboxConfig config;
    config.warm_python = warm;
    config.max_concurrent_runs = static_cast<std::uint32_t>(std::max(concurrency, 16));
    auto sb = sandbox::Sandbox::create(config);
    if (!sb) {
        throw std::runtime_error(sb.error().what());
    }
    if (warm && !(*sb)->wait_warm_ready(std::chrono::seconds(30))) {
        throw std::runtime_error("the warm interpreter did not start");
    }
    return std::move(*sb);
}

} // namespace

int sandbox_bench(const cli::Args& args) {
    Options o;
    try {
        o = parse(args);
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "agentd bench sandbox: %s (see --help)\n", e.what());
        return 2;
    }
    if (o.help) {
        std::fputs(kUsage, stdout);
        return 0;
    }
    using sandbox::Language;
    const std::vector<std::string> py = {"/usr/bin/python3", "-c", "print(1)"};
    const std::vector<std::string> sh = {"/bin/bash", "-c", "true"};
    nlohmann::json j;
    j["runs"] = o.runs;
    j["bare_python_ms"] = median_of(o.runs, [&] { return spawn_ms(py, false); });
    j["bare_bash_ms"] = median_of(o.runs, [&] { return spawn_ms(sh, false); });
    auto cold = make_sandbox(false, o.concurrency);
    j["cold_python_ms"] =
        median_of(o.runs, [&] { return sandbox_ms(*cold, Language::python, false); });
    j["cold_bash_ms"] = median_of(o.runs, [&] { return sandbox_ms(*cold, Language::bash, false); });
    j["isolation"] = cold->host().layers.names();
    auto warm = make_sandbox(true, o.concurrency);
    j["warm_python_ms"] =
        median_of(o.runs, [&] { return sandbox_ms(*warm, Language::python, true); });
    if (::access("/usr/bin/bwrap", X_OK) == 0) {
        const int filter = seccomp_memfd();
        j["bwrap_python_ms"] =
            median_of(o.runs, [&] { return spawn_ms(bwrap_argv(py), true, filter); });
        j["bwrap_bash_ms"] =
            median_of(o.runs, [&] { return spawn_ms(bwrap_argv(sh), true, filter); });
        ::close(filter);
    } else {
        j["bwrap_python_ms"] = nullptr;
        j["bwrap_bash_ms"] = nullptr;
    }
    j["concurrency"] = o.concurrency;
    j["cold_runs_per_s"] = runs_per_second(*cold, false, o.concurrency, o.throughput_runs);
    j["warm_runs_per_s"] = runs_per_second(*warm, true, o.concurrency, o.throughput_runs);

    const auto num = [&](const char* key) {
        return j[key].is_number() ? j[key].get<double>() : 0.0;
    };
    std::printf("sandbox start-up, median of %d runs (ms):\n", o.runs);
    std::printf("  %-8s %10s %10s %10s %10s\n", "", "bare", "cold", "warm", "bwrap");
    std::printf("  %-8s %10.2f %10.2f %10.2f %10.2f\n", "python", num("bare_python_ms"),
                num("cold_python_ms"), num("warm_python_ms"), num("bwrap_python_ms"));
    std::printf("  %-8s %10.2f %10.2f %10s %10.2f\n", "bash", num("bare_bash_ms"),
                num("cold_bash_ms"), "-", num("bwrap_bash_ms"));
    std::printf("throughput, %d concurrent python runs: cold %.1f/s, warm %.1f/s\n", o.concurrency,
                num("cold_runs_per_s"), num("warm_runs_per_s"));
    if (o.json) {
        std::printf("%s\n", j.dump().c_str());
    }
    return 0;
}

} // namespace agentd::gateway::bench
