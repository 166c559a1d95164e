#include "model/forward.h"

#include "agentd/base/check.h"

#include <array>
#include <cmath>

namespace agentd::inference::model {
namespace {

using backend::Tensor;

std::size_t align_up(std::size_t v) {
    return (v + 63) & ~static_cast<std::size_t>(63);
}

} // namespace

Forward::Forward(const HParams& hp, Weights weights, backend::Backend& backend,
                 backend::KvStorage& kv, int max_tokens)
    : hp_(hp), w_(std::move(weights)), be_(backend), kv_(kv), max_tokens_(max_tokens) {
    rope_ = hp_.rope;
    rope_.freq_factors = hp_.rope_factors;
}

std::size_t Forward::scratch_bytes(const HParams& hp, int max_tokens) {
    std::size_t bytes = 0;
    for (const auto& s : scratch_shapes(hp)) {
        bytes += align_up(static_cast<std::size_t>(max_tokens) * static_cast<std::size_t>(s.cols) *
                          sizeof(float));
    }
    return bytes;
}

std::array<Forward::Shape, 11> Forward::scratch_shapes(const HParams& hp) {
    const std::int64_t qd = static_cast<std::int64_t>(hp.n_head) * hp.head_dim;
    const std::int64_t kvd = static_cast<std::int64_t>(hp.n_head_kv) * hp.head_dim;
    return {{
        {&Forward::x_, hp.n_embd},
        {&Forward::h_, hp.n_embd},
        {&Forward::q_, qd},
        {&Forward::k_, kvd},
        {&Forward::v_, kvd},
        {&Forward::attn_, qd},
        {&Forward::gate_, hp.n_ff},
        {&Forward::up_, hp.n_ff},
        {&Forward::x_sel_, hp.n_embd},
        {&Forward::attn_sel_, qd},
        {&Forward::logits_, hp.n_vocab},
    }};
}

base::Result<std::unique_ptr<Forward>> Forward::create(const HParams& hp, Weights weights,
                                                       backend::Backend& backend,
                                                       backend::KvStorage& kv, int max_tokens) {
    std::unique_ptr<Forward> f(new Forward(hp, std::move(weights), backend, kv, max_tokens));
    auto buf = backend.alloc(scratch_bytes(hp, max_tokens), false);
    if (!buf) {
        return buf.error();
    }
    f->scratch_ = std::move(*buf);
    auto* base = static_cast<std::uint8_t*>(f->scratch_->data());
    for (const auto& s : scratch_shapes(hp)) {
        (*f).*(s.t) = Tensor::contiguous(base, TensorType::f32, max_tokens, s.cols);
        base += align_up(static_cast<std::size_t>(max_tokens) * static_cast<std::size_t>(s.cols) *
                         sizeof(float));
    }
    return f;
}

void Forward::layer(int il, std::int64_t n_tok, std::int64_t n_out) {
    const LayerWeights& l = w_.layers[static_cast<std::size_t>(il)];
    const bool last = il == hp_.n_layer - 1;
    Tensor x = x_.slice_rows(0, n_tok);
    Tensor h = h_.slice_rows(0, n_tok);
    Tensor q = q_.slice_rows(0, n_tok);
    Tensor k = k_.slice_rows(0, n_tok);
    Tensor v = v_.slice_rows(0, n_tok);
    Tensor attn = attn_.slice_rows(0, n_tok);

    be_.rms_norm(x, l.attn_norm, hp_.norm_eps, h);
    const backend::MatmulOut qkv[] = {
        {&l.wq, l.bq.data != nullptr ? &l.bq : nullptr, q, false},
        {&l.wk, l.bk.data != nullptr ? &l.bk : nullptr, k, false},
        {&l.wv, l.bv.data != nullptr ? &l.bv : nullptr, v, false},
    };
    be_.matmul(h, qkv);
    if (hp_.qk_norm) {
        Tensor qh = q.reshaped(n_tok * hp_.n_head, hp_.head_dim);
        Tensor kh = k.reshaped(n_tok * hp_.n_head_kv, hp_.head_dim);
        be_.rms_norm(qh, l.q_norm, hp_.norm_eps, qh);
        be_.rms_norm(kh, l.k_norm, hp_.norm_eps, kh);
    }
    be_.rope(q, hp_.n_head, hp_.head_dim, rope_);
    be_.rope(k, hp_.n_head_kv, hp_.head_dim, rope_);
    be_.kv_write(kv_, il, k, v);
    if (last && n_out == 0) {
        return; // nothing downstream of the last layer's K/V is wanted
    }
    const backend::AttentionParams ap{hp_.n_head, hp_.n_head_kv, hp_.head_dim,
                                      1.0f / std::sqrt(static_cast<float>(hp_.head_dim))};
    be_.attention(kv_, il, q, ap, attn);

    // The last layer only needs the output rows from here on.
    if (last && n_out < n_tok) {
        be_.gather_rows(attn, attn_sel_.slice_rows(0, n_out));
        be_.gather_rows(x, x_sel_.slice_rows(0, n_out));
        attn = attn_sel_.slice_rows(0, n_out);
        x = x_sel_.slice_rows(0, n_out);
        h = h_.slice_rows(0, n_out);
        n_tok = n_out;
    }
    const backend::MatmulOut o[] = {{&l.wo, l.bo.data != nullptr ? &l.bo : nullptr, x, true}};
    be_.matmul(attn, o);

    be_.rms_norm(x, l.ffn_norm, hp_.norm_eps, h);
    Tensor gate = gate_.slice_rows(0, n_tok);
    Tensor up = up_.slice_rows(0, n_tok);
    const backend::MatmulOut gu[] = {{&l.w_gate, nullptr, gate, false},
                                     {&l.w_up, nullptr, up, false}};
    be_.matmul(h, gu);
    be_.swiglu(gate, up, gate);
    const backend::MatmulOut down[] = {{&l.w_down, nullptr, x, true}};
    be_.matmul(gate, down);
}

void Forward::run(const backend::StepLayout& layout, std::span<float> logits_out,
                  std::span<float> hidden_out) {
    const auto n_tok = static_cast<std::int64_t>(layout.tokens.size());
    const auto n_out = static_cast<std::int64_t>(layout.output_rows.size());
    AGENTD_CHECK(n_tok > 0 && n_tok <= max_tokens_ && n_out <= n_tok, "batch fits the scratch");
    AGENTD_CHECK(logits_out.empty() ||
                     logits_out.size() >= static_cast<std::size_t>(n_out * hp_.n_vocab),
                 "logits buffer size");
    AGENTD_CHECK(hidden_out.empty() ||
                     hidden_out.size() >= static_cast<std::size_t>(n_out * hp_.n_embd),
                 "hidden buffer size");

    be_.set_step(layout);
    be_.embed(w_.tok_embd, x_.slice_rows(0, n_tok));
    for (int il = 0; il < hp_.n_layer; ++il) {
        layer(il, n_tok, n_out);
    }
    if (n_out == 0) {
        be_.synchronize();
        return;
    }
    // After the last layer x_sel holds the output rows, unless every row is an output; then
    // gather them (rows may be requested in any order).
    if (n_out == n_tok) {
        be_.gather_rows(x_.slice_rows(0, n_tok), x_sel_.slice_rows(0, n_out));
    }
    Tensor xs = x_sel_.slice_rows(0, n_out);
    be_.rms_norm(xs, w_.output_norm, hp_.norm_eps, xs);
    if (!hidden_out.empty()) {
        be_.download_rows(xs, hidden_out);
    }
    if (!logits_out.empty()) {
        Tensor logits = logits_.slice_rows(0, n_out);
        const backend::MatmulOut lo[] = {{&w_.output, nullptr, logits, false}};
        be_.matmul(xs, lo);
        be_.download_rows(logits, logits_out);
    }
}

} // namespace agentd::inference::model
