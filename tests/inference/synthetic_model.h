#pragma once
// Synthetic llama-family GGUF models for tests and benchmarks: deterministic random weights of
// any shape and weight type, written with the test GGUF writer, with the tokenizer copied from a
// real vocabulary file. `write_synthetic_model` also returns the weights as the engine will see
// them (dequantised), for the float64 reference in reference_forward.h. Test code: errors throw.

#include "agentd/inference/quantize.h"
#include "agentd/test/gguf_writer.h"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace agentd::test {

struct SynthSpec {
    std::string arch = "llama"; // llama | qwen2 | qwen3
    std::int32_t n_vocab = 512; // must equal the vocabulary file's size
    std::int32_t n_embd = 256;
    std::int32_t n_layer = 2;
    std::int32_t n_head = 4;
    std::int32_t n_head_kv = 2;
    std::int32_t head_dim = 0; // 0: n_embd / n_head (written as key_length otherwise)
    std::int32_t n_ff = 512;
    std::int32_t n_ctx = 512;
    inference::TensorType type = inference::TensorType::f32; // 2-D weights
    inference::TensorType embd_type = inference::TensorType::f32;
    inference::TensorType output_type = inference::TensorType::f32;
    bool tied = false;
    float rope_base = 10000.0f;
    std::string rope_scaling = "none"; // none | linear | yarn | llama3-tensor
    float rope_factor = 1.0f;
    float norm_eps = 1e-5f;
    std::uint32_t seed = 1;
    std::filesystem::path vocab; // GGUF file whose tokenizer.* metadata is copied
    bool keep_weights = true;    // return the dequantised weights
};

/// One layer's weights as the engine sees them, row-major [rows][cols] like the GGUF tensors.
struct SynthLayer {
    std::vector<float> attn_norm, wq, wk, wv, wo, bq, bk, bv, q_norm, k_norm;
    std::vector<float> ffn_norm, gate, up, down;
};

struct SynthWeights {
    std::vector<float> tok_embd, output, output_norm; // output empty when tied
    std::vector<SynthLayer> layers;
    std::vector<float> rope_freqs; // empty unless the spec asks for a rope_freqs tensor
};

namespace synth_detail {

inline std::vector<float> random(std::mt19937& rng, std::size_t n, float scale, float mean = 0.0f) {
    std::normal_distribution<float> dist(mean, scale);
    std::vector<float> v(n);
    for (auto& x : v) {
        x = dist(rng);
    }
    return v;
}

/// Adds a tensor of `type` holding `values` ([rows][cols]); returns what the engine reads back.
inline std::vector<float> add(GgufWriter& w, const std::string& name, inference::TensorType type,
                              std::int64_t rows, std::int64_t cols,
                              const std::vector<float>& values, bool keep) {
    auto bytes = inference::quantize(type, values, cols);
    if (!bytes) {
        throw std::runtime_error("quantize " + name + ": " + bytes.error().what());
    }
    std::vector<float> back;
    if (keep) {
        back = inference::dequantize(type, *bytes, rows * cols).value();
    }
    std::vector<std::int64_t> ne = {cols};
    if (rows > 1) {
        ne.push_back(rows);
    }
    w.add_tensor(name, static_cast<std::uint32_t>(type), ne, std::move(*bytes));
    return back;
}

} // namespace synth_detail

/// Writes the model to `path` and returns its weights (when spec.keep_weights).
inline SynthWeights write_synthetic_model(const SynthSpec& s, const std::filesystem::path& path) {
    using inference::TensorType;
    using synth_detail::add;
    using synth_detail::random;
    std::mt19937 rng(s.seed);
    GgufWriter w;
    const std::string a = s.arch;
    const std::int32_t hd = s.head_dim > 0 ? s.head_dim : s.n_embd / s.n_head;
    const std::int64_t qd = static_cast<std::int64_t>(s.n_head) * hd;
    const std::int64_t kvd = static_cast<std::int64_t>(s.n_head_kv) * hd;
    w.set("general.architecture", gguf_string(a));
    w.set("general.name", gguf_string("synthetic " + a));
    w.set(a + ".context_length", gguf_u32(static_cast<std::uint32_t>(s.n_ctx)));
    w.set(a + ".embedding_length", gguf_u32(static_cast<std::uint32_t>(s.n_embd)));
    w.set(a + ".block_count", gguf_u32(static_cast<std::uint32_t>(s.n_layer)));
    w.set(a + ".feed_forward_length", gguf_u32(static_cast<std::uint32_t>(s.n_ff)));
    w.set(a + ".attention.head_count", gguf_u32(static_cast<std::uint32_t>(s.n_head)));
    w.set(a + ".attention.head_count_kv", gguf_u32(static_cast<std::uint32_t>(s.n_head_kv)));
    if (s.head_dim > 0) {
        w.set(a + ".attention.key_length", gguf_u32(static_cast<std::uint32_t>(hd)));
        w.set(a + ".attention.value_length", gguf_u32(static_cast<std::uint32_t>(hd)));
    }
    w.set(a + ".attention.layer_norm_rms_epsilon", gguf_f32(s.norm_eps));
    w.set(a + ".rope.freq_base", gguf_f32(s.rope_base));
    if (s.rope_scaling == "linear" || s.rope_scaling == "yarn") {
        w.set(a + ".rope.scaling.type", gguf_string(s.rope_scaling));
        w.set(a + ".rope.scaling.factor", gguf_f32(s.rope_factor));
        w.set(a + ".rope.scaling.original_context_length",
              gguf_u32(static_cast<std::uint32_t>(s.n_ctx / 2)));
    }
    if (!s.vocab.empty()) {
        w.copy_metadata(s.vocab, "tokenizer.");
    }

    SynthWeights out;
    const bool keep = s.keep_weights;
    const float win = 1.0f / std::sqrt(static_cast<float>(s.n_embd));
    out.tok_embd = add(w, "token_embd.weight", s.embd_type, s.n_vocab, s.n_embd,
                       random(rng, static_cast<std::size_t>(s.n_vocab) * s.n_embd, 1.0f), keep);
    out.output_norm = add(w, "output_norm.weight", TensorType::f32, 1, s.n_embd,
                          random(rng, static_cast<std::size_t>(s.n_embd), 0.1f, 1.0f), keep);
    if (!s.tied) {
        out.output = add(w, "output.weight", s.output_type, s.n_vocab, s.n_embd,
                         random(rng, static_cast<std::size_t>(s.n_vocab) * s.n_embd, win), keep);
    }
    if (s.rope_scaling == "llama3-tensor") {
        std::vector<float> f(static_cast<std::size_t>(hd / 2));
        for (std::size_t i = 0; i < f.size(); ++i) {
            f[i] = 1.0f + static_cast<float>(i) * 0.25f; // low frequencies stretched more
        }
        out.rope_freqs = add(w, "rope_freqs.weight", TensorType::f32, 1, hd / 2, f, true);
    }
    for (int l = 0; l < s.n_layer; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        SynthLayer L;
        auto mat = [&](const std::string& n, std::int64_t rows, std::int64_t cols) {
            const float scale = 1.0f / std::sqrt(static_cast<float>(cols));
            return add(w, p + n, s.type, rows, cols,
                       random(rng, static_cast<std::size_t>(rows * cols), scale), keep);
        };
        auto vec = [&](const std::string& n, std::int64_t cols, float scale, float mean) {
            return add(w, p + n, TensorType::f32, 1, cols,
                       random(rng, static_cast<std::size_t>(cols), scale, mean), keep);
        };
        L.attn_norm = vec("attn_norm.weight", s.n_embd, 0.1f, 1.0f);
        L.wq = mat("attn_q.weight", qd, s.n_embd);
        L.wk = mat("attn_k.weight", kvd, s.n_embd);
        L.wv = mat("attn_v.weight", kvd, s.n_embd);
        L.wo = mat("attn_output.weight", s.n_embd, qd);
        if (a == "qwen2") {
            L.bq = vec("attn_q.bias", qd, 0.2f, 0.0f);
            L.bk = vec("attn_k.bias", kvd, 0.2f, 0.0f);
            L.bv = vec("attn_v.bias", kvd, 0.2f, 0.0f);
        }
        if (a == "qwen3") {
            L.q_norm = vec("attn_q_norm.weight", hd, 0.1f, 1.0f);
            L.k_norm = vec("attn_k_norm.weight", hd, 0.1f, 1.0f);
        }
        L.ffn_norm = vec("ffn_norm.weight", s.n_embd, 0.1f, 1.0f);
        L.gate = mat("ffn_gate.weight", s.n_ff, s.n_embd);
        L.up = mat("ffn_up.weight", s.n_ff, s.n_embd);
        L.down = mat("ffn_down.weight", s.n_embd, s.n_ff);
        if (keep) {
            out.layers.push_back(std::move(L));
        }
    }
    w.write(path);
    return out;
}

} // namespace agentd::test
