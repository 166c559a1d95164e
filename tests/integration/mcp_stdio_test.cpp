// `agentd mcp --stdio` driven over pipes: both protocol eras on one process, bad lines,
// cancellation, end of input, signals.

#include "agentd/test/env.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <vector>

namespace agentd::itest::mcp {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

/// agentd mcp --stdio as a child with piped stdin/stdout/stderr; every wait is bounded.
class StdioServer {
public:
    explicit StdioServer(std::vector<std::string> extra = {"--conformance-fixtures"}) {
        data_ = agentd::test::make_temp_dir("mcp-stdio");
        int in[2], out[2], err[2];
        EXPECT_EQ(::pipe2(in, O_CLOEXEC), 0);
        EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
        EXPECT_EQ(::pipe2(err, O_CLOEXEC), 0);
        std::vector<std::string> args = {agentd::test::agentd_binary().string(), "mcp", "--stdio",
                                         "--data", data_.string()};
        args.insert(args.end(), extra.begin(), extra.end());
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(in[0], 0);
            ::dup2(out[1], 1);
            ::dup2(err[1], 2);
            std::vector<char*> argv;
            for (auto& a : args) {
                argv.push_back(a.data());
            }
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        ::close(in[0]);
        ::close(out[1]);
        ::close(err[1]);
        stdin_ = in[1];
        stdout_ = out[0];
        stderr_reader_ = std::thread([this, fd = err[0]] {
            char buf[4096];
            ssize_t n = 0;
            while ((n = ::read(fd, buf, sizeof buf)) > 0) {
                std::lock_guard lock(mu_);
                err_.append(buf, static_cast<std::size_t>(n));
                err_grew_.notify_all();
            }
            ::close(fd);
        });
    }

    ~StdioServer() {
        close_stdin();
        if (pid_ > 0 && !exit_status_) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
        ::close(stdout_);
        stderr_reader_.join();
        std::filesystem::remove_all(data_);
    }

    void write_line(const std::string& line) {
        const std::string text = line + "\n";
        ASSERT_EQ(::write(stdin_, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    }
    void send(const json& message) { write_line(message.dump()); }
    void close_stdin() {
        if (stdin_ >= 0) {
            ::close(stdin_);
            stdin_ = -1;
        }
    }

    /// The next line on stdout, or nullopt at end of output / timeout.
    std::optional<json> read(std::chrono::milliseconds timeout = 10s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (true) {
            const auto nl = buffer_.find('\n');
            if (nl != std::string::npos) {
                const std::string line = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                return json::parse(line); // stdout carries only JSON-RPC messages
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            pollfd p{stdout_, POLLIN, 0};
            if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
                return std::nullopt;
            }
            char buf[4096];
            const ssize_t n = ::read(stdout_, buf, sizeof buf);
            if (n <= 0) {
                return std::nullopt;
            }
            buffer_.append(buf, static_cast<std::size_t>(n));
        }
    }

    /// Reads until the response with `id`, collecting what came before it in `before`.
    json response(const json& id, std::vector<json>* before = nullptr) {
        while (auto m = read()) {
            if (m->contains("id") && m->at("id") == id && !m->contains("method")) {
                return *m;
            }
            if (before != nullptr) {
                before->push_back(*m);
            }
        }
        ADD_FAILURE() << "no response for id " << id;
        return json();
    }

    bool wait_for_err(const std::string& needle, std::chrono::milliseconds timeout = 10s) {
        std::unique_lock lock(mu_);
        return err_grew_.wait_for(lock, timeout,
                                  [&] { return err_.find(needle) != std::string::npos; });
    }

    /// Waits for the exit (pidfd + poll); returns the exit code (-1 on a signal or timeout).
    int wait(std::chrono::milliseconds timeout = 20s) {
        const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
        if (pidfd >= 0) {
            pollfd p{pidfd, POLLIN, 0};
            (void)::poll(&p, 1, static_cast<int>(timeout.count()));
            ::close(pidfd);
        }
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) != pid_) {
            return -1;
        }
        exit_status_ = status;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    void signal(int signo) { ::kill(pid_, signo); }
    std::string err() {
        std::lock_guard lock(mu_);
        return err_;
    }

private:
    std::filesystem::path data_;
    pid_t pid_ = -1;
    int stdin_ = -1;
    int stdout_ = -1;
    std::string buffer_;
    std::thread stderr_reader_;
    std::mutex mu_;
    std::condition_variable err_grew_;
    std::string err_;
    std::optional<int> exit_status_;
};

json request(json id, const std::string& method, json params = json::object()) {
    return {{"jsonrpc", "2.0"}, {"id", std::move(id)}, {"method", method}, {"params", params}};
}

json modern(json id, const std::string& method, json params = json::object()) {
    params["_meta"] = {{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
                       {"io.modelcontextprotocol/clientCapabilities", json::object()}};
    return request(std::move(id), method, std::move(params));
}

TEST(McpStdio, ServesBothErasAndSurvivesBadLines) {
    StdioServer s;
    s.send(modern(1, "server/discover"));
    EXPECT_EQ(s.response(1).at("result").at("supportedVersions")[0], "2026-07-28");

    s.write_line("this is not json");
    auto parse_error = s.read();
    ASSERT_TRUE(parse_error);
    EXPECT_EQ(parse_error->at("error").at("code"), -32700);
    EXPECT_TRUE(parse_error->at("id").is_null());
    s.write_line(R"({"jsonrpc":"2.0","id":2,"method":7})");
    EXPECT_EQ(s.response(2).at("error").at("code"), -32600);
    s.write_line("");
    s.send(request(3, "tools/list"));
    EXPECT_EQ(s.response(3).at("error").at("code"), -32600); // not initialized

    s.send(request(4, "initialize",
                   {{"protocolVersion", "2025-06-18"},
                    {"capabilities", json::object()},
                    {"clientInfo", {{"name", "t"}, {"version", "1"}}}}));
    EXPECT_EQ(s.response(4).at("result").at("protocolVersion"), "2025-06-18");
    s.send({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}});
    s.send(request(5, "tools/call",
                   {{"name", "test_tool_with_progress"}, {"_meta", {{"progressToken", "p"}}}}));
    std::vector<json> before;
    const json done = s.response(5, &before);
    EXPECT_FALSE(done.at("result").contains("resultType"));
    ASSERT_EQ(before.size(), 3u); // one notification per step, all before the response
    for (std::size_t i = 0; i < before.size(); ++i) {
        EXPECT_EQ(before[i].at("params").at("progress"), 50 * static_cast<int>(i));
    }
    s.close_stdin();
    EXPECT_EQ(s.wait(), 0) << s.err();
}

TEST(McpStdio, OversizedLinesAreSkippedWhole) {
    const auto config = agentd::test::make_temp_dir("mcp-stdio-config") / "c.json";
    {
        std::FILE* f = std::fopen(config.c_str(), "w");
        std::fputs(R"({"server": {"max_body_bytes": 1024}})", f);
        std::fclose(f);
    }
    StdioServer s({"--conformance-fixtures", "--config", config.string()});
    s.write_line(R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":")" +
                 std::string(5000, 'x') + "\"}}");
    auto error = s.read();
    ASSERT_TRUE(error);
    EXPECT_EQ(error->at("error").at("code"), -32700);
    s.send(modern(2, "tools/list"));
    EXPECT_TRUE(s.response(2).contains("result"));
    s.close_stdin();
    EXPECT_EQ(s.wait(), 0);
    std::filesystem::remove_all(config.parent_path());
}

TEST(McpStdio, CancelledRequestsStopWithoutAResponse) {
    StdioServer s;
    s.send(modern("long", "tools/call",
                  {{"name", "trigger-long-running-operation"},
                   {"arguments", {{"duration", 30}, {"steps", 300}}}}));
    s.send({{"jsonrpc", "2.0"},
            {"method", "notifications/cancelled"},
            {"params", {{"requestId", "long"}, {"reason", "test"}}}});
    EXPECT_TRUE(s.wait_for_err("mcp fixture operation cancelled")) << s.err();
    s.send(modern(9, "tools/call", {{"name", "echo"}, {"arguments", {{"message", "x"}}}}));
    const json next = s.response(9); // the cancelled request's response never comes first
    EXPECT_EQ(next.at("result").at("content")[0].at("text"), "Echo: x");
    s.close_stdin();
    EXPECT_EQ(s.wait(), 0);
}

TEST(McpStdio, EndOfInputLetsRunningRequestsFinish) {
    StdioServer s;
    s.send(modern(1, "tools/call",
                  {{"name", "trigger-long-running-operation"},
                   {"arguments", {{"duration", 0.3}, {"steps", 3}}}}));
    s.close_stdin();
    const json r = s.response(1);
    EXPECT_NE(r.at("result").at("content")[0].at("text").get<std::string>().find("completed"),
              std::string::npos);
    EXPECT_EQ(s.wait(), 0) << s.err();
}

TEST(McpStdio, SigtermEndsSubscriptionsGracefully) {
    StdioServer s;
    s.send(modern(7, "subscriptions/listen", {{"notifications", {{"toolsListChanged", true}}}}));
    auto ack = s.read();
    ASSERT_TRUE(ack);
    EXPECT_EQ(ack->at("method"), "notifications/subscriptions/acknowledged");
    s.signal(SIGTERM);
    const json end = s.response(7);
    EXPECT_EQ(end.at("result").at("_meta").at("io.modelcontextprotocol/subscriptionId"), 7);
    auto cancelled = s.read();
    ASSERT_TRUE(cancelled);
    EXPECT_EQ(cancelled->at("method"), "notifications/cancelled");
    EXPECT_EQ(cancelled->at("params").at("requestId"), 7);
    EXPECT_EQ(s.wait(), 0);
}

TEST(McpStdio, ServesTheBuiltinToolsTheConfigEnables) {
    const auto config = agentd::test::make_temp_dir("mcp-stdio-builtin") / "c.json";
    {
        std::FILE* f = std::fopen(config.c_str(), "w");
        std::fputs(R"({"sandbox": {"enabled": true}, "memory": {"tools": true}})", f);
        std::fclose(f);
    }
    StdioServer s({"--config", config.string()});
    s.send(modern(1, "tools/call",
                  {{"name", "run_python"}, {"arguments", {{"code", "print(6 * 7)"}}}}));
    const json ran = s.response(1);
    EXPECT_EQ(ran.at("result").at("structuredContent").at("stdout"), "42\n") << ran.dump();
    s.send(modern(2, "tools/call",
                  {{"name", "memory_store"}, {"arguments", {{"text", "stdio keeps the kiwi"}}}}));
    EXPECT_EQ(s.response(2).at("result").at("structuredContent").at("id"), 1);
    s.send(
        modern(3, "tools/call", {{"name", "memory_search"}, {"arguments", {{"query", "kiwi"}}}}));
    const json found = s.response(3);
    EXPECT_EQ(found.at("result").at("structuredContent").at("results").size(), 1u) << found.dump();
}

TEST(McpStdio, TheTransportFlagIsRequired) {
    const auto bin = agentd::test::agentd_binary().string();
    const std::string cmd = bin + " mcp --data /tmp 2>/dev/null";
    const int status = std::system(cmd.c_str());
    EXPECT_EQ(WEXITSTATUS(status), 2);
}

} // namespace
} // namespace agentd::itest::mcp
