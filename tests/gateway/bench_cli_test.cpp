// `agentd bench vector`, `bench sandbox` and `bench agents` option handling through the real
// binary: --help lists every option, usage mistakes exit non-zero (2 for vector and sandbox)
// with a precise message, a bad --sqlite-vec extension is refused before any work, and a tiny
// real vector run prints its JSON.
#include "agentd/test/env.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

namespace agentd::gateway {
namespace {

struct Cli {
    int status = -1;
    std::string out;
    std::string err;
};

const std::filesystem::path& scratch() {
    static const auto dir = agentd::test::make_temp_dir("bench-cli");
    return dir;
}

std::string slurp(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

/// Runs `agentd bench <args>` with stdout and stderr in files (no pipe can fill up and block).
Cli run_bench(const std::vector<std::string>& args) {
    const auto out_path = scratch() / "stdout";
    const auto err_path = scratch() / "stderr";
    const std::string bin = agentd::test::agentd_binary().string();
    std::vector<std::string> full = {bin, "bench"};
    full.insert(full.end(), args.begin(), args.end());
    const pid_t pid = ::fork();
    if (pid == 0) {
        const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (out < 0 || err < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) {
            ::_exit(126);
        }
        std::vector<char*> argv;
        for (auto& a : full) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        ::execv(bin.c_str(), argv.data());
        ::_exit(127);
    }
    Cli r;
    int st = 0;
    if (pid < 0 || ::waitpid(pid, &st, 0) != pid) {
        return r;
    }
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.out = slurp(out_path);
    r.err = slurp(err_path);
    return r;
}

std::string last_line(const std::string& s) {
    std::istringstream in(s);
    std::string line, last;
    while (std::getline(in, line)) {
        if (!line.empty()) {
            last = line;
        }
    }
    return last;
}

TEST(BenchCliTest, VectorHelpListsEveryOption) {
    const Cli r = run_bench({"vector", "--help"});
    ASSERT_EQ(r.status, 0) << r.err;
    for (const char* flag :
         {"--n ", "--dim", "--k ", "--queries ", "--int8", "--rescore", "--metric", "--data",
          "--queries-file", "--ground-truth", "--durability", "--threads", "--save-data",
          "--sqlite-vec", "--sqlite-vec-int8", "--sqlite-vec-cache-mib", "--json", "--help"}) {
        EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
    }
    EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST(BenchCliTest, SandboxHelpListsEveryOption) {
    const Cli r = run_bench({"sandbox", "--help"});
    ASSERT_EQ(r.status, 0) << r.err;
    for (const char* flag : {"--runs", "--concurrency", "--throughput-runs", "--json", "--help"}) {
        EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
    }
}

TEST(BenchCliTest, SandboxUsageErrorsExitTwo) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"sandbox", "--bogus"}, {"sandbox", "--runs"}, {"sandbox", "--runs", "0"}}) {
        const Cli r = run_bench(args);
        EXPECT_EQ(r.status, 2) << args.back();
        EXPECT_NE(r.err.find("agentd bench sandbox: "), std::string::npos) << r.err;
        EXPECT_TRUE(r.out.empty()) << r.out;
    }
}

TEST(BenchCliTest, AgentsKvOptionsAreChecked) {
    const Cli help = run_bench({"agents", "--help"});
    ASSERT_EQ(help.status, 0) << help.err;
    EXPECT_NE(help.out.find("--kv-memory-mb"), std::string::npos) << help.out;
    EXPECT_NE(help.out.find("--kv-type"), std::string::npos) << help.out;
    for (const auto& [args, reason] : std::vector<std::pair<std::vector<std::string>, std::string>>{
             {{"agents", "--model", "m.gguf", "--kv-type", "q4"}, "--kv-type must be f16 or f32"},
             {{"agents", "--model", "m.gguf", "--kv-memory-mb", "0"}, "--kv-memory-mb needs"}}) {
        const Cli r = run_bench(args);
        EXPECT_NE(r.status, 0) << args[3];
        EXPECT_NE(r.err.find(reason), std::string::npos) << r.err;
    }
}

TEST(BenchCliTest, PrefixJsonHasTheContractKeys) {
    AGENTD_REQUIRE_SHARED(model, "models/stories260K.gguf");
    // A miniature of parts (a) and (b) on the tiny real model, through real `agentd serve`
    // children: the numbers are meaningless, the keys CONTRACT.md names must be there.
    const Cli r = run_bench({"prefix",
                             "--model",
                             model.string(),
                             "--parts",
                             "a,b",
                             "--prefix-tokens",
                             "64",
                             "--new-tokens",
                             "8",
                             "--reps",
                             "1",
                             "--sessions",
                             "2",
                             "--turns",
                             "2",
                             "--system-tokens",
                             "64",
                             "--turn-tokens",
                             "8",
                             "--gen-tokens",
                             "4",
                             "--json"});
    ASSERT_EQ(r.status, 0) << r.err;
    const auto j = nlohmann::json::parse(last_line(r.out));
    for (const char* key : {"cold_ttft_ms", "warm_ttft_ms", "trace_prompt_tokens",
                            "trace_computed_tokens", "trace_wall_s"}) {
        ASSERT_TRUE(j.contains(key) && j.at(key).is_number()) << key << ": " << j.dump();
    }
    EXPECT_GT(j.at("cold_ttft_ms").get<double>(), 0.0);
    EXPECT_GT(j.at("trace_wall_s").get<double>(), 0.0);
    // 2 sessions x 2 turns of a 64-token system prompt and 8-token turns: whole token counts,
    // and the second turns find their first turns' prompts in the cache.
    ASSERT_TRUE(j.at("trace_prompt_tokens").is_number_integer()) << j.dump();
    const auto prompt = j.at("trace_prompt_tokens").get<std::int64_t>();
    const auto computed = j.at("trace_computed_tokens").get<std::int64_t>();
    EXPECT_GT(prompt, 4 * 64);
    EXPECT_GT(computed, 0);
    EXPECT_LT(computed, prompt);
}

TEST(BenchCliTest, VectorUsageErrorsExitTwoWithTheReason) {
    struct Case {
        std::vector<std::string> args;
        std::string reason;
    };
    const std::vector<Case> cases = {
        {{"--bogus"}, "unknown option --bogus"},
        {{"--n"}, "--n needs a value"},
        {{"--n", "0"}, "--n needs a whole number"},
        {{"--n", "-5"}, "--n needs a whole number"},
        {{"--dim", "12x"}, "--dim needs a whole number"},
        {{"--k", "99999999999999999999999"}, "--k needs a whole number"},
        {{"--rescore", "129"}, "--rescore needs a whole number"},
        {{"--metric", "manhattan"}, "--metric must be"},
        {{"--durability", "maybe"}, "--durability must be"},
        {{"--data", "x.f32"}, "--data and --queries-file go together"},
        {{"--metric", "dot", "--sqlite-vec", "vec0.so"}, "no dot metric"},
        {{"--sqlite-vec-int8", "bit"}, "--sqlite-vec-int8 must be rescore or column"},
        {{"--sqlite-vec-cache-mib", "0"}, "--sqlite-vec-cache-mib needs a whole number"},
        {{"--metric", "cosine", "--n", "10"}, "computed ground truth is L2"},
    };
    for (const auto& c : cases) {
        std::vector<std::string> args = {"vector"};
        args.insert(args.end(), c.args.begin(), c.args.end());
        const Cli r = run_bench(args);
        EXPECT_EQ(r.status, 2) << c.reason << ": " << r.err;
        EXPECT_NE(r.err.find(c.reason), std::string::npos) << r.err;
    }
}

TEST(BenchCliTest, VectorDataFilesAreChecked) {
    const auto base = scratch() / "odd.f32";
    std::ofstream(base, std::ios::binary) << "12345"; // 5 bytes: not a whole row of floats
    const auto missing = scratch() / "missing.f32";
    Cli r = run_bench(
        {"vector", "--dim", "4", "--data", base.string(), "--queries-file", base.string()});
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("is not a whole number of rows"), std::string::npos) << r.err;
    r = run_bench(
        {"vector", "--dim", "4", "--data", missing.string(), "--queries-file", base.string()});
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("cannot read " + missing.string()), std::string::npos) << r.err;
}

TEST(BenchCliTest, MissingSqliteVecExtensionIsAUsageError) {
    const auto missing = scratch() / "no-such-vec0.so";
    const Cli r = run_bench({"vector", "--n", "10", "--sqlite-vec", missing.string()});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find(missing.string() + ": no such file"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out; // refused before any data or store work
}

TEST(BenchCliTest, NonLibrarySqliteVecExtensionIsAUsageError) {
    const auto text = scratch() / "vec0.so";
    std::ofstream(text) << "not an ELF file\n";
    const Cli r = run_bench({"vector", "--n", "10", "--sqlite-vec", text.string()});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("is not a loadable library"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(BenchCliTest, LibraryWithoutTheEntryPointIsAUsageError) {
    // The C library is a real shared object on every Linux, but has no sqlite3_vec_init.
    Dl_info info{};
    ASSERT_NE(::dladdr(reinterpret_cast<void*>(&::getpid), &info), 0);
    ASSERT_NE(info.dli_fname, nullptr);
    const Cli r = run_bench({"vector", "--n", "10", "--sqlite-vec", info.dli_fname});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("--sqlite-vec"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("sqlite3_vec_init"), std::string::npos) << r.err;
}

TEST(BenchCliTest, TinyExactRunFindsTheTrueNeighbours) {
    const Cli r = run_bench({"vector", "--n", "300", "--dim", "8", "--queries", "5", "--durability",
                             "normal", "--json"});
    ASSERT_EQ(r.status, 0) << r.err;
    const auto j = nlohmann::json::parse(last_line(r.out));
    EXPECT_DOUBLE_EQ(j.at("recall_at_k").get<double>(), 1.0);
    EXPECT_EQ(j.at("n").get<int>(), 300);
    EXPECT_FALSE(j.contains("sqlite_vec"));
}

// Runs only when AGENTD_SQLITE_VEC names a sqlite-vec build (never a dependency of the project).
TEST(BenchCliTest, SqliteVecSideBySideWhenAnExtensionIsGiven) {
    const char* ext = std::getenv("AGENTD_SQLITE_VEC");
    if (ext == nullptr || *ext == '\0') {
        GTEST_SKIP() << "AGENTD_SQLITE_VEC not set";
    }
    for (const std::string mode : {"float32", "int8_rescore", "int8_column"}) {
        std::vector<std::string> args = {"vector", "--n",          "500",    "--dim",
                                         "16",     "--queries",    "5",      "--sqlite-vec",
                                         ext,      "--durability", "normal", "--json"};
        const bool int8 = mode != "float32";
        if (int8) {
            args.insert(args.end(), {"--int8", "--sqlite-vec-int8", mode.substr(5)});
        }
        const Cli r = run_bench(args);
        ASSERT_EQ(r.status, 0) << r.err;
        const auto j = nlohmann::json::parse(last_line(r.out));
        const auto& sv = j.at("sqlite_vec");
        EXPECT_EQ(sv.at("mode").get<std::string>(), mode);
        EXPECT_GT(sv.at("insert_per_s").get<double>(), 0);
        // Exact float32 must find every true neighbour; int8 without re-scoring may miss a few.
        EXPECT_GE(sv.at("recall_at_k").get<double>(), mode == "int8_column" ? 0.7
                                                      : int8                ? 0.9
                                                                            : 1.0);
    }
}

} // namespace
} // namespace agentd::gateway
