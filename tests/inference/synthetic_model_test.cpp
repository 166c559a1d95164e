// Every architecture x weight type on synthetic models against the float64 reference forward
// pass (reference_forward.h): several sequences of different lengths prefilled in one batch,
// then decoded together (greedy) with a new sequence joining mid-way; logits within a per-type
// tolerance and greedy tokens identical wherever the reference's top-2 margin exceeds it.
// Variants cover GQA and MHA, biases, q/k norms, RoPE layouts and scalings, tied embeddings,
// chunked passes, an F16 KV cache, embeddings and the error paths of Engine::step.
#include "agentd/inference/engine.h"
#include "agentd/inference/errc.h"
#include "agentd/inference/model.h"
#include "agentd/test/env.h"

#include "reference_forward.h"
#include "synthetic_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

namespace agentd::inference {
namespace {

using test::ReferenceForward;
using test::SynthSpec;

struct Case {
    std::string name;
    SynthSpec spec;
    double tol; // max |logit - reference| allowed
    int max_batch_tokens = 512;
    TensorType kv_type = TensorType::f32;
};

/// Model files live in one directory per test process, removed at exit.
const std::filesystem::path& temp_dir() {
    struct Dir {
        std::filesystem::path path = test::make_temp_dir("synthetic_models");
        ~Dir() {
            std::error_code ec;
            std::filesystem::remove_all(path, ec);
        }
    };
    static const Dir dir;
    return dir.path;
}

struct Seq {
    SeqId id;
    std::vector<TokenId> tokens;           // prompt + generated
    std::map<int, std::vector<float>> out; // logits by position
    std::size_t prompt_len = 0;
};

std::vector<TokenId> random_tokens(std::mt19937& rng, int n, int vocab) {
    std::uniform_int_distribution<int> dist(3, vocab - 1);
    std::vector<TokenId> t(static_cast<std::size_t>(n));
    for (auto& x : t) {
        x = dist(rng);
    }
    return t;
}

TokenId argmax(std::span<const float> v) {
    return static_cast<TokenId>(std::max_element(v.begin(), v.end()) - v.begin());
}

/// Runs the batched scenario and checks it against the reference.
void run_case(const Case& c) {
    AGENTD_REQUIRE_SHARED(vocab, "models/stories260K.gguf");
    SynthSpec spec = c.spec;
    spec.vocab = vocab;
    spec.n_vocab = 512;
    const auto path = temp_dir() / (c.name + ".gguf");
    const auto weights = test::write_synthetic_model(spec, path);
    ReferenceForward ref(spec, weights);

    auto model = Model::load(path);
    ASSERT_TRUE(model) << model.error().what();
    EngineOptions opt;
    opt.n_threads = 2;
    opt.max_batch_tokens = c.max_batch_tokens;
    opt.kv_type = c.kv_type;
    opt.kv_tokens = 1024;
    auto engine = Engine::create(*model, opt);
    ASSERT_TRUE(engine) << engine.error().what();
    Engine& e = **engine;

    std::mt19937 rng(spec.seed + 100);
    std::vector<Seq> seqs;
    for (int n : {5, 17, 33}) {
        auto prompt = random_tokens(rng, n, spec.n_vocab);
        seqs.push_back({static_cast<SeqId>(seqs.size() + 10), prompt, {}, prompt.size()});
        ASSERT_TRUE(e.add_sequence(seqs.back().id));
    }
    // 1. All prompts in one batch, logits for every position.
    {
        std::vector<BatchEntry> batch;
        for (auto& s : seqs) {
            batch.push_back({s.id, s.tokens, -1, OutputKind::logits_all});
        }
        auto out = e.step(batch);
        ASSERT_TRUE(out) << out.error().what();
        for (std::size_t i = 0; i < seqs.size(); ++i) {
            for (int p = 0; p < out->logit_rows[i].count; ++p) {
                const auto row = out->logits_row(out->logit_rows[i].first_row + p);
                seqs[i].out[p].assign(row.begin(), row.end());
            }
        }
    }
    // 2. Greedy decoding of all sequences together; a fourth joins at step 3 (its prompt in the
    //    same batch as the others' single tokens).
    for (int step = 0; step < 6; ++step) {
        if (step == 3) {
            auto prompt = random_tokens(rng, 9, spec.n_vocab);
            seqs.push_back({99, prompt, {}, prompt.size()});
            ASSERT_TRUE(e.add_sequence(99));
        }
        std::vector<BatchEntry> batch;
        std::vector<TokenId> next(seqs.size());
        for (std::size_t i = 0; i < seqs.size(); ++i) {
            auto& s = seqs[i];
            if (s.out.empty()) {
                batch.push_back({s.id, s.tokens, 0, OutputKind::logits_last});
                continue;
            }
            next[i] = argmax(s.out.rbegin()->second);
            s.tokens.push_back(next[i]);
            batch.push_back({s.id, std::span(&s.tokens.back(), 1), -1, OutputKind::logits_last});
        }
        auto out = e.step(batch);
        ASSERT_TRUE(out) << out.error().what();
        for (std::size_t i = 0; i < seqs.size(); ++i) {
            const auto row = out->logits_row(out->logit_rows[i].first_row);
            seqs[i].out[static_cast<int>(seqs[i].tokens.size()) - 1].assign(row.begin(), row.end());
        }
    }
    // 3. Compare every recorded position with the reference. Errors are relative to the RMS of
    //    the reference logits at that position (tied embeddings give larger logits).
    double worst = 0.0;
    double worst_rms = 0.0;
    for (const auto& s : seqs) {
        ASSERT_EQ(*e.sequence_length(s.id), static_cast<std::int32_t>(s.tokens.size()));
        const auto want = ref.logits(std::vector<int>(s.tokens.begin(), s.tokens.end()));
        for (const auto& [p, got] : s.out) {
            const auto& w = want[static_cast<std::size_t>(p)];
            double scale = 0.0;
            double err2 = 0.0;
            double err = 0.0;
            for (std::size_t v = 0; v < w.size(); ++v) {
                scale += w[v] * w[v];
                err2 += (got[v] - w[v]) * (got[v] - w[v]);
                err = std::max(err, std::fabs(got[v] - w[v]));
            }
            scale = std::sqrt(scale / static_cast<double>(w.size()));
            worst = std::max(worst, err / scale);
            worst_rms =
                std::max(worst_rms, std::sqrt(err2 / static_cast<double>(w.size())) / scale);
            // Greedy agreement: the engine's choice at p (the next token, when it was generated)
            // is the reference's argmax unless the reference's top two are within the tolerance.
            if (static_cast<std::size_t>(p) + 1 < s.tokens.size() &&
                static_cast<std::size_t>(p) + 1 >= s.prompt_len) {
                const TokenId chosen = s.tokens[static_cast<std::size_t>(p) + 1];
                const auto best = std::max_element(w.begin(), w.end()) - w.begin();
                if (chosen != best) {
                    EXPECT_LT(w[static_cast<std::size_t>(best)] -
                                  w[static_cast<std::size_t>(chosen)],
                              c.tol * scale)
                        << c.name << ": sequence " << s.id << " position " << p;
                }
            }
        }
    }
    EXPECT_LE(worst, c.tol) << c.name;
    EXPECT_LE(worst_rms, c.tol / 5) << c.name;
    ::testing::Test::RecordProperty("max_rel_diff", std::to_string(worst));
    ::testing::Test::RecordProperty("max_rel_rms_diff", std::to_string(worst_rms));
    for (const auto& s : seqs) {
        EXPECT_TRUE(e.remove_sequence(s.id));
    }
    EXPECT_EQ(e.kv_stats().free_blocks, e.kv_stats().total_blocks);
}

SynthSpec spec_for(const std::string& arch, TensorType type, std::uint32_t seed) {
    SynthSpec s;
    s.arch = arch;
    s.type = type;
    s.embd_type = type;
    s.output_type = type;
    s.seed = seed;
    return s;
}

/// Largest error relative to the RMS of the reference logits. F32 agrees to rounding; the other
/// types round the activations before each product (as llama.cpp does), and a value that lands
/// on the other side of a rounding boundary than in the reference moves the logits a little.
double tolerance_for(TensorType t) {
    switch (t) {
    case TensorType::f32:
        return 1e-4;
    case TensorType::f16:
        return 1e-2;
    case TensorType::bf16:
        return 4e-2;
    default:
        return 0.12;
    }
}

std::vector<Case> matrix() {
    std::vector<Case> out;
    std::uint32_t seed = 1;
    for (const char* arch : {"llama", "qwen2", "qwen3"}) {
        for (TensorType t : {TensorType::f32, TensorType::f16, TensorType::bf16, TensorType::q8_0,
                             TensorType::q4_0, TensorType::q4_k, TensorType::q6_k}) {
            Case c;
            c.name = std::string(arch) + "_" + std::string(type_traits(t).name);
            c.spec = spec_for(arch, t, seed++);
            c.tol = tolerance_for(t);
            out.push_back(c);
        }
    }
    return out;
}

class SyntheticMatrix : public ::testing::TestWithParam<Case> {};

TEST_P(SyntheticMatrix, MatchesFloat64Reference) {
    run_case(GetParam());
}

INSTANTIATE_TEST_SUITE_P(ArchByType, SyntheticMatrix, ::testing::ValuesIn(matrix()),
                         [](const auto& param_info) { return param_info.param.name; });

std::vector<Case> variants() {
    std::vector<Case> out;
    auto add = [&](std::string name, SynthSpec s, double tol) {
        Case c;
        c.name = std::move(name);
        c.spec = std::move(s);
        c.tol = tol;
        out.push_back(c);
        return &out.back();
    };
    {
        auto s = spec_for("llama", TensorType::f32, 101);
        s.n_head_kv = 4; // multi-head (no grouping)
        add("mha", s, 1e-4);
    }
    {
        auto s = spec_for("llama", TensorType::f32, 102);
        s.n_head = 8;
        s.n_head_kv = 1; // one KV head for 8 query heads
        s.head_dim = 32;
        add("gqa8", s, 1e-4);
    }
    {
        auto s = spec_for("qwen3", TensorType::f32, 103);
        s.head_dim = 128; // head size independent of n_embd / n_head
        add("qwen3_wide_heads", s, 1e-4);
    }
    {
        auto s = spec_for("llama", TensorType::q8_0, 104);
        s.tied = true;
        s.embd_type = TensorType::q6_k;
        add("tied_q6k_embeddings", s, 0.12);
    }
    {
        auto s = spec_for("llama", TensorType::q4_k, 105);
        s.output_type = TensorType::q6_k; // a Q4_K_M-like mix
        add("q4k_with_q6k_output", s, 0.12);
    }
    {
        auto s = spec_for("llama", TensorType::f32, 106);
        s.rope_scaling = "linear";
        s.rope_factor = 4.0f;
        add("rope_linear", s, 1e-4);
    }
    {
        auto s = spec_for("qwen2", TensorType::f32, 107);
        s.rope_scaling = "yarn";
        s.rope_factor = 4.0f;
        add("rope_yarn", s, 1e-4);
    }
    {
        auto s = spec_for("llama", TensorType::f32, 108);
        s.rope_scaling = "llama3-tensor";
        s.rope_base = 500000.0f;
        add("rope_llama3_freqs", s, 1e-4);
    }
    {
        auto s = spec_for("llama", TensorType::f16, 109);
        add("chunked_passes", s, 1e-2)->max_batch_tokens = 7;
    }
    {
        auto s = spec_for("qwen2", TensorType::f32, 110);
        auto* c = add("f16_kv_cache", s, 1e-2);
        c->kv_type = TensorType::f16;
    }
    return out;
}

class SyntheticVariants : public ::testing::TestWithParam<Case> {};

TEST_P(SyntheticVariants, MatchesFloat64Reference) {
    run_case(GetParam());
}

INSTANTIATE_TEST_SUITE_P(Features, SyntheticVariants, ::testing::ValuesIn(variants()),
                         [](const auto& param_info) { return param_info.param.name; });

/// A small F32 model and its engine for the API tests below.
struct Fixture {
    SynthSpec spec;
    test::SynthWeights weights;
    std::unique_ptr<Engine> engine;
};

Fixture make_fixture(const std::string& name, EngineOptions opt = {}) {
    Fixture f;
    const auto vocab = test::shared_file("models/stories260K.gguf");
    if (!vocab) {
        return f;
    }
    f.spec = spec_for("llama", TensorType::f32, 7);
    f.spec.vocab = *vocab;
    const auto path = temp_dir() / (name + ".gguf");
    f.weights = test::write_synthetic_model(f.spec, path);
    auto model = Model::load(path);
    if (!model) {
        ADD_FAILURE() << model.error().what();
        return f;
    }
    opt.n_threads = 2;
    auto engine = Engine::create(*model, opt);
    if (!engine) {
        ADD_FAILURE() << engine.error().what();
        return f;
    }
    f.engine = std::move(*engine);
    return f;
}

TEST(SyntheticEngine, EmbeddingsMeanAndLastMatchTheReference) {
    AGENTD_REQUIRE_SHARED(vocab, "models/stories260K.gguf");
    EngineOptions opt;
    opt.max_batch_tokens = 8; // the mean spans several passes
    auto f = make_fixture("embeddings", opt);
    ASSERT_TRUE(f.engine);
    ReferenceForward ref(f.spec, f.weights);
    const std::vector<TokenId> tokens = {1, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51};
    ASSERT_TRUE(f.engine->add_sequence(1));
    ASSERT_TRUE(f.engine->add_sequence(2));
    const BatchEntry batch[] = {{1, tokens, -1, OutputKind::embedding_mean},
                                {2, tokens, -1, OutputKind::embedding_last}};
    auto out = f.engine->step(batch);
    ASSERT_TRUE(out) << out.error().what();
    const auto h = ref.hidden(std::vector<int>(tokens.begin(), tokens.end()));
    for (int d = 0; d < f.spec.n_embd; ++d) {
        double mean = 0;
        for (const auto& row : h) {
            mean += row[static_cast<std::size_t>(d)];
        }
        mean /= static_cast<double>(h.size());
        EXPECT_NEAR(out->embeddings[static_cast<std::size_t>(d)], mean, 1e-3);
        EXPECT_NEAR(out->embeddings[static_cast<std::size_t>(f.spec.n_embd + d)],
                    h.back()[static_cast<std::size_t>(d)], 1e-3);
    }
}

TEST(SyntheticEngine, ForkedSequencesShareThePrefixAndDiverge) {
    AGENTD_REQUIRE_SHARED(vocab, "models/stories260K.gguf");
    auto f = make_fixture("fork");
    ASSERT_TRUE(f.engine);
    ReferenceForward ref(f.spec, f.weights);
    Engine& e = *f.engine;
    std::vector<TokenId> a = {1,  10, 11, 12, 13, 14, 15, 16, 17, 18,
                              19, 20, 21, 22, 23, 24, 25, 26, 27, 28};
    ASSERT_TRUE(e.add_sequence(1));
    BatchEntry first{1, a, -1, OutputKind::none};
    ASSERT_TRUE(e.step(std::span(&first, 1)));
    // Fork after 18 tokens (inside the second block), then both continue differently.
    ASSERT_TRUE(e.fork_sequence(1, 2, 18));
    std::vector<TokenId> b(a.begin(), a.begin() + 18);
    b.push_back(300);
    b.push_back(301);
    const TokenId next_a = 200;
    a.push_back(next_a);
    const BatchEntry batch[] = {{1, std::span(&a.back(), 1), -1, OutputKind::logits_last},
                                {2, std::span(b).subspan(18), -1, OutputKind::logits_last}};
    auto out = e.step(batch);
    ASSERT_TRUE(out) << out.error().what();
    const auto ra = ref.logits(std::vector<int>(a.begin(), a.end())).back();
    const auto rb = ref.logits(std::vector<int>(b.begin(), b.end())).back();
    const auto la = out->logits_row(out->logit_rows[0].first_row);
    const auto lb = out->logits_row(out->logit_rows[1].first_row);
    for (std::size_t v = 0; v < ra.size(); ++v) {
        ASSERT_NEAR(la[v], ra[v], 2e-3);
        ASSERT_NEAR(lb[v], rb[v], 2e-3);
    }
    // Rewinding sequence 1 and rewriting gives the same logits as the first time.
    BatchEntry redo{1, std::span(&a.back(), 1), static_cast<std::int32_t>(a.size() - 1),
                    OutputKind::logits_last};
    auto again = e.step(std::span(&redo, 1));
    ASSERT_TRUE(again);
    for (std::size_t v = 0; v < ra.size(); ++v) {
        ASSERT_NEAR(again->logits_row(0)[v], ra[v], 2e-3);
    }
}

TEST(SyntheticEngine, BadBatchesAreErrorsAndChangeNothing) {
    AGENTD_REQUIRE_SHARED(vocab, "models/stories260K.gguf");
    EngineOptions opt;
    opt.n_ctx = 64;
    opt.kv_tokens = 64;
    auto f = make_fixture("errors", opt);
    ASSERT_TRUE(f.engine);
    Engine& e = *f.engine;
    ASSERT_TRUE(e.add_sequence(1));
    const std::vector<TokenId> ok = {1, 2, 3};
    const std::vector<TokenId> bad = {1, 512};
    auto code = [&](std::span<const BatchEntry> b) { return e.step(b).error().code; };
    EXPECT_EQ(code(std::vector<BatchEntry>{}), make_error_code(errc::invalid_argument));
    const BatchEntry unknown{7, ok};
    EXPECT_EQ(code(std::span(&unknown, 1)), make_error_code(errc::invalid_argument));
    const BatchEntry out_of_vocab{1, bad};
    EXPECT_EQ(code(std::span(&out_of_vocab, 1)), make_error_code(errc::invalid_argument));
    const BatchEntry gap{1, ok, 5};
    EXPECT_EQ(code(std::span(&gap, 1)), make_error_code(errc::invalid_argument));
    const std::vector<TokenId> long_prompt(65, 5);
    const BatchEntry too_long{1, long_prompt};
    EXPECT_EQ(code(std::span(&too_long, 1)), make_error_code(errc::invalid_argument));
    const BatchEntry twice[] = {{1, ok}, {1, ok}};
    EXPECT_EQ(code(twice), make_error_code(errc::invalid_argument));
    // Four sequences of 16 fill the 64-token pool; a fifth does not fit.
    const std::vector<TokenId> sixteen(16, 9);
    std::vector<BatchEntry> fill;
    for (SeqId s = 1; s <= 4; ++s) {
        if (s > 1) {
            ASSERT_TRUE(e.add_sequence(s));
        }
        fill.push_back({s, sixteen, -1, OutputKind::none});
    }
    ASSERT_TRUE(e.step(fill));
    ASSERT_TRUE(e.add_sequence(5));
    const BatchEntry fifth{5, ok};
    EXPECT_EQ(code(std::span(&fifth, 1)), make_error_code(errc::kv_cache_full));
    EXPECT_EQ(*e.sequence_length(5), 0);
    EXPECT_EQ(*e.sequence_length(1), 16);
    EXPECT_EQ(e.kv_stats().free_blocks, 0);
    EXPECT_FALSE(e.sequence_length(42));
}

} // namespace
} // namespace agentd::inference
