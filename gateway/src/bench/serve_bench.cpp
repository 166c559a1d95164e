// agentd bench serve: concurrent streaming chat clients against `agentd serve` on a model
// (CONTRACT.md "bench"): aggregate tokens/s, TTFT p50/p99 and inter-token latency p50/p99 at
// each stream count; with --llama-server PATH the same clients run against llama.cpp's server on
// the same file with the same number of parallel slots, and the ratios are printed.
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
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>

namespace agentd::gateway::bench {
namespace po = boost::program_options;

namespace {

struct Settings {
    std::string model;
    std::vector<int> levels;
    int prompt_words = 100;
    int gen_tokens = 64;
    int rounds = 2;
    int threads = 2;
    std::string kv_type = "f16";
    std::string llama_server;
};

struct LevelResult {
    int streams = 0;
    double tokens_per_s = 0.0;
    double ttft_p50_ms = 0.0;
    double ttft_p99_ms = 0.0;
    double itl_p50_ms = 0.0;
    double itl_p99_ms = 0.0;
    std::size_t tokens = 0;
    std::size_t errors = 0;
    std::string first_error;
};

double percentile(std::vector<double> v, double p) {
    if (v.empty()) {
        return 0.0;
    }
    std::sort(v.begin(), v.end());
    const double rank = p * static_cast<double>(v.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(rank));
    const auto hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (v[hi] - v[lo]) * (rank - static_cast<double>(lo));
}

/// Sampled at temperature 1 (seeded): a random-weight model at temperature 0 tends to repeat
/// one whitespace token, which servers hold back as layout, so tokens would not arrive one event
/// each. ignore_eos makes every request generate exactly gen_tokens tokens on both servers.
///
/// A prompt of about `words` words that no other request shares (a unique first line), so no
/// server can serve it from a prompt cache.
std::string prompt_text(int words, int unique) {
    static constexpr const char* kWords[] = {"the", "little", "cat", "ran",  "to",  "a",   "big",
                                             "red", "ball",   "in",  "park", "and", "saw", "bird"};
    std::string text = "Request " + std::to_string(unique) + ".";
    for (int i = 0; i < words; ++i) {
        text.push_back(' ');
        text += kWords[static_cast<std::size_t>(i * 7 + unique) % std::size(kWords)];
    }
    return text;
}

std::string request_body(const Settings& s, int unique) {
    return R"({"messages":[{"role":"user","content":)" +
           http::json_string(prompt_text(s.prompt_words, unique)) + R"(}],"max_tokens":)" +
           std::to_string(s.gen_tokens) + R"(,"temperature":1,"seed":)" + std::to_string(unique) +
           R"(,"stream":true,"ignore_eos":true,"cache_prompt":false})";
}

/// `streams` clients, each sending `rounds` requests one after another.
LevelResult run_clients(std::uint16_t port, const Settings& s, int streams, int* unique) {
    // One unmeasured request first (first-touch of weights, thread start-up).
    (void)stream_chat(port, request_body(s, (*unique)++), std::chrono::seconds(600));
    std::mutex mutex;
    std::vector<double> ttft;
    std::vector<double> gaps;
    LevelResult r;
    r.streams = streams;
    const int base = *unique;
    *unique += streams * s.rounds;
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < streams; ++c) {
        threads.emplace_back([&, c] {
            for (int k = 0; k < s.rounds; ++k) {
                const StreamTiming t = stream_chat(port, request_body(s, base + c * s.rounds + k),
                                                   std::chrono::seconds(600));
                std::lock_guard lock(mutex);
                if (!t.error.empty()) {
                    ++r.errors;
                    if (r.first_error.empty()) {
                        r.first_error = t.error;
                    }
                    continue;
                }
                r.tokens += static_cast<std::size_t>(s.gen_tokens); // exact: ignore_eos
                ttft.push_back(t.ttft_s);
                gaps.insert(gaps.end(), t.gaps_s.begin(), t.gaps_s.end());
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.tokens_per_s = wall > 0 ? static_cast<double>(r.tokens) / wall : 0.0;
    r.ttft_p50_ms = percentile(ttft, 0.50) * 1e3;
    r.ttft_p99_ms = percentile(ttft, 0.99) * 1e3;
    r.itl_p50_ms = percentile(gaps, 0.50) * 1e3;
    r.itl_p99_ms = percentile(gaps, 0.99) * 1e3;
    return r;
}

/// Tokens one sequence needs: the prompt plus the chat template's markup (spelled with
/// ordinary tokens when the vocabulary lacks them, hence the generous margin) and the generation.
int context_per_stream(const Settings& s, const inference::Model& model) {
    const auto ids = model.tokenizer().tokenize(prompt_text(s.prompt_words, 999999));
    return static_cast<int>(ids.size()) * 2 + 128 + s.gen_tokens;
}

LevelResult run_agentd(const Settings& s, const inference::ModelInfo& info, int context,
                       int streams, int* unique) {
    char dir_template[] = "/tmp/agentd-bench-serve-XXXXXX";
    if (::mkdtemp(dir_template) == nullptr) {
        throw std::runtime_error("cannot create a temporary directory");
    }
    const std::filesystem::path dir = dir_template;
    const double per_token =
        2.0 * info.n_layer * info.n_head_kv * info.head_dim * (s.kv_type == "f16" ? 2.0 : 4.0);
    const auto kv_mb = static_cast<long long>(
        std::ceil(per_token * context * (streams + 1) / (1024.0 * 1024.0)) + 1);
    {
        std::ofstream cfg(dir / "config.json");
        cfg << R"({"log": {"level": "warn", "access_log": false}, "engine": {"threads": )"
            << s.threads << R"(, "context": )" << context << R"(, "kv_memory_mb": )" << kv_mb
            << R"(, "kv_type": ")" << s.kv_type << R"(", "max_sequences": )" << streams
            << R"(, "token_budget": )" << std::max(512, streams) << "}}";
    }
    LevelResult r;
    {
        ChildServer server({"/proc/self/exe", "serve", "--listen", "127.0.0.1:0", "--data",
                            (dir / "data").string(), "--model", s.model, "--config",
                            (dir / "config.json").string()});
        r = run_clients(server.port(), s, streams, unique);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return r;
}

LevelResult run_llama_server(const Settings& s, int context, int streams, int* unique) {
    const std::uint16_t port = free_port();
    ChildServer server({s.llama_server, "-m", s.model, "--host", "127.0.0.1", "--port",
                        std::to_string(port), "-np", std::to_string(streams), "-c",
                        std::to_string(context * streams), "-t", std::to_string(s.threads), "-ctk",
                        s.kv_type, "-ctv", s.kv_type},
                       port);
    return run_clients(server.port(), s, streams, unique);
}

std::string result_json(const LevelResult& r) {
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  R"({"tokens_per_s":%.2f,"ttft_p50_ms":%.2f,"ttft_p99_ms":%.2f,)"
                  R"("itl_p50_ms":%.2f,"itl_p99_ms":%.2f,"tokens":%zu,"errors":%zu})",
                  r.tokens_per_s, r.ttft_p50_ms, r.ttft_p99_ms, r.itl_p50_ms, r.itl_p99_ms,
                  r.tokens, r.errors);
    return buf;
}

void print_row(const char* server, const LevelResult& r) {
    std::printf("%-13s %7d %10.1f %10.1f %10.1f %9.2f %9.2f %6zu\n", server, r.streams,
                r.tokens_per_s, r.ttft_p50_ms, r.ttft_p99_ms, r.itl_p50_ms, r.itl_p99_ms, r.errors);
    if (!r.first_error.empty()) {
        std::fprintf(stderr, "  first error: %s\n", r.first_error.c_str());
    }
    std::fflush(stdout);
}

std::vector<int> parse_levels(const std::string& text) {
    std::vector<int> levels;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        if (item.empty() || item.size() > 4 ||
            item.find_first_not_of("0123456789") != std::string::npos || std::stoi(item) == 0) {
            throw std::runtime_error("--streams: expected a list like 1,8,32 (got \"" + text +
                                     "\")");
        }
        levels.push_back(std::stoi(item));
    }
    return levels;
}

po::options_description bench_options() {
    po::options_description desc("agentd bench serve options");
    auto add = desc.add_options();
    add("help,h", "print this help");
    add("model", po::value<std::string>(), "GGUF model to serve (required)");
    add("streams", po::value<std::string>()->default_value("1,8,32"),
        "concurrent streams per level, comma-separated");
    add("prompt-words", po::value<int>()->default_value(100), "words per prompt");
    add("gen-tokens", po::value<int>()->default_value(64), "tokens generated per request");
    add("rounds", po::value<int>()->default_value(2), "requests per stream and level");
    add("threads", po::value<int>()->default_value(2), "compute threads of each server");
    add("kv-type", po::value<std::string>()->default_value("f16"), "KV cache type: f16 or f32");
    add("llama-server", po::value<std::string>(),
        "llama.cpp's llama-server binary: run the same clients against it");
    add("json", po::bool_switch(), "print one JSON object as the last line");
    return desc;
}

} // namespace

int serve_bench(const cli::Args& args) {
    const po::options_description desc = bench_options();
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(desc).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::fprintf(stderr, "agentd bench serve: %s\n", e.what());
        return 2;
    }
    if (vm.count("help") != 0 || vm.count("model") == 0) {
        std::cout << "usage: agentd bench serve --model FILE.gguf [options]\n\n" << desc;
        return vm.count("help") != 0 ? 0 : 2;
    }
    Settings s;
    s.model = std::filesystem::absolute(vm["model"].as<std::string>()).string();
    s.levels = parse_levels(vm["streams"].as<std::string>());
    s.prompt_words = std::clamp(vm["prompt-words"].as<int>(), 1, 100000);
    s.gen_tokens = std::clamp(vm["gen-tokens"].as<int>(), 2, 100000);
    s.rounds = std::clamp(vm["rounds"].as<int>(), 1, 1000);
    s.threads = std::clamp(vm["threads"].as<int>(), 1, 1024);
    s.kv_type = vm["kv-type"].as<std::string>();
    if (s.kv_type != "f16" && s.kv_type != "f32") {
        std::fputs("agentd bench serve: --kv-type must be f16 or f32\n", stderr);
        return 2;
    }
    if (vm.count("llama-server") != 0) {
        s.llama_server = vm["llama-server"].as<std::string>();
    }
    auto model = inference::Model::load(s.model).value(); // CLI: a bad file ends the command
    const int context = context_per_stream(s, *model);
    std::printf("model %s (%s, %lld parameters), ~%d prompt words, %d generated tokens, %d "
                "rounds, %d threads, KV %s\n",
                model->info().name.c_str(), model->info().weight_types.c_str(),
                static_cast<long long>(model->info().n_params), s.prompt_words, s.gen_tokens,
                s.rounds, s.threads, s.kv_type.c_str());
    std::printf("%-13s %7s %10s %10s %10s %9s %9s %6s\n", "server", "streams", "tokens/s",
                "TTFT p50", "TTFT p99", "ITL p50", "ITL p99", "errors");
    std::string levels_json;
    bool any_error = false;
    int unique = 0;
    for (const int streams : s.levels) {
        const LevelResult ours = run_agentd(s, model->info(), context, streams, &unique);
        print_row("agentd", ours);
        any_error = any_error || ours.errors > 0;
        std::string level =
            R"({"streams":)" + std::to_string(streams) + R"(,"agentd":)" + result_json(ours);
        if (!s.llama_server.empty()) {
            const LevelResult theirs = run_llama_server(s, context, streams, &unique);
            print_row("llama-server", theirs);
            any_error = any_error || theirs.errors > 0;
            const double tput =
                theirs.tokens_per_s > 0 ? ours.tokens_per_s / theirs.tokens_per_s : 0.0;
            const double ttft = ours.ttft_p99_ms > 0 ? theirs.ttft_p99_ms / ours.ttft_p99_ms : 0.0;
            std::printf("%-13s %7d %9.2fx %21s %9.2fx (TTFT p99, >1: agentd faster)\n", "ratio",
                        streams, tput, "", ttft);
            level += R"(,"llama_server":)" + result_json(theirs);
            char buf[128];
            std::snprintf(buf, sizeof buf, R"(,"throughput_ratio":%.3f,"ttft_p99_ratio":%.3f)",
                          tput, ttft);
            level += buf;
        }
        level += "}";
        levels_json += (levels_json.empty() ? "" : ",") + level;
    }
    if (vm["json"].as<bool>()) {
        std::printf(R"({"benchmark":"serve","model":%s,"prompt_words":%d,"gen_tokens":%d,)"
                    R"("rounds":%d,"threads":%d,"kv_type":"%s","levels":[%s]})"
                    "\n",
                    http::json_string(s.model).c_str(), s.prompt_words, s.gen_tokens, s.rounds,
                    s.threads, s.kv_type.c_str(), levels_json.c_str());
    }
    return any_error ? 1 : 0;
}

} // namespace agentd::gateway::bench
