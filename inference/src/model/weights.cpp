#include "model/weights.h"

#include "agentd/inference/errc.h"
#include "agentd/inference/gguf.h"

#include <cstdint>
#include <cstring>

namespace agentd::inference::model {
namespace {

using base::Result;

struct Expect {
    std::int64_t cols; // ne[0]
    std::int64_t rows; // ne[1] (1 for vectors)
    bool float_only;   // norms and biases are f32
};

Result<TensorRef> find(const GgufFile& f, const std::string& name, Expect e, bool required) {
    const GgufTensorInfo* t = f.find_tensor(name);
    if (t == nullptr) {
        if (required) {
            return base::fail(errc::invalid_model, "tensor " + name + " is missing");
        }
        return TensorRef{};
    }
    if (t->ne[2] != 1 || t->ne[3] != 1 || t->ne[0] != e.cols || t->ne[1] != e.rows) {
        return base::fail(errc::invalid_model,
                          "tensor " + name + " has shape [" + std::to_string(t->ne[0]) + ", " +
                              std::to_string(t->ne[1]) + ", " + std::to_string(t->ne[2]) + ", " +
                              std::to_string(t->ne[3]) + "], expected [" + std::to_string(e.cols) +
                              ", " + std::to_string(e.rows) + "]");
    }
    const auto type = tensor_type_from_id(static_cast<std::uint32_t>(t->type));
    if (!type || *type == TensorType::i32) {
        return base::fail(errc::unsupported, "tensor " + name + " has type " +
                                                 std::string(ggml_type_name(t->type)) +
                                                 ", which the engine does not support");
    }
    if (e.float_only && *type != TensorType::f32) {
        return base::fail(errc::unsupported, "tensor " + name + " must be f32, not " +
                                                 std::string(ggml_type_name(t->type)));
    }
    TensorRef r;
    r.offset = static_cast<std::uint64_t>(t->data.data() - f.bytes().data());
    r.type = *type;
    r.rows = e.rows;
    r.cols = e.cols;
    r.present = true;
    return r;
}

} // namespace

base::Result<WeightRefs> find_weights(const GgufFile& f, const HParams& hp) {
    WeightRefs w;
    const std::int64_t d = hp.n_embd;
    const std::int64_t q = static_cast<std::int64_t>(hp.n_head) * hp.head_dim;
    const std::int64_t kv = static_cast<std::int64_t>(hp.n_head_kv) * hp.head_dim;
    // Collect the first error through a small helper so each line stays one tensor.
    base::Error error;
    auto need = [&](TensorRef& out, const std::string& name, Expect e, bool required) {
        if (!error.code) {
            auto r = find(f, name, e, required);
            if (r) {
                out = *r;
            } else {
                error = r.error();
            }
        }
    };
    need(w.tok_embd, "token_embd.weight", {d, hp.n_vocab, false}, true);
    need(w.output_norm, "output_norm.weight", {d, 1, true}, true);
    need(w.output, "output.weight", {d, hp.n_vocab, false}, false);
    w.layers.resize(static_cast<std::size_t>(hp.n_layer));
    for (int i = 0; i < hp.n_layer && !error.code; ++i) {
        const std::string p = "blk." + std::to_string(i) + ".";
        LayerRefs& l = w.layers[static_cast<std::size_t>(i)];
        need(l.attn_norm, p + "attn_norm.weight", {d, 1, true}, true);
        need(l.wq, p + "attn_q.weight", {d, q, false}, true);
        need(l.wk, p + "attn_k.weight", {d, kv, false}, true);
        need(l.wv, p + "attn_v.weight", {d, kv, false}, true);
        need(l.wo, p + "attn_output.weight", {q, d, false}, true);
        need(l.bq, p + "attn_q.bias", {q, 1, true}, hp.attn_bias);
        need(l.bk, p + "attn_k.bias", {kv, 1, true}, hp.attn_bias);
        need(l.bv, p + "attn_v.bias", {kv, 1, true}, hp.attn_bias);
        need(l.bo, p + "attn_output.bias", {d, 1, true}, false);
        need(l.q_norm, p + "attn_q_norm.weight", {hp.head_dim, 1, true}, hp.qk_norm);
        need(l.k_norm, p + "attn_k_norm.weight", {hp.head_dim, 1, true}, hp.qk_norm);
        need(l.ffn_norm, p + "ffn_norm.weight", {d, 1, true}, true);
        need(l.w_gate, p + "ffn_gate.weight", {d, hp.n_ff, false}, true);
        need(l.w_up, p + "ffn_up.weight", {d, hp.n_ff, false}, true);
        need(l.w_down, p + "ffn_down.weight", {hp.n_ff, d, false}, true);
    }
    TensorRef freqs;
    need(freqs, "rope_freqs.weight", {hp.rope.n_dims / 2, 1, true}, false);
    if (error.code) {
        return error;
    }
    if (freqs.present) {
        w.rope_factors.resize(static_cast<std::size_t>(freqs.cols));
        std::memcpy(w.rope_factors.data(), f.bytes().data() + freqs.offset,
                    w.rope_factors.size() * sizeof(float));
        for (float x : w.rope_factors) {
            if (!(x > 0.0f)) {
                return base::fail(errc::invalid_model,
                                  "rope_freqs.weight holds a non-positive factor");
            }
        }
    }
    return w;
}

base::Result<Weights> bind_weights(const WeightRefs& refs, std::uint8_t* image,
                                   const backend::Backend& be) {
    std::string unsupported;
    std::string misaligned;
    const std::size_t align = be.weight_alignment();
    auto bind = [&](const TensorRef& r, bool matmul) {
        if (!r.present) {
            return backend::Tensor{};
        }
        if (matmul && unsupported.empty() && !be.supports(backend::Op::matmul, r.type)) {
            unsupported = type_traits(r.type).name;
        }
        if (misaligned.empty() && reinterpret_cast<std::uintptr_t>(image + r.offset) % align != 0) {
            misaligned = std::to_string(r.offset);
        }
        return backend::Tensor::contiguous(image + r.offset, r.type, r.rows, r.cols);
    };
    Weights w;
    w.tok_embd = bind(refs.tok_embd, !refs.output.present);
    w.output_norm = bind(refs.output_norm, false);
    w.output = refs.output.present ? bind(refs.output, true) : w.tok_embd;
    for (const LayerRefs& l : refs.layers) {
        LayerWeights b;
        b.attn_norm = bind(l.attn_norm, false);
        b.wq = bind(l.wq, true);
        b.wk = bind(l.wk, true);
        b.wv = bind(l.wv, true);
        b.wo = bind(l.wo, true);
        b.bq = bind(l.bq, false);
        b.bk = bind(l.bk, false);
        b.bv = bind(l.bv, false);
        b.bo = bind(l.bo, false);
        b.q_norm = bind(l.q_norm, false);
        b.k_norm = bind(l.k_norm, false);
        b.ffn_norm = bind(l.ffn_norm, false);
        b.w_gate = bind(l.w_gate, true);
        b.w_up = bind(l.w_up, true);
        b.w_down = bind(l.w_down, true);
        w.layers.push_back(b);
    }
    if (!misaligned.empty()) {
        return base::fail(errc::unsupported, "the " + std::string(be.name()) + " backend needs " +
                                                 std::to_string(align) +
                                                 "-byte aligned tensors; one starts at offset " +
                                                 misaligned + " (general.alignment too small)");
    }
    if (!unsupported.empty()) {
        return base::fail(errc::unsupported, "the " + std::string(be.name()) +
                                                 " backend has no matrix kernel for " +
                                                 unsupported);
    }
    return w;
}

} // namespace agentd::inference::model
