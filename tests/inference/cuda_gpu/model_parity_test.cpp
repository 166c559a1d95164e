// Whole models on the CUDA backend against the CPU backend: stories260K's eight greedy
// continuations token for token (the llama.cpp recording the CPU engine reproduces), and the
// synthetic matrix (llama / qwen2 / qwen3 x every weight type, f32 and f16 KV) run as batched
// prefill plus decode steps with a sequence joining mid-way, logits compared by normalised
// error and greedy tokens compared where the CPU's top-2 margin is clear. Decode steps run as
// CUDA graphs; the same run with AGENTD_CUDA_GRAPHS=0 (op by op) must agree with them. Label
// gpu: without a CUDA device every test skips, naming the reason.
#include "agentd/inference/engine.h"
#include "agentd/inference/errc.h"
#include "agentd/inference/generate.h"
#include "agentd/inference/model.h"
#include "agentd/test/env.h"

#include "synthetic_model.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

namespace agentd::inference {
namespace {

/// Skips the test when the CUDA backend cannot start here.
#define REQUIRE_CUDA_DEVICE()                                                                      \
    do {                                                                                           \
        if (!cuda_available()) {                                                                   \
            GTEST_SKIP() << "no usable CUDA device in this build or machine: the CUDA model "      \
                            "parity tests need a GPU";                                             \
        }                                                                                          \
    } while (false)

bool cuda_available() {
    const auto backends = available_backends();
    return std::any_of(backends.begin(), backends.end(),
                       [](const BackendInfo& b) { return b.kind == BackendKind::cuda; });
}

std::unique_ptr<Engine> engine_for(const std::shared_ptr<const Model>& model, BackendKind kind,
                                   TensorType kv_type = TensorType::f32, int max_batch = 512) {
    EngineOptions o;
    o.backend = kind;
    o.n_threads = 2;
    o.kv_type = kv_type;
    o.kv_tokens = 2048;
    o.max_batch_tokens = max_batch;
    auto e = Engine::create(model, o);
    EXPECT_TRUE(e) << e.error().what();
    return e ? std::move(*e) : nullptr;
}

TEST(CudaModelParity, Stories260KGreedyContinuationsAreTheReference) {
    REQUIRE_CUDA_DEVICE();
    AGENTD_REQUIRE_SHARED(model_path, "models/stories260K.gguf");
    AGENTD_REQUIRE_SHARED(ref_path, "models/reference/stories260K.greedy.json");
    auto model = Model::load(model_path);
    ASSERT_TRUE(model) << model.error().what();
    auto gpu = engine_for(*model, BackendKind::cuda);
    ASSERT_TRUE(gpu);
    std::ifstream in(ref_path);
    const auto ref = nlohmann::json::parse(in);
    ASSERT_EQ(ref["cases"].size(), 8u);
    for (const auto& c : ref["cases"]) {
        const auto ids = gpu->tokenizer().tokenize(c["prompt"].get<std::string>());
        GenerateOptions opt;
        opt.max_tokens = c["n_predict"].get<int>();
        auto r = generate(*gpu, ids, opt);
        ASSERT_TRUE(r) << r.error().what();
        EXPECT_EQ(r->tokens, c["completion_ids"].get<std::vector<TokenId>>())
            << c["prompt"].get<std::string>();
    }
}

struct ScenarioRun {
    /// Logits per (sequence, step) of the scenario.
    std::map<std::pair<int, int>, std::vector<float>> logits;
};

/// Batched prefill of three prompts (all logits), then greedy decode steps of every sequence
/// together, a fourth sequence joining at step 3 with its prompt in the same batch. The token
/// fed at each step is the CPU's choice (`feed`), so both backends see the same inputs.
ScenarioRun scenario(Engine& e, std::uint32_t seed, std::int32_t n_vocab, const ScenarioRun* feed) {
    ScenarioRun run;
    std::mt19937 rng(seed);
    std::uniform_int_distribution<TokenId> tok(3, n_vocab - 1);
    std::vector<std::vector<TokenId>> seqs;
    auto prompt = [&](int n) {
        std::vector<TokenId> p(static_cast<std::size_t>(n));
        for (auto& t : p) {
            t = tok(rng);
        }
        return p;
    };
    for (int n : {5, 17, 33}) {
        seqs.push_back(prompt(n));
        EXPECT_TRUE(e.add_sequence(seqs.size()));
    }
    std::vector<BatchEntry> batch;
    for (std::size_t i = 0; i < seqs.size(); ++i) {
        batch.push_back({i + 1, seqs[i], -1, OutputKind::logits_last});
    }
    for (int step = 0; step < 8; ++step) {
        auto out = e.step(batch);
        EXPECT_TRUE(out) << out.error().what();
        if (!out) {
            return run;
        }
        for (std::size_t i = 0; i < batch.size(); ++i) {
            const auto row = out->logits_row(out->logit_rows[i].first_row);
            run.logits[{static_cast<int>(batch[i].seq), step}].assign(row.begin(), row.end());
        }
        if (step == 3) {
            seqs.push_back(prompt(9));
            EXPECT_TRUE(e.add_sequence(seqs.size()));
        }
        batch.clear();
        for (std::size_t i = 0; i < seqs.size(); ++i) {
            const SeqId id = i + 1;
            const auto& src = feed != nullptr ? *feed : run;
            const auto it = src.logits.find({static_cast<int>(id), step});
            if (it == src.logits.end()) { // the newcomer: its prompt
                batch.push_back({id, seqs[i], -1, OutputKind::logits_last});
                continue;
            }
            const auto& l = it->second;
            seqs[i].push_back(
                static_cast<TokenId>(std::max_element(l.begin(), l.end()) - l.begin()));
            batch.push_back({id, std::span(&seqs[i].back(), 1), -1, OutputKind::logits_last});
        }
    }
    return run;
}

/// Compares two runs: logits by normalised error, greedy choices where the margin is clear.
void compare(const ScenarioRun& cpu, const ScenarioRun& gpu, double max_nmse,
             const std::string& what) {
    ASSERT_EQ(cpu.logits.size(), gpu.logits.size()) << what;
    for (const auto& [key, c] : cpu.logits) {
        const auto& g = gpu.logits.at(key);
        ASSERT_EQ(c.size(), g.size());
        double num = 0.0;
        double den = 0.0;
        for (std::size_t i = 0; i < c.size(); ++i) {
            ASSERT_TRUE(std::isfinite(g[i])) << what;
            num += (static_cast<double>(c[i]) - g[i]) * (static_cast<double>(c[i]) - g[i]);
            den += static_cast<double>(c[i]) * c[i];
        }
        EXPECT_LT(num / std::max(den, 1e-30), max_nmse)
            << what << " sequence " << key.first << " step " << key.second;
        std::vector<float> sorted = c;
        std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<>());
        const double rms = std::sqrt(den / static_cast<double>(c.size()));
        if (sorted[0] - sorted[1] > 0.05 * rms) {
            EXPECT_EQ(std::max_element(c.begin(), c.end()) - c.begin(),
                      std::max_element(g.begin(), g.end()) - g.begin())
                << what << " sequence " << key.first << " step " << key.second;
        }
    }
}

struct MatrixCase {
    std::string arch;
    TensorType type;
};

class CudaSyntheticMatrix : public ::testing::TestWithParam<MatrixCase> {};

TEST_P(CudaSyntheticMatrix, LogitsMatchTheCpuBackend) {
    REQUIRE_CUDA_DEVICE();
    AGENTD_REQUIRE_SHARED(vocab, "models/stories260K.gguf");
    const MatrixCase& c = GetParam();
    test::SynthSpec spec;
    spec.arch = c.arch;
    spec.type = c.type;
    spec.embd_type = c.type;
    spec.output_type = c.type == TensorType::q4_k ? TensorType::q6_k : c.type;
    spec.n_embd = 256;
    spec.n_ff = 512;
    spec.n_head = 8;
    spec.n_head_kv = 2;
    spec.vocab = vocab;
    spec.keep_weights = false;
    const auto path = std::filesystem::temp_directory_path() /
                      ("agentd-cuda-" + c.arch + "-" + std::string(type_traits(c.type).name) + "-" +
                       std::to_string(::getpid()) + ".gguf");
    test::write_synthetic_model(spec, path);
    auto model = Model::load(path);
    std::filesystem::remove(path);
    ASSERT_TRUE(model) << model.error().what();
    for (TensorType kv : {TensorType::f32, TensorType::f16}) {
        auto cpu = engine_for(*model, BackendKind::cpu, kv);
        auto gpu = engine_for(*model, BackendKind::cuda, kv);
        ASSERT_TRUE(cpu && gpu);
        const ScenarioRun ref = scenario(*cpu, 5, spec.n_vocab, nullptr);
        const ScenarioRun got = scenario(*gpu, 5, spec.n_vocab, &ref);
        const double tol = c.type == TensorType::f32 ? 1e-9 : 1e-6;
        compare(ref, got, tol,
                c.arch + " " + std::string(type_traits(c.type).name) + " kv " +
                    std::string(type_traits(kv).name));
    }
}

std::vector<MatrixCase> matrix() {
    std::vector<MatrixCase> m;
    for (const char* arch : {"llama", "qwen2", "qwen3"}) {
        for (TensorType t : {TensorType::f32, TensorType::f16, TensorType::bf16, TensorType::q8_0,
                             TensorType::q4_0, TensorType::q4_k, TensorType::q6_k}) {
            m.push_back({arch, t});
        }
    }
    return m;
}

INSTANTIATE_TEST_SUITE_P(ArchByType, CudaSyntheticMatrix, ::testing::ValuesIn(matrix()),
                         [](const ::testing::TestParamInfo<MatrixCase>& p) {
                             return p.param.arch + "_" +
                                    std::string(type_traits(p.param.type).name);
                         });

TEST(CudaModelParity, DecodeGraphsAgreeWithOpByOpExecution) {
    REQUIRE_CUDA_DEVICE();
    AGENTD_REQUIRE_SHARED(vocab, "models/stories260K.gguf");
    test::SynthSpec spec;
    spec.type = TensorType::q4_k;
    spec.embd_type = TensorType::q4_k;
    spec.output_type = TensorType::q6_k;
    spec.n_embd = 256;
    spec.n_ff = 512;
    spec.vocab = vocab;
    spec.keep_weights = false;
    const auto path = std::filesystem::temp_directory_path() /
                      ("agentd-cuda-graphs-" + std::to_string(::getpid()) + ".gguf");
    test::write_synthetic_model(spec, path);
    auto model = Model::load(path);
    std::filesystem::remove(path);
    ASSERT_TRUE(model) << model.error().what();
    auto cpu = engine_for(*model, BackendKind::cpu);
    const ScenarioRun ref = scenario(*cpu, 9, spec.n_vocab, nullptr);
    auto graphs = engine_for(*model, BackendKind::cuda);
    const ScenarioRun with_graphs = scenario(*graphs, 9, spec.n_vocab, &ref);
    ::setenv("AGENTD_CUDA_GRAPHS", "0", 1);
    auto eager = engine_for(*model, BackendKind::cuda);
    ::unsetenv("AGENTD_CUDA_GRAPHS");
    const ScenarioRun op_by_op = scenario(*eager, 9, spec.n_vocab, &ref);
    compare(op_by_op, with_graphs, 1e-9, "graphs vs op by op");
    compare(ref, with_graphs, 1e-6, "graphs vs cpu");
}

TEST(CudaModelParity, DeviceSelectionErrors) {
    AGENTD_REQUIRE_SHARED(model_path, "models/stories260K.gguf");
    auto model = Model::load(model_path);
    ASSERT_TRUE(model) << model.error().what();
    EngineOptions o;
    o.backend = BackendKind::cuda;
    o.device = 999;
    auto e = Engine::create(*model, o);
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().code, make_error_code(errc::unsupported)) << e.error().what();
    EXPECT_EQ(parse_device("cuda:3")->device, 3);
    EXPECT_EQ(parse_device("cuda")->kind, BackendKind::cuda);
    EXPECT_EQ(parse_device("cpu")->kind, BackendKind::cpu);
    EXPECT_FALSE(parse_device("cuda:-1"));
    EXPECT_FALSE(parse_device("cuda:x"));
    EXPECT_FALSE(parse_device("gpu"));
    EXPECT_EQ(parse_device("auto")->kind, cuda_available() ? BackendKind::cuda : BackendKind::cpu);
    if (cuda_available()) {
        o.device = 0;
        o.kv_tokens = 0;
        o.kv_memory_fraction = 0.5f;
        auto g = Engine::create(*model, o);
        ASSERT_TRUE(g) << g.error().what();
        EXPECT_GT((*g)->kv_stats().total_blocks, 1000);
    }
}

} // namespace
} // namespace agentd::inference
