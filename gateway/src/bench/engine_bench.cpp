// agentd bench engine --model F [--device auto|cpu|cuda:N] [--threads 2] [--prompt-tokens 512]
//                     [--gen-tokens 128] [--reps 3] [--kv-type f32|f16] [--llama-bench PATH]
//                     [--json]
//
// Prefill: one step of --prompt-tokens random tokens into an empty sequence. Decode: --gen-tokens
// single-token steps from an empty sequence. These are llama-bench's pp/tg conventions, so the
// side-by-side run (--llama-bench) measures the same work on the same file. Each figure is the
// mean of --reps runs after one warm-up. Also reported: peak RSS, the memory read bandwidth
// measured here (a buffer larger than the last-level cache, same thread count), and decode as a
// fraction of the roofline bandwidth / bytes of weights read per token. On a GPU (--device cuda:N)
// the roofline uses the device's peak memory bandwidth from its attributes, and llama-bench runs
// with every layer offloaded (-ngl 99) so a CUDA build of llama.cpp measures the same device.

#include "agentd/inference/backend_info.h"
#include "agentd/inference/engine.h"
#include "agentd/inference/gguf.h"
#include "agentd/inference/model.h"

#include "bench/benches.h"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <immintrin.h>
#include <spawn.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <vector>

extern char** environ;

namespace agentd::gateway::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kUsage =
    "usage: agentd bench engine --model FILE.gguf [--device auto|cpu|cuda:N] [--threads N]\n"
    "                           [--prompt-tokens N] [--gen-tokens N] [--reps N]\n"
    "                           [--kv-type f32|f16] [--llama-bench PATH] [--json]\n";

struct Options {
    std::string model;
    inference::DeviceChoice device{inference::BackendKind::cpu, 0};
    int threads = 2;
    int prompt = 512;
    int gen = 128;
    int reps = 3;
    inference::TensorType kv_type = inference::TensorType::f32;
    std::string llama_bench;
    bool json = false;
};

int to_int(const std::string& flag, const std::string& v) {
    int x = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
    if (ec != std::errc() || p != v.data() + v.size() || x <= 0) {
        throw std::invalid_argument(flag + " needs a positive number");
    }
    return x;
}

Options parse(const cli::Args& args) {
    Options o;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--json") {
            o.json = true;
            continue;
        }
        if (a == "--help") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        }
        if (i + 1 >= args.size()) {
            throw std::invalid_argument(a + " needs a value");
        }
        const std::string& v = args[++i];
        if (a == "--model" || a == "-m") {
            o.model = v;
        } else if (a == "--device") {
            const auto d = inference::parse_device(v);
            if (!d) {
                throw std::invalid_argument("--device is auto, cpu, cuda or cuda:N");
            }
            o.device = *d;
        } else if (a == "--threads" || a == "-t") {
            o.threads = to_int(a, v);
        } else if (a == "--prompt-tokens" || a == "-p") {
            o.prompt = to_int(a, v);
        } else if (a == "--gen-tokens" || a == "-n") {
            o.gen = to_int(a, v);
        } else if (a == "--reps" || a == "-r") {
            o.reps = to_int(a, v);
        } else if (a == "--kv-type") {
            const auto t = inference::tensor_type_from_name(v);
            if (!t || (*t != inference::TensorType::f32 && *t != inference::TensorType::f16)) {
                throw std::invalid_argument("--kv-type is f32 or f16");
            }
            o.kv_type = *t;
        } else if (a == "--llama-bench") {
            o.llama_bench = v;
        } else {
            throw std::invalid_argument("unexpected argument '" + a + "'");
        }
    }
    if (o.model.empty()) {
        throw std::invalid_argument("--model is required");
    }
    return o;
}

double seconds(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// ---- memory bandwidth ----

__attribute__((target("avx2"))) double read_avx2(const float* p, std::size_t n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (std::size_t i = 0; i + 32 <= n; i += 32) {
        a0 = _mm256_add_ps(a0, _mm256_load_ps(p + i));
        a1 = _mm256_add_ps(a1, _mm256_load_ps(p + i + 8));
        a2 = _mm256_add_ps(a2, _mm256_load_ps(p + i + 16));
        a3 = _mm256_add_ps(a3, _mm256_load_ps(p + i + 24));
    }
    alignas(32) float out[8];
    _mm256_store_ps(out, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    double s = 0;
    for (float v : out) {
        s += v;
    }
    return s;
}

double read_plain(const float* p, std::size_t n) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (std::size_t i = 0; i + 4 <= n; i += 4) {
        s0 += p[i];
        s1 += p[i + 1];
        s2 += p[i + 2];
        s3 += p[i + 3];
    }
    return s0 + s1 + s2 + s3;
}

/// Read bandwidth in GB/s with `threads` threads over a 1 GiB buffer (several times any
/// last-level cache), best of a few passes.
double measure_bandwidth(int threads) {
    constexpr std::size_t kBytes = std::size_t{1} << 30;
    const std::size_t n = kBytes / sizeof(float);
    std::unique_ptr<float, decltype(&std::free)> buf(
        static_cast<float*>(std::aligned_alloc(64, kBytes)), &std::free);
    if (!buf) {
        return 0.0;
    }
    std::memset(buf.get(), 0, kBytes);
    const bool avx2 = __builtin_cpu_supports("avx2");
    double best = 0.0;
    double sink = 0.0;
    for (int pass = 0; pass < 4; ++pass) {
        std::vector<double> sums(static_cast<std::size_t>(threads));
        const auto t0 = Clock::now();
        std::vector<std::thread> ts;
        const std::size_t per = n / static_cast<std::size_t>(threads) / 32 * 32;
        for (int t = 0; t < threads; ++t) {
            ts.emplace_back([&, t] {
                const float* p = buf.get() + per * static_cast<std::size_t>(t);
                sums[static_cast<std::size_t>(t)] = avx2 ? read_avx2(p, per) : read_plain(p, per);
            });
        }
        for (auto& t : ts) {
            t.join();
        }
        const double s = seconds(t0);
        for (double v : sums) {
            sink += v;
        }
        best = std::max(best, static_cast<double>(per * threads * sizeof(float)) / s / 1e9);
    }
    return sink == 12345.0 ? best + 1e-9 : best; // keeps the sums alive
}

/// Bytes of weights read for one decoded token: every matrix of every layer, the output matrix
/// (the token embedding when tied) and the norms; one row of an untied token embedding.
std::uint64_t weight_bytes_per_token(const inference::GgufFile& f) {
    std::uint64_t bytes = 0;
    const bool tied = f.find_tensor("output.weight") == nullptr;
    for (const auto& t : f.tensors()) {
        if (t.name == "token_embd.weight" && !tied) {
            bytes += t.row_bytes;
        } else {
            bytes += t.n_bytes;
        }
    }
    return bytes;
}

struct Result {
    double prefill = 0.0;
    double decode = 0.0;
};

Result run_engine(inference::Engine& e, const Options& o) {
    std::mt19937 rng(1234);
    const auto n_vocab = static_cast<int>(e.info().n_vocab);
    std::uniform_int_distribution<int> dist(3, n_vocab - 1);
    std::vector<inference::TokenId> prompt(static_cast<std::size_t>(o.prompt));
    for (auto& t : prompt) {
        t = dist(rng);
    }
    const inference::SeqId seq = 1;
    auto prefill_once = [&](std::span<const inference::TokenId> toks) {
        e.add_sequence(seq).value();
        const inference::BatchEntry b{seq, toks, -1, inference::OutputKind::logits_last};
        const auto t0 = Clock::now();
        e.step(std::span(&b, 1)).value();
        const double s = seconds(t0);
        e.remove_sequence(seq);
        return s;
    };
    auto decode_once = [&](int n) {
        e.add_sequence(seq).value();
        inference::TokenId tok = 1;
        const auto t0 = Clock::now();
        for (int i = 0; i < n; ++i) {
            const inference::BatchEntry b{seq, std::span(&tok, 1), -1,
                                          inference::OutputKind::logits_last};
            const auto out = e.step(std::span(&b, 1)).value();
            const auto row = out.logits_row(0);
            tok = static_cast<inference::TokenId>(std::max_element(row.begin(), row.end()) -
                                                  row.begin());
        }
        const double s = seconds(t0);
        e.remove_sequence(seq);
        return s;
    };
    // Warm-up: faults the weights in, grows scratch buffers, wakes the pool.
    prefill_once(std::span(prompt).first(std::min<std::size_t>(prompt.size(), 64)));
    decode_once(4);
    double pp = 0.0;
    double tg = 0.0;
    for (int r = 0; r < o.reps; ++r) {
        pp += prefill_once(prompt);
        tg += decode_once(o.gen);
    }
    return {o.prompt * o.reps / pp, o.gen * o.reps / tg};
}

/// Runs `argv` (no shell: the model path is passed as is) and returns what it printed on
/// stdout; its stderr goes to /dev/null.
std::string run_capture(const std::vector<std::string>& argv) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe: " + std::string(std::strerror(errno)));
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    pid_t pid = 0;
    const int rc = ::posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(fds[1]);
    if (rc != 0) {
        ::close(fds[0]);
        throw std::runtime_error("cannot run " + argv[0] + ": " + std::strerror(rc));
    }
    std::string out;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n > 0) {
            out.append(buf, static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
            break;
        }
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        throw std::runtime_error(
            argv[0] + (WIFEXITED(status) ? " exited with " + std::to_string(WEXITSTATUS(status))
                                         : " was killed by a signal"));
    }
    return out;
}

/// Runs llama.cpp's llama-bench on the same file and returns its pp / tg tokens per second.
Result run_llama_bench(const Options& o) {
    std::vector<std::string> argv{o.llama_bench,
                                  "-m",
                                  o.model,
                                  "-t",
                                  std::to_string(o.threads),
                                  "-p",
                                  std::to_string(o.prompt),
                                  "-n",
                                  std::to_string(o.gen),
                                  "-r",
                                  std::to_string(o.reps),
                                  "-o",
                                  "json"};
    if (o.device.kind == inference::BackendKind::cuda) {
        // Every layer on the GPU, that GPU only.
        argv.insert(argv.end(),
                    {"-ngl", "99", "-mg", std::to_string(o.device.device), "-sm", "none"});
    }
    const std::string out = run_capture(argv);
    const auto j = nlohmann::json::parse(out, nullptr, false);
    if (j.is_discarded() || !j.is_array()) {
        throw std::runtime_error("llama-bench printed no JSON (is the path right?)");
    }
    Result r;
    for (const auto& t : j) {
        if (t.value("n_prompt", 0) > 0 && t.value("n_gen", 0) == 0) {
            r.prefill = t.value("avg_ts", 0.0);
        } else if (t.value("n_gen", 0) > 0 && t.value("n_prompt", 0) == 0) {
            r.decode = t.value("avg_ts", 0.0);
        }
    }
    return r;
}

} // namespace

int engine_bench(const cli::Args& args) {
    Options o;
    try {
        o = parse(args);
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "agentd bench engine: %s\n%s", e.what(), kUsage);
        return 2;
    }
    auto model = inference::Model::load(o.model).value();
    inference::EngineOptions eo;
    eo.backend = o.device.kind;
    eo.device = o.device.device;
    eo.n_threads = o.threads;
    eo.n_ctx = o.prompt + o.gen + 16;
    eo.kv_type = o.kv_type;
    eo.max_batch_tokens = std::max(512, o.prompt);
    auto engine = inference::Engine::create(model, eo).value();
    const Result ours = run_engine(*engine, o);

    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    const long peak_rss_kb = ru.ru_maxrss;
    double bw = 0.0;
    if (o.device.kind == inference::BackendKind::cpu) {
        bw = measure_bandwidth(o.threads);
    } else {
        for (const auto& b : inference::available_backends()) {
            if (b.kind == o.device.kind && b.device == o.device.device) {
                bw = b.memory_bandwidth_gb_s;
            }
        }
    }
    const std::uint64_t bytes = weight_bytes_per_token(model->gguf());
    const double roofline = bw > 0 ? bw * 1e9 / static_cast<double>(bytes) : 0.0;

    nlohmann::json j;
    j["model"] = o.model;
    j["model_name"] = model->info().name;
    j["weight_types"] = model->info().weight_types;
    j["n_params"] = model->info().n_params;
    j["backend"] = engine->backend_description();
    j["threads"] = o.threads;
    j["prompt_tokens"] = o.prompt;
    j["gen_tokens"] = o.gen;
    j["kv_type"] = std::string(inference::type_traits(o.kv_type).name);
    j["prefill_tokens_per_s"] = ours.prefill;
    j["decode_tokens_per_s"] = ours.decode;
    j["peak_rss_kb"] = peak_rss_kb;
    j["memory_bandwidth_gb_s"] = bw;
    j["weight_bytes_per_token"] = bytes;
    j["decode_roofline_tokens_per_s"] = roofline;
    j["decode_roofline_fraction"] = roofline > 0 ? ours.decode / roofline : 0.0;
    if (!o.llama_bench.empty()) {
        const Result ref = run_llama_bench(o);
        j["llama_cpp_prefill_tokens_per_s"] = ref.prefill;
        j["llama_cpp_decode_tokens_per_s"] = ref.decode;
        j["prefill_vs_llama_cpp"] = ref.prefill > 0 ? ours.prefill / ref.prefill : 0.0;
        j["decode_vs_llama_cpp"] = ref.decode > 0 ? ours.decode / ref.decode : 0.0;
    }
    if (!o.json) {
        std::printf("model      %s (%s, %s)\n", o.model.c_str(), model->info().weight_types.c_str(),
                    engine->backend_description().c_str());
        std::printf("prefill    %.1f tokens/s (%d-token prompt)\n", ours.prefill, o.prompt);
        std::printf("decode     %.1f tokens/s (%d tokens), %.0f%% of the %.0f tokens/s roofline "
                    "(%.1f GB/s, %.1f MB/token)\n",
                    ours.decode, o.gen, 100.0 * j["decode_roofline_fraction"].get<double>(),
                    roofline, bw, static_cast<double>(bytes) / 1e6);
        std::printf("peak RSS   %ld kB\n", peak_rss_kb);
        if (!o.llama_bench.empty()) {
            std::printf("llama.cpp  prefill %.1f tokens/s (x%.2f), decode %.1f tokens/s (x%.2f)\n",
                        j["llama_cpp_prefill_tokens_per_s"].get<double>(),
                        j["prefill_vs_llama_cpp"].get<double>(),
                        j["llama_cpp_decode_tokens_per_s"].get<double>(),
                        j["decode_vs_llama_cpp"].get<double>());
        }
    }
    if (o.json) {
        std::printf("%s\n", j.dump().c_str());
    }
    return 0;
}

} // namespace agentd::gateway::bench
