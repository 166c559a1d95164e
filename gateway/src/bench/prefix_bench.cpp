// agentd bench prefix: what the prefix cache buys (issue 5, docs/PREFIX_CACHE.md), measured
// through `agentd serve` child processes on loopback:
//   (a) TTFT of a long shared prefix + a few new tokens, warm (cached) vs cold;
//   (b) an agent trace: sessions x turns over a shared system prompt + tool catalogue, each turn
//       appending a tool result and a user message: prefill tokens computed, hit rate and wall
//       time with the cache, without it, and (with --llama-server PATH) on llama.cpp's server
//       with its prompt cache and the same number of slots;
//   (c) throughput at a 0% hit rate (unique prompts), cache on vs off.
#include "agentd/inference/model.h"

#include "bench/benches.h"
#include "bench/serve_bench_client.h"
#include "http/text.h"

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/parsers.hpp>
#include <boost/program_options/value_semantic.hpp>
#include <boost/program_options/variables_map.hpp>

#include <unistd.h>

#include <algorithm>
#include <arpa/inet.h>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <netinet/in.h>
#include <sys/socket.h>

namespace agentd::gateway::bench {
namespace po = boost::program_options;

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kTimeout = std::chrono::seconds(1800);

struct Settings {
    std::string model;
    int threads = 2;
    std::string kv_type = "f16";
    int prefix_tokens = 2000;
    int new_tokens = 50;
    int reps = 3;
    int sessions = 16;
    int turns = 8;
    int system_tokens = 1500;
    int turn_tokens = 60; ///< tool result + user message per turn
    int gen_tokens = 8;
    int overhead_streams = 8;
    int overhead_rounds = 2;
    int overhead_tokens = 200;
    std::string parts = "a,b,c";
    std::string llama_server;
    const inference::Tokenizer* tokenizer = nullptr;
};

/// About `tokens` tokens of text starting with `tag` (sized with the model's tokenizer).
std::string text_of(const Settings& s, const std::string& tag, int tokens) {
    static constexpr const char* kWords[] = {
        "the",   "agent",  "calls",  "a",    "tool",   "with", "json",   "arguments", "and",
        "reads", "its",    "result", "then", "writes", "the",  "answer", "for",       "user",
        "file",  "search", "query",  "list", "items",  "in",   "order",  "returns",   "value"};
    auto build = [&](int words) {
        std::string text = tag;
        for (int i = 0; i < words; ++i) {
            text.push_back(' ');
            text += kWords[static_cast<std::size_t>(i * 7 + static_cast<int>(tag.size())) %
                           std::size(kWords)];
        }
        return text;
    };
    int words = tokens;
    for (int round = 0; round < 4; ++round) {
        const auto n = static_cast<int>(s.tokenizer->tokenize(build(words)).size());
        if (std::abs(n - tokens) <= 2 || n == 0) {
            break;
        }
        words = std::max(1, static_cast<int>(std::lround(words * (double(tokens) / n))));
    }
    return build(words);
}

std::string message(const char* role, const std::string& content) {
    return std::string(R"({"role":")") + role + R"(","content":)" + http::json_string(content) +
           "}";
}

std::string chat_body(const std::vector<std::string>& messages, int max_tokens) {
    std::string body = R"({"messages":[)";
    for (std::size_t i = 0; i < messages.size(); ++i) {
        body += (i == 0 ? "" : ",") + messages[i];
    }
    return body + R"(],"max_tokens":)" + std::to_string(max_tokens) +
           R"(,"temperature":0,"stream":true,"ignore_eos":true,"cache_prompt":true})";
}

/// GET http://127.0.0.1:port/path; the whole response text ("" on failure).
std::string http_get(std::uint16_t port, const std::string& path) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return {};
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string out;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        const std::string req =
            "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
            char buf[16384];
            ssize_t n = 0;
            while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0 && out.size() < (16u << 20)) {
                out.append(buf, static_cast<std::size_t>(n));
            }
        }
    }
    ::close(fd);
    return out;
}

/// A Prometheus sample's value (first line starting with `name` and a space), or 0.
double metric(const std::string& text, const std::string& name) {
    const auto at = text.find("\n" + name + " ");
    return at == std::string::npos ? 0.0 : std::atof(text.c_str() + at + name.size() + 2);
}

/// A server under test: agentd with or without the cache, or llama-server.
class Server {
public:
    enum class Kind { cached, uncached, llama };

    Server(const Settings& s, Kind kind, int slots, int context) : kind_(kind) {
        if (kind == Kind::llama) {
            const std::uint16_t port = free_port();
            child_ = std::make_unique<ChildServer>(
                std::vector<std::string>{
                    s.llama_server, "-m", s.model, "--host", "127.0.0.1", "--port",
                    std::to_string(port), "-np", std::to_string(slots), "-c",
                    std::to_string(context * slots), "-t", std::to_string(s.threads), "-ctk",
                    s.kv_type, "-ctv", s.kv_type, "--metrics"},
                port);
            return;
        }
        char dir_template[] = "/tmp/agentd-bench-prefix-XXXXXX";
        if (::mkdtemp(dir_template) == nullptr) {
            throw std::runtime_error("cannot create a temporary directory");
        }
        dir_ = dir_template;
        {
            std::ofstream cfg(dir_ / "config.json");
            // KV for every slot's context, plus as much again for cached prefixes.
            cfg << R"({"log": {"level": "warn", "access_log": false}, "engine": {"threads": )"
                << s.threads << R"(, "context": )" << context << R"(, "kv_memory_mb": )"
                << kv_mb(s, context * slots * 2) << R"(, "kv_type": ")" << s.kv_type
                << R"(", "max_sequences": )" << slots << R"(, "token_budget": )"
                << std::max(512, slots) << "}}";
        }
        std::vector<std::string> argv = {"/proc/self/exe", "serve",
                                         "--listen",       "127.0.0.1:0",
                                         "--data",         (dir_ / "data").string(),
                                         "--model",        s.model,
                                         "--config",       (dir_ / "config.json").string()};
        if (kind == Kind::uncached) {
            argv.emplace_back("--no-prefix-cache");
        }
        child_ = std::make_unique<ChildServer>(std::move(argv));
    }
    ~Server() {
        child_.reset();
        if (!dir_.empty()) {
            std::error_code ec;
            std::filesystem::remove_all(dir_, ec);
        }
    }
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    [[nodiscard]] std::uint16_t port() const { return child_->port(); }

    /// Prompt tokens computed (prefill) so far.
    [[nodiscard]] double computed_tokens() const {
        const auto m = http_get(port(), "/metrics");
        return kind_ == Kind::llama ? metric(m, "llamacpp:prompt_tokens_total")
                                    : metric(m, "agentd_prompt_tokens_total");
    }
    /// (looked-up tokens, hit tokens) of agentd's cache.
    [[nodiscard]] std::pair<double, double> cache_tokens() const {
        const auto m = http_get(port(), "/metrics");
        return {metric(m, "agentd_prefix_cache_lookup_tokens"),
                metric(m, "agentd_prefix_cache_hit_tokens")};
    }

private:
    long long kv_mb(const Settings& s, long long tokens) const {
        auto model = inference::Model::load(s.model).value();
        const auto& info = model->info();
        const double per_token =
            2.0 * info.n_layer * info.n_head_kv * info.head_dim * (s.kv_type == "f16" ? 2.0 : 4.0);
        return static_cast<long long>(std::ceil(per_token * tokens / (1024.0 * 1024.0))) + 1;
    }

    Kind kind_;
    std::filesystem::path dir_;
    std::unique_ptr<ChildServer> child_;
};

const char* kind_name(Server::Kind k) {
    return k == Server::Kind::cached     ? "agentd"
           : k == Server::Kind::uncached ? "agentd-nocache"
                                         : "llama-server";
}

StreamTiming must(StreamTiming t) {
    if (!t.error.empty()) {
        throw std::runtime_error("request failed: " + t.error);
    }
    return t;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

struct TtftResult {
    double cold_ms = 0.0;
    double warm_ms = 0.0;
};

/// (a) A fresh prefix each repetition (cold), then the same prefix with other new tokens (warm).
TtftResult ttft_part(const Settings& s, Server::Kind kind, int* unique) {
    const int context = s.prefix_tokens + s.new_tokens + 256 + s.gen_tokens;
    Server server(s, kind, 1, context);
    (void)must(stream_chat(server.port(), chat_body({message("user", "warm up")}, 2), kTimeout));
    std::vector<double> cold;
    std::vector<double> warm;
    for (int r = 0; r < s.reps; ++r) {
        const int id = (*unique)++;
        const std::string prefix =
            text_of(s, "Document " + std::to_string(id) + ":", s.prefix_tokens);
        auto ask = [&](int k) {
            const std::string tail =
                text_of(s, "Question " + std::to_string(k) + ":", s.new_tokens);
            return must(stream_chat(server.port(),
                                    chat_body({message("system", prefix), message("user", tail)},
                                              s.gen_tokens),
                                    kTimeout))
                .ttft_s;
        };
        cold.push_back(ask(2 * id) * 1e3);
        warm.push_back(ask(2 * id + 1) * 1e3);
    }
    return {median(cold), median(warm)};
}

struct TraceResult {
    double wall_s = 0.0;
    double computed_tokens = 0.0; ///< prefill tokens the server computed
    double lookup_tokens = 0.0;   ///< agentd with the cache: prompt tokens looked up
    double hit_tokens = 0.0;
};

/// (b) The agent trace: every session runs its turns one after another, all sessions at once.
TraceResult trace_part(const Settings& s, Server::Kind kind) {
    const int context = s.system_tokens + s.turns * (s.turn_tokens + s.gen_tokens + 64) + 512;
    Server server(s, kind, s.sessions, context);
    (void)must(stream_chat(server.port(), chat_body({message("user", "warm up")}, 2), kTimeout));
    const double computed0 = server.computed_tokens();
    const auto cache0 = server.cache_tokens();
    const std::string system = text_of(
        s, "You are an agent. Tools: search(query), read_file(path), run(code).", s.system_tokens);
    std::mutex mutex;
    std::string error;
    const auto t0 = Clock::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < s.sessions; ++c) {
        threads.emplace_back([&, c] {
            std::vector<std::string> messages = {message("system", system)};
            messages.push_back(message(
                "user", text_of(s, "Session " + std::to_string(c) + " task:", s.turn_tokens)));
            for (int t = 0; t < s.turns; ++t) {
                const auto r =
                    stream_chat(server.port(), chat_body(messages, s.gen_tokens), kTimeout);
                if (!r.error.empty()) {
                    std::lock_guard lock(mutex);
                    error = r.error;
                    return;
                }
                // The assistant's tool call, the tool's result and the next user message.
                messages.push_back(message("assistant", "call search step " + std::to_string(t)));
                messages.push_back(message(
                    "user",
                    text_of(s, "Tool result " + std::to_string(c) + "." + std::to_string(t) + ":",
                            s.turn_tokens)));
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    if (!error.empty()) {
        throw std::runtime_error(std::string(kind_name(kind)) + " trace: " + error);
    }
    TraceResult r;
    r.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
    r.computed_tokens = server.computed_tokens() - computed0;
    const auto cache1 = server.cache_tokens();
    r.lookup_tokens = cache1.first - cache0.first;
    r.hit_tokens = cache1.second - cache0.second;
    return r;
}

/// (c) Unique prompts (nothing to hit): generated tokens per second.
double overhead_part(const Settings& s, Server::Kind kind, int* unique) {
    const int context = s.overhead_tokens + 256 + s.gen_tokens * 4;
    Server server(s, kind, s.overhead_streams, context);
    (void)must(stream_chat(server.port(), chat_body({message("user", "warm up")}, 2), kTimeout));
    const int base = *unique;
    *unique += s.overhead_streams * s.overhead_rounds;
    std::mutex mutex;
    std::string error;
    const int gen = s.gen_tokens * 4;
    const auto t0 = Clock::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < s.overhead_streams; ++c) {
        threads.emplace_back([&, c] {
            for (int k = 0; k < s.overhead_rounds; ++k) {
                // The unique tag comes first, so not even one block is shared.
                const std::string prompt =
                    text_of(s, std::to_string(base + c * s.overhead_rounds + k) + " unique:",
                            s.overhead_tokens);
                const auto r =
                    stream_chat(server.port(), chat_body({message("user", prompt)}, gen), kTimeout);
                if (!r.error.empty()) {
                    std::lock_guard lock(mutex);
                    error = r.error;
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    if (!error.empty()) {
        throw std::runtime_error(error);
    }
    const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    return static_cast<double>(s.overhead_streams * s.overhead_rounds * gen) / wall;
}

po::options_description bench_options() {
    po::options_description desc("agentd bench prefix options");
    auto add = desc.add_options();
    add("help,h", "print this help");
    add("model", po::value<std::string>(), "GGUF model to serve (required)");
    add("parts", po::value<std::string>()->default_value("a,b,c"),
        "which parts: a (TTFT warm vs cold), b (agent trace), c (0% hit overhead)");
    add("prefix-tokens", po::value<int>()->default_value(2000), "(a) shared prefix tokens");
    add("new-tokens", po::value<int>()->default_value(50), "(a) new tokens after the prefix");
    add("reps", po::value<int>()->default_value(3), "(a) cold/warm pairs (median reported)");
    add("sessions", po::value<int>()->default_value(16), "(b) concurrent agent sessions");
    add("turns", po::value<int>()->default_value(8), "(b) turns per session");
    add("system-tokens", po::value<int>()->default_value(1500),
        "(b) shared system prompt + tool catalogue tokens");
    add("turn-tokens", po::value<int>()->default_value(60),
        "(b) tool result + user message tokens per turn");
    add("gen-tokens", po::value<int>()->default_value(8), "tokens generated per request");
    add("streams", po::value<int>()->default_value(8), "(c) concurrent streams");
    add("rounds", po::value<int>()->default_value(2), "(c) requests per stream");
    add("prompt-tokens", po::value<int>()->default_value(200), "(c) tokens per unique prompt");
    add("threads", po::value<int>()->default_value(2), "compute threads of each server");
    add("kv-type", po::value<std::string>()->default_value("f16"), "KV cache type: f16 or f32");
    add("llama-server", po::value<std::string>(),
        "llama.cpp's llama-server binary: run (a) and (b) against it too");
    add("json", po::bool_switch(), "print one JSON object as the last line");
    return desc;
}

Settings parse_settings(const po::variables_map& vm) {
    Settings s;
    s.model = std::filesystem::absolute(vm["model"].as<std::string>()).string();
    s.parts = vm["parts"].as<std::string>();
    s.prefix_tokens = std::clamp(vm["prefix-tokens"].as<int>(), 16, 1 << 20);
    s.new_tokens = std::clamp(vm["new-tokens"].as<int>(), 1, 1 << 20);
    s.reps = std::clamp(vm["reps"].as<int>(), 1, 1000);
    s.sessions = std::clamp(vm["sessions"].as<int>(), 1, 1024);
    s.turns = std::clamp(vm["turns"].as<int>(), 1, 1000);
    s.system_tokens = std::clamp(vm["system-tokens"].as<int>(), 1, 1 << 20);
    s.turn_tokens = std::clamp(vm["turn-tokens"].as<int>(), 1, 1 << 20);
    s.gen_tokens = std::clamp(vm["gen-tokens"].as<int>(), 1, 100000);
    s.overhead_streams = std::clamp(vm["streams"].as<int>(), 1, 1024);
    s.overhead_rounds = std::clamp(vm["rounds"].as<int>(), 1, 1000);
    s.overhead_tokens = std::clamp(vm["prompt-tokens"].as<int>(), 1, 1 << 20);
    s.threads = std::clamp(vm["threads"].as<int>(), 1, 1024);
    s.kv_type = vm["kv-type"].as<std::string>();
    if (s.kv_type != "f16" && s.kv_type != "f32") {
        throw std::runtime_error("--kv-type must be f16 or f32");
    }
    if (vm.count("llama-server") != 0) {
        s.llama_server = vm["llama-server"].as<std::string>();
    }
    return s;
}

std::string num(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
}

/// A token count, written whole (num() would round 249984 to 2.5e+05).
std::string count(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
}

/// (a): prints the rows and appends its JSON member to `json`.
void report_ttft(const Settings& s, int* unique, std::string& json) {
    std::printf("(a) TTFT, %d-token shared prefix + %d new tokens (median of %d)\n",
                s.prefix_tokens, s.new_tokens, s.reps);
    const TtftResult ours = ttft_part(s, Server::Kind::cached, unique);
    std::printf("  agentd        cold %9.1f ms  warm %9.1f ms  warm/cold %6.2f%%\n", ours.cold_ms,
                ours.warm_ms, 100.0 * ours.warm_ms / ours.cold_ms);
    std::fflush(stdout);
    json += R"(,"ttft":{"cold_ms":)" + num(ours.cold_ms) + R"(,"warm_ms":)" + num(ours.warm_ms) +
            R"(,"warm_over_cold":)" + num(ours.warm_ms / ours.cold_ms);
    if (!s.llama_server.empty()) {
        const TtftResult theirs = ttft_part(s, Server::Kind::llama, unique);
        std::printf("  llama-server  cold %9.1f ms  warm %9.1f ms  warm/cold %6.2f%%\n",
                    theirs.cold_ms, theirs.warm_ms, 100.0 * theirs.warm_ms / theirs.cold_ms);
        std::fflush(stdout);
        json += R"(,"llama_cold_ms":)" + num(theirs.cold_ms) + R"(,"llama_warm_ms":)" +
                num(theirs.warm_ms);
    }
    json += "}";
    // The flat keys of CONTRACT.md (the nested object above has the rest).
    json += R"(,"cold_ttft_ms":)" + num(ours.cold_ms) + R"(,"warm_ttft_ms":)" + num(ours.warm_ms);
}

/// (b): prints the rows and appends its JSON member to `json`.
void report_trace(const Settings& s, std::string& json) {
    std::printf("(b) agent trace: %d sessions x %d turns, %d-token shared system prompt, "
                "+%d tokens per turn\n",
                s.sessions, s.turns, s.system_tokens, s.turn_tokens);
    std::fflush(stdout);
    std::vector<Server::Kind> kinds = {Server::Kind::cached, Server::Kind::uncached};
    if (!s.llama_server.empty()) {
        kinds.push_back(Server::Kind::llama);
    }
    json += R"(,"trace":{)";
    double cached_wall = 0.0;
    std::string flat; // the flat keys of CONTRACT.md, from the cached run
    for (std::size_t i = 0; i < kinds.size(); ++i) {
        const bool cached = kinds[i] == Server::Kind::cached;
        const TraceResult r = trace_part(s, kinds[i]);
        const double hit = r.lookup_tokens > 0 ? r.hit_tokens / r.lookup_tokens : 0.0;
        if (cached) {
            cached_wall = r.wall_s;
            flat = R"(,"trace_prompt_tokens":)" + count(r.lookup_tokens) +
                   R"(,"trace_computed_tokens":)" + count(r.computed_tokens) +
                   R"(,"trace_wall_s":)" + num(r.wall_s);
        }
        std::printf("  %-14s wall %8.2f s  prefill computed %9.0f tokens", kind_name(kinds[i]),
                    r.wall_s, r.computed_tokens);
        if (cached) {
            std::printf("  hit rate %5.1f%% (%0.f of %0.f prompt tokens)", 100.0 * hit,
                        r.hit_tokens, r.lookup_tokens);
        } else if (cached_wall > 0) {
            std::printf("  agentd %.2fx faster", r.wall_s / cached_wall);
        }
        std::printf("\n");
        std::fflush(stdout);
        json += std::string(i == 0 ? "" : ",") + "\"" + kind_name(kinds[i]) + R"(":{"wall_s":)" +
                num(r.wall_s) + R"(,"prefill_tokens":)" + num(r.computed_tokens) +
                (cached ? R"(,"hit_rate":)" + num(hit) : "") + "}";
    }
    json += "}" + flat;
}

/// (c): prints the row and appends its JSON member to `json`.
void report_overhead(const Settings& s, int* unique, std::string& json) {
    std::printf("(c) 0%% hit rate: %d streams x %d unique %d-token prompts, %d tokens each\n",
                s.overhead_streams, s.overhead_rounds, s.overhead_tokens, s.gen_tokens * 4);
    std::fflush(stdout);
    const double off = overhead_part(s, Server::Kind::uncached, unique);
    const double on = overhead_part(s, Server::Kind::cached, unique);
    std::printf("  cache off %8.1f tokens/s  cache on %8.1f tokens/s  loss %5.2f%%\n", off, on,
                100.0 * (1.0 - on / off));
    json += R"(,"overhead":{"off_tokens_per_s":)" + num(off) + R"(,"on_tokens_per_s":)" + num(on) +
            R"(,"loss":)" + num(1.0 - on / off) + "}";
}

} // namespace

int prefix_bench(const cli::Args& args) {
    const po::options_description desc = bench_options();
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(desc).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::fprintf(stderr, "agentd bench prefix: %s\n", e.what());
        return 2;
    }
    if (vm.count("help") != 0 || vm.count("model") == 0) {
        std::cout << "usage: agentd bench prefix --model FILE.gguf [options]\n\n" << desc;
        return vm.count("help") != 0 ? 0 : 2;
    }
    Settings s = parse_settings(vm);
    auto model = inference::Model::load(s.model).value(); // CLI: a bad file ends the command
    s.tokenizer = &model->tokenizer();
    std::printf("model %s (%s, %lld parameters), %d threads, KV %s\n", model->info().name.c_str(),
                model->info().weight_types.c_str(), static_cast<long long>(model->info().n_params),
                s.threads, s.kv_type.c_str());
    std::fflush(stdout);
    std::string json = R"({"benchmark":"prefix","model":)" + http::json_string(s.model);
    int unique = 0;
    if (s.parts.find('a') != std::string::npos) {
        report_ttft(s, &unique, json);
    }
    if (s.parts.find('b') != std::string::npos) {
        report_trace(s, json);
    }
    if (s.parts.find('c') != std::string::npos) {
        report_overhead(s, &unique, json);
    }
    if (vm["json"].as<bool>()) {
        std::printf("%s}\n", json.c_str());
    }
    return 0;
}

} // namespace agentd::gateway::bench
