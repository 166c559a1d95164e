// The engine against llama.cpp's recorded outputs (../shared/models/reference, see its README):
// stories260K greedy continuations token for token and its logits, and the synth-tiny
// F16 / Q8_0 / Q4_0 logits, each within the README's tolerance.
#include "agentd/inference/engine.h"
#include "agentd/inference/generate.h"
#include "agentd/inference/model.h"
#include "agentd/test/env.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>

namespace agentd::inference {
namespace {

nlohmann::json read_json(const std::filesystem::path& p) {
    std::ifstream in(p);
    return nlohmann::json::parse(in);
}

std::unique_ptr<Engine> make_engine(const std::filesystem::path& model_path,
                                    TensorType kv_type = TensorType::f32) {
    auto model = Model::load(model_path);
    EXPECT_TRUE(model) << model.error().what();
    if (!model) {
        return nullptr;
    }
    EngineOptions opt;
    opt.n_threads = 2;
    opt.kv_type = kv_type;
    auto engine = Engine::create(*model, opt);
    EXPECT_TRUE(engine) << engine.error().what();
    return engine ? std::move(*engine) : nullptr;
}

std::vector<float> last_logits(Engine& engine, const std::vector<TokenId>& ids) {
    const SeqId seq = 1;
    EXPECT_TRUE(engine.add_sequence(seq));
    BatchEntry e{seq, ids, 0, OutputKind::logits_last};
    auto out = engine.step(std::span(&e, 1));
    EXPECT_TRUE(out) << out.error().what();
    std::vector<float> logits(out->logits_row(0).begin(), out->logits_row(0).end());
    engine.remove_sequence(seq);
    return logits;
}

/// Checks our logits against a recorded top-20 list: each value within tol, same argmax, and our
/// own top 20 equal to theirs up to swaps between values closer than tol.
void expect_top20(const std::vector<float>& ours, const nlohmann::json& top20, double tol,
                  const std::string& what) {
    double max_diff = 0;
    for (const auto& pair : top20) {
        const int id = pair[0].get<int>();
        const double want = pair[1].get<double>();
        max_diff = std::max(max_diff, std::fabs(ours[static_cast<std::size_t>(id)] - want));
        EXPECT_NEAR(ours[static_cast<std::size_t>(id)], want, tol) << what << " id " << id;
    }
    std::vector<int> idx(ours.size());
    for (std::size_t i = 0; i < idx.size(); ++i) {
        idx[i] = static_cast<int>(i);
    }
    std::partial_sort(idx.begin(), idx.begin() + 20, idx.end(), [&](int a, int b) {
        return ours[static_cast<std::size_t>(a)] > ours[static_cast<std::size_t>(b)];
    });
    const double twentieth = top20[19][1].get<double>();
    for (int i = 0; i < 20; ++i) {
        const int id = idx[static_cast<std::size_t>(i)];
        const bool listed = std::any_of(top20.begin(), top20.end(), [&](const auto& p) {
            return p[0].template get<int>() == id;
        });
        if (!listed) {
            // Only a near-tie with the last listed value may enter our top 20.
            EXPECT_NEAR(ours[static_cast<std::size_t>(id)], twentieth, 2 * tol)
                << what << ": id " << id << " in our top 20 but not in the reference";
        }
    }
    ::testing::Test::RecordProperty(what + "_max_abs_diff", std::to_string(max_diff));
}

TEST(LlamaReference, Stories260KGreedyContinuationsMatchTokenForToken) {
    AGENTD_REQUIRE_SHARED(model_path, "models/stories260K.gguf");
    AGENTD_REQUIRE_SHARED(ref_path, "models/reference/stories260K.greedy.json");
    auto engine = make_engine(model_path);
    ASSERT_TRUE(engine);
    const auto ref = read_json(ref_path);
    ASSERT_EQ(ref["cases"].size(), 8u);
    for (const auto& c : ref["cases"]) {
        const std::string prompt = c["prompt"];
        const auto ids = engine->tokenizer().tokenize(prompt);
        ASSERT_EQ(ids, c["prompt_ids"].get<std::vector<TokenId>>()) << prompt;
        GenerateOptions opt;
        opt.max_tokens = c["n_predict"].get<int>();
        auto r = generate(*engine, ids, opt);
        ASSERT_TRUE(r) << r.error().what();
        EXPECT_EQ(r->tokens, c["completion_ids"].get<std::vector<TokenId>>()) << prompt;
        // The continuation's text as streamed after the prompt (no leading-space removal).
        StreamDecoder decoder(engine->tokenizer());
        std::string text;
        for (TokenId t : r->tokens) {
            text += decoder.push(t);
        }
        text += decoder.flush();
        EXPECT_EQ(text, c["completion_text"].get<std::string>()) << prompt;
    }
}

TEST(LlamaReference, Stories260KLogitsMatchTheF32KvVariant) {
    AGENTD_REQUIRE_SHARED(model_path, "models/stories260K.gguf");
    AGENTD_REQUIRE_SHARED(ref_path, "models/reference/stories260K.logits.json");
    auto engine = make_engine(model_path);
    ASSERT_TRUE(engine);
    const auto ref = read_json(ref_path); // a temporary's member would not outlive the loop
    for (const auto& c : ref["cases"]) {
        const auto logits = last_logits(*engine, c["prompt_ids"].get<std::vector<TokenId>>());
        EXPECT_EQ(std::max_element(logits.begin(), logits.end()) - logits.begin(),
                  c["argmax"].get<int>());
        expect_top20(logits, c["top20_logits_kv_f32_noflash"], 1e-3,
                     c["prompt"].get<std::string>());
        expect_top20(logits, c["top20_logits"], 0.02, c["prompt"].get<std::string>() + " (f16 kv)");
    }
}

TEST(LlamaReference, Stories260KWithF16KvCacheMatchesTheDefaultVariant) {
    AGENTD_REQUIRE_SHARED(model_path, "models/stories260K.gguf");
    AGENTD_REQUIRE_SHARED(ref_path, "models/reference/stories260K.logits.json");
    auto engine = make_engine(model_path, TensorType::f16);
    ASSERT_TRUE(engine);
    const auto ref = read_json(ref_path); // a temporary's member would not outlive the loop
    for (const auto& c : ref["cases"]) {
        const auto logits = last_logits(*engine, c["prompt_ids"].get<std::vector<TokenId>>());
        expect_top20(logits, c["top20_logits"], 0.02, c["prompt"].get<std::string>());
    }
}

TEST(LlamaReference, SynthTinyLogitsPerWeightType) {
    AGENTD_REQUIRE_SHARED(ref_path, "models/reference/synth-tiny.json");
    const auto ref = read_json(ref_path);
    for (const auto& [file, entry] : ref["models"].items()) {
        AGENTD_REQUIRE_SHARED(model_path, "models/" + file);
        const double tol = file.find("f16") != std::string::npos ? 0.01 : 0.1;
        auto engine = make_engine(model_path);
        ASSERT_TRUE(engine);
        for (const auto& c : entry["cases"]) {
            const auto ids = c["prompt_ids"].get<std::vector<TokenId>>();
            EXPECT_EQ(engine->tokenizer().tokenize(c["prompt"].get<std::string>()), ids);
            const auto logits = last_logits(*engine, ids);
            const std::string what = file + ": " + c["prompt"].get<std::string>();
            expect_top20(logits, c["top20_logits"], tol, what);
            if (c["margin_top1_top2"].get<double>() > 2 * tol) {
                EXPECT_EQ(std::max_element(logits.begin(), logits.end()) - logits.begin(),
                          c["argmax"].get<int>())
                    << what;
            }
        }
    }
}

} // namespace
} // namespace agentd::inference
