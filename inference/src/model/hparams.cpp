#include "model/hparams.h"

#include "agentd/inference/errc.h"
#include "agentd/inference/gguf.h"

#include <cmath>
#include <limits>

namespace agentd::inference::model {
namespace {

using base::Error;
using base::Result;

/// Reads a u32-like key that may also be stored as a per-layer array with equal entries.
Result<std::optional<std::int32_t>> read_count(const GgufFile& f, const std::string& key) {
    const GgufValue* v = f.find(key);
    if (v == nullptr) {
        return std::optional<std::int32_t>{};
    }
    std::int64_t value = 0;
    if (v->is_array()) {
        auto all = v->as_vector<std::int64_t>();
        if (!all || all->empty()) {
            return base::fail(errc::invalid_model, key + ": expected an integer or integer array");
        }
        for (std::int64_t x : *all) {
            if (x != all->front()) {
                return base::fail(errc::unsupported,
                                  key + ": layers with different values are not supported");
            }
        }
        value = all->front();
    } else {
        auto x = v->as<std::int64_t>();
        if (!x) {
            return base::fail(errc::invalid_model, key + ": " + x.error().what());
        }
        value = *x;
    }
    if (value < 0 || value > std::numeric_limits<std::int32_t>::max()) {
        return base::fail(errc::invalid_model,
                          key + ": value " + std::to_string(value) + " out of range");
    }
    return std::optional<std::int32_t>(static_cast<std::int32_t>(value));
}

Result<std::int32_t> require_count(const GgufFile& f, const std::string& key) {
    auto v = read_count(f, key);
    if (!v) {
        return v.error();
    }
    if (!*v || **v <= 0) {
        return base::fail(errc::invalid_model, "missing or zero metadata key " + key);
    }
    return **v;
}

Result<float> read_float(const GgufFile& f, const std::string& key, float fallback) {
    auto v = f.get_optional<float>(key);
    if (!v) {
        return v.error();
    }
    const float x = v->value_or(fallback);
    if (!std::isfinite(x)) {
        return base::fail(errc::invalid_model, key + ": not a finite number");
    }
    return x;
}

/// llama3-style frequency divisors (Hugging Face's `rope_type: llama3`), for files that carry
/// the parameters instead of a rope_freqs tensor.
std::vector<float> llama3_factors(int n_dims, float base, float factor, float low, float high,
                                  float old_ctx) {
    std::vector<float> out(static_cast<std::size_t>(n_dims / 2));
    const float low_wavelen = old_ctx / low;
    const float high_wavelen = old_ctx / high;
    for (int i = 0; i < n_dims / 2; ++i) {
        const float freq =
            std::pow(base, -2.0f * static_cast<float>(i) / static_cast<float>(n_dims));
        const float wavelen = 2.0f * static_cast<float>(M_PI) / freq;
        float ff = 1.0f;
        if (wavelen > low_wavelen) {
            ff = factor;
        } else if (wavelen >= high_wavelen && high != low) {
            const float smooth = (old_ctx / wavelen - low) / (high - low);
            ff = 1.0f / ((1.0f - smooth) / factor + smooth);
        }
        out[static_cast<std::size_t>(i)] = ff;
    }
    return out;
}

Result<void> read_rope(const GgufFile& f, const std::string& a, HParams& hp) {
    auto dims = read_count(f, a + ".rope.dimension_count");
    if (!dims) {
        return dims.error();
    }
    hp.rope.n_dims = dims->value_or(hp.head_dim);
    if (hp.rope.n_dims <= 0 || hp.rope.n_dims > hp.head_dim || hp.rope.n_dims % 2 != 0) {
        return base::fail(errc::invalid_model,
                          a + ".rope.dimension_count: must be even and at most the head size");
    }
    hp.rope.kind = hp.arch == Arch::llama ? backend::RopeKind::normal : backend::RopeKind::neox;
    auto base_freq = read_float(f, a + ".rope.freq_base", 10000.0f);
    if (!base_freq) {
        return base_freq.error();
    }
    if (*base_freq <= 1.0f) {
        return base::fail(errc::invalid_model, a + ".rope.freq_base: must be greater than 1");
    }
    hp.rope.freq_base = *base_freq;

    auto type = f.get_optional<std::string_view>(a + ".rope.scaling.type");
    if (!type) {
        return type.error();
    }
    const std::string scaling(type->value_or("none"));
    auto factor = read_float(f, a + ".rope.scaling.factor", 0.0f);
    if (!factor) {
        return factor.error();
    }
    float scale = *factor;
    if (scale == 0.0f) {
        auto linear = read_float(f, a + ".rope.scale_linear", 0.0f);
        if (!linear) {
            return linear.error();
        }
        scale = *linear;
    }
    if (scale < 0.0f) {
        return base::fail(errc::invalid_model, a + ".rope.scaling.factor: negative");
    }
    auto orig = read_count(f, a + ".rope.scaling.original_context_length");
    if (!orig) {
        return orig.error();
    }
    hp.rope.n_ctx_orig = orig->value_or(hp.n_ctx_train);
    auto attn_factor = read_float(f, a + ".rope.scaling.attn_factor", 1.0f);
    if (!attn_factor) {
        return attn_factor.error();
    }
    if (scaling == "none") {
        hp.rope.freq_scale = 1.0f;
    } else if (scaling == "linear") {
        hp.rope.freq_scale = scale == 0.0f ? 1.0f : 1.0f / scale;
    } else if (scaling == "yarn") {
        hp.rope.freq_scale = scale == 0.0f ? 1.0f : 1.0f / scale;
        auto ext = read_float(f, a + ".rope.scaling.yarn_ext_factor", 1.0f);
        auto beta_fast = read_float(f, a + ".rope.scaling.yarn_beta_fast", 32.0f);
        auto beta_slow = read_float(f, a + ".rope.scaling.yarn_beta_slow", 1.0f);
        auto log_mul = read_float(f, a + ".rope.scaling.yarn_log_multiplier", 0.0f);
        if (!ext || !beta_fast || !beta_slow || !log_mul) {
            return base::fail(errc::invalid_model, a + ".rope.scaling.yarn_*: not a number");
        }
        hp.rope.ext_factor = *ext;
        hp.rope.beta_fast = *beta_fast;
        hp.rope.beta_slow = *beta_slow;
        if (hp.rope.ext_factor != 0.0f) {
            // As llama.cpp: YaRN's magnitude scale, divided by the factor the rope kernel
            // applies itself when ext_factor != 0.
            const float fac = 1.0f / hp.rope.freq_scale;
            auto mscale = [](float s, float m) {
                return s <= 1.0f ? 1.0f : 0.1f * m * std::log(s) + 1.0f;
            };
            float af =
                *log_mul != 0.0f ? mscale(fac, 1.0f) / mscale(fac, *log_mul) : mscale(fac, 1.0f);
            af *= 1.0f / (1.0f + 0.1f * std::log(fac));
            hp.rope.attn_factor = af;
        }
    } else if (scaling == "llama3") {
        auto low = read_float(f, a + ".rope.scaling.low_freq_factor", 1.0f);
        auto high = read_float(f, a + ".rope.scaling.high_freq_factor", 4.0f);
        if (!low || !high || scale <= 0.0f || *low <= 0.0f || *high <= 0.0f) {
            return base::fail(
                errc::invalid_model,
                a + ".rope.scaling: llama3 scaling needs factor, low and high frequency factors");
        }
        hp.rope_factors = llama3_factors(hp.rope.n_dims, hp.rope.freq_base, scale, *low, *high,
                                         static_cast<float>(hp.rope.n_ctx_orig));
    } else {
        return base::fail(errc::unsupported, "RoPE scaling type '" + scaling +
                                                 "' is not supported (none, linear, yarn, llama3)");
    }
    hp.rope.attn_factor *= *attn_factor;
    return {};
}

} // namespace

const char* arch_name(Arch arch) noexcept {
    switch (arch) {
    case Arch::llama:
        return "llama";
    case Arch::qwen2:
        return "qwen2";
    case Arch::qwen3:
        return "qwen3";
    }
    return "?";
}

base::Result<HParams> read_hparams(const GgufFile& f) {
    auto arch = f.get<std::string_view>("general.architecture");
    if (!arch) {
        return arch.error();
    }
    HParams hp;
    hp.arch_name = std::string(*arch);
    if (hp.arch_name == "llama") {
        hp.arch = Arch::llama;
    } else if (hp.arch_name == "qwen2") {
        hp.arch = Arch::qwen2;
        hp.attn_bias = true;
    } else if (hp.arch_name == "qwen3") {
        hp.arch = Arch::qwen3;
        hp.qk_norm = true;
    } else {
        return base::fail(errc::unsupported,
                          "model architecture '" + hp.arch_name +
                              "' is not supported (supported: llama, qwen2, qwen3)");
    }
    const std::string& a = hp.arch_name;
    struct Req {
        std::int32_t* out;
        const char* key;
    };
    for (const Req& r :
         {Req{&hp.n_ctx_train, ".context_length"}, Req{&hp.n_embd, ".embedding_length"},
          Req{&hp.n_layer, ".block_count"}, Req{&hp.n_ff, ".feed_forward_length"},
          Req{&hp.n_head, ".attention.head_count"}}) {
        auto v = require_count(f, a + r.key);
        if (!v) {
            return v.error();
        }
        *r.out = *v;
    }
    auto kv = read_count(f, a + ".attention.head_count_kv");
    if (!kv) {
        return kv.error();
    }
    hp.n_head_kv = kv->value_or(hp.n_head);
    if (hp.n_head_kv <= 0 || hp.n_head % hp.n_head_kv != 0) {
        return base::fail(errc::invalid_model,
                          a + ".attention.head_count_kv must divide the head count");
    }
    auto kl = read_count(f, a + ".attention.key_length");
    auto vl = read_count(f, a + ".attention.value_length");
    if (!kl || !vl) {
        return base::fail(errc::invalid_model,
                          a + ".attention.key_length/value_length: not an integer");
    }
    if (!*kl && hp.n_embd % hp.n_head != 0) {
        return base::fail(errc::invalid_model,
                          "embedding size is not a multiple of the head count");
    }
    hp.head_dim = kl->value_or(hp.n_embd / hp.n_head);
    if (hp.head_dim <= 0 || vl->value_or(hp.head_dim) != hp.head_dim) {
        return base::fail(errc::unsupported,
                          "different key and value head sizes are not supported");
    }
    if (hp.n_layer > 1024 || hp.n_head > 1024 || hp.head_dim > 1024 || hp.n_embd > 65536) {
        return base::fail(errc::invalid_model, "implausible model dimensions");
    }
    auto eps = read_float(f, a + ".attention.layer_norm_rms_epsilon", 1e-5f);
    if (!eps) {
        return eps.error();
    }
    if (*eps <= 0.0f || *eps > 1.0f) {
        return base::fail(errc::invalid_model,
                          a + ".attention.layer_norm_rms_epsilon out of range");
    }
    hp.norm_eps = *eps;
    if (auto r = read_rope(f, a, hp); !r) {
        return r.error();
    }
    auto vocab = read_count(f, a + ".vocab_size");
    if (!vocab) {
        return vocab.error();
    }
    const GgufTensorInfo* emb = f.find_tensor("token_embd.weight");
    if (emb == nullptr) {
        return base::fail(errc::invalid_model, "tensor token_embd.weight is missing");
    }
    hp.n_vocab = vocab->value_or(static_cast<std::int32_t>(emb->ne[1]));
    if (hp.n_vocab <= 0 || hp.n_vocab != emb->ne[1]) {
        return base::fail(errc::invalid_model, "vocab_size does not match token_embd.weight");
    }
    return hp;
}

} // namespace agentd::inference::model
