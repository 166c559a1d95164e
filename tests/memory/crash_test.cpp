// Crash safety with real processes: a child writes as fast as it can from several threads and
// reports each acknowledged write on a pipe; the parent kills it with SIGKILL at a random
// moment, reopens the database and checks that every acknowledged write is there and that
// SQLite's integrity check passes. Repeated over several rounds on the same file.
//
// The child is this test binary re-executed with AGENTD_CRASH_CHILD set: a static initializer
// runs the writer before GoogleTest starts and never returns.
#include "agentd/memory/errc.h"
#include "agentd/memory/memory_store.h"
#include "agentd/memory/message_store.h"
#include "agentd/memory/session_store.h"
#include "agentd/memory/task_store.h"

#include "memory_test_util.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>

namespace agentd::memory {
namespace {

std::vector<float> embedding_for(long seq) {
    std::vector<float> v(8);
    for (std::size_t i = 0; i < v.size(); ++i) {
        v[i] =
            static_cast<float>(std::sin(static_cast<double>(seq) * 0.37 + static_cast<double>(i)));
    }
    return v;
}

[[noreturn]] void child_main(const char* db_path, int fd, const char* round) {
    auto db = Database::open({.path = db_path});
    if (!db) {
        std::fprintf(stderr, "child: open failed: %s\n", db.error().what().c_str());
        std::_Exit(3);
    }
    std::mutex out_mutex;
    auto report = [&](const std::string& line) {
        std::lock_guard lock(out_mutex);
        const std::string l = line + "\n";
        if (::write(fd, l.data(), l.size()) != static_cast<ssize_t>(l.size())) {
            std::_Exit(4);
        }
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            const std::string session = std::string("s") + round + "-" + std::to_string(t);
            if (!(*db)->sessions().create("crash", {.id = session})) {
                std::_Exit(5);
            }
            report("session " + session);
            for (long i = 0;; ++i) {
                const long seq = i * 4 + t;
                switch (i % 3) {
                case 0: {
                    const std::string text = "crash memory " + session + " " + std::to_string(i);
                    auto id = (*db)->memories().put(
                        "crash", {.text = text, .embedding = embedding_for(seq), .model = "m"});
                    if (id) {
                        report("memory " + std::to_string(*id) + " " + text);
                    }
                    break;
                }
                case 1: {
                    auto s = (*db)->messages().append(
                        "crash", session,
                        NewMessage{.role = "user",
                                   .content_json = "\"" + std::to_string(i) + "\""});
                    if (s) {
                        report("message " + session + " " + std::to_string(*s));
                    }
                    break;
                }
                default: {
                    const std::string id = session + "-task-" + std::to_string(i);
                    if ((*db)->tasks().create("crash", {.id = id}, R"({"n":1})")) {
                        report("task " + id);
                    }
                    break;
                }
                }
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    std::_Exit(0);
}

const bool kChildMode = [] {
    if (const char* db = std::getenv("AGENTD_CRASH_CHILD")) {
        child_main(db, std::atoi(std::getenv("AGENTD_CRASH_FD")),
                   std::getenv("AGENTD_CRASH_ROUND"));
    }
    return false;
}();

struct Acked {
    std::map<std::int64_t, std::string> memories;
    std::vector<std::pair<std::string, std::int64_t>> messages;
    std::vector<std::string> tasks;
    std::vector<std::string> sessions;
};

void parse_line(const std::string& line, Acked& acked) {
    std::istringstream in(line);
    std::string kind;
    in >> kind;
    if (kind == "memory") {
        std::int64_t id = 0;
        in >> id;
        std::string text;
        std::getline(in, text);
        acked.memories[id] = text.substr(1);
    } else if (kind == "message") {
        std::string s;
        std::int64_t seq = 0;
        in >> s >> seq;
        acked.messages.emplace_back(s, seq);
    } else if (kind == "task") {
        std::string id;
        in >> id;
        acked.tasks.push_back(id);
    } else if (kind == "session") {
        std::string id;
        in >> id;
        acked.sessions.push_back(id);
    }
}

/// Runs one child, kills it after `kill_after` acknowledgements, returns what it acknowledged.
Acked run_child_and_kill(const std::string& db_path, int round, std::size_t kill_after) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        ::setenv("AGENTD_CRASH_CHILD", db_path.c_str(), 1);
        ::setenv("AGENTD_CRASH_FD", std::to_string(fds[1]).c_str(), 1);
        ::setenv("AGENTD_CRASH_ROUND", std::to_string(round).c_str(), 1);
        ::execl("/proc/self/exe", "crash-child", static_cast<char*>(nullptr));
        std::_Exit(127);
    }
    ::close(fds[1]);
    Acked acked;
    std::string buffer;
    std::size_t lines = 0;
    char chunk[4096];
    bool killed = false;
    for (;;) {
        const ssize_t n = ::read(fds[0], chunk, sizeof chunk);
        if (n <= 0) {
            break; // the child is gone and every line it wrote has been read
        }
        buffer.append(chunk, static_cast<std::size_t>(n));
        for (auto nl = buffer.find('\n'); nl != std::string::npos; nl = buffer.find('\n')) {
            parse_line(buffer.substr(0, nl), acked);
            buffer.erase(0, nl + 1);
            if (++lines >= kill_after && !killed) {
                ::kill(pid, SIGKILL);
                killed = true;
            }
        }
    }
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "child did not die by SIGKILL; status " << status;
    return acked;
}

TEST(CrashSafety, AcknowledgedWritesSurviveSigkillAtRandomMoments) {
    test::TempDir dir("crash");
    const std::string path = dir.db_path();
    std::mt19937 rng(std::random_device{}());
    Acked all;
    for (int round = 0; round < 8; ++round) {
        const std::size_t kill_after = std::uniform_int_distribution<std::size_t>(20, 600)(rng);
        Acked a = run_child_and_kill(path, round, kill_after);
        all.memories.insert(a.memories.begin(), a.memories.end());
        all.messages.insert(all.messages.end(), a.messages.begin(), a.messages.end());
        all.tasks.insert(all.tasks.end(), a.tasks.begin(), a.tasks.end());
        all.sessions.insert(all.sessions.end(), a.sessions.begin(), a.sessions.end());

        auto db = test::open_db(path);
        ASSERT_TRUE(db) << "round " << round;
        ASSERT_EQ(db->integrity_check().value(), "ok") << "round " << round;
        for (const auto& [id, text] : all.memories) {
            auto m = db->memories().get("crash", id);
            ASSERT_TRUE(m) << "lost memory " << id << " in round " << round;
            EXPECT_EQ(m->text, text);
        }
        for (const auto& [session, seq] : all.messages) {
            auto msgs = db->messages().list("crash", session, seq - 1, 1);
            ASSERT_TRUE(msgs) << session;
            ASSERT_EQ(msgs->size(), 1u) << "lost message " << session << "/" << seq;
            EXPECT_EQ(msgs->front().seq, seq);
        }
        for (const auto& id : all.tasks) {
            ASSERT_TRUE(db->tasks().get("crash", id)) << "lost task " << id;
        }
        for (const auto& id : all.sessions) {
            ASSERT_TRUE(db->sessions().get("crash", id)) << "lost session " << id;
        }
        // The mirror reloaded from the table: every stored embedding is searchable.
        EXPECT_EQ(static_cast<std::int64_t>(db->stats().vectors),
                  db->memories().count("crash").value());
        if (!all.memories.empty()) {
            const auto& [id, text] = *all.memories.rbegin();
            (void)text;
            auto stored = db->memories().get("crash", id, true).value();
            SearchQuery q{.embedding = stored.embedding, .model = "m", .k = 1};
            EXPECT_NEAR(*db->memories().search("crash", q).value().front().vector_score, 1.0f,
                        1e-5);
        }
    }
    EXPECT_GT(all.memories.size() + all.messages.size() + all.tasks.size(), 100u);
}

TEST(CrashSafety, UnwritableDatabaseGivesAClearError) {
    test::TempDir dir("readonly");
    ASSERT_TRUE(test::open_db(dir.db_path())); // create it, owned by us
    ::chmod(dir.path().c_str(), 0755);
    ::chmod(dir.db_path().c_str(), 0444);
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        // Root ignores permission bits: become an unprivileged user first when we are root.
        if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) {
            std::_Exit(2);
        }
        std::string result;
        auto db = Database::open({.path = dir.db_path()});
        if (!db) {
            result = std::to_string(db.error().code.value()) + " " + db.error().what();
        } else {
            auto w = (*db)->memories().put("t", {.text = "x"});
            result = w ? "0 write succeeded"
                       : std::to_string(w.error().code.value()) + " " + w.error().what();
        }
        (void)!::write(fds[1], result.data(), result.size());
        std::_Exit(0);
    }
    ::close(fds[1]);
    char buf[512] = {};
    const ssize_t n = ::read(fds[0], buf, sizeof buf - 1);
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    ASSERT_GT(n, 0);
    const int code = std::atoi(buf);
    EXPECT_TRUE(code == static_cast<int>(errc::read_only) ||
                code == static_cast<int>(errc::io_error))
        << buf;
    ::chmod(dir.db_path().c_str(), 0644);
    auto db = test::open_db(dir.db_path());
    ASSERT_TRUE(db);
    EXPECT_EQ(db->integrity_check().value(), "ok");
    EXPECT_EQ(db->memories().count("t").value(), 0);
}

} // namespace
} // namespace agentd::memory
