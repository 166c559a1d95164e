#pragma once
// A plain, slow float64 forward pass for the synthetic models of synthetic_model.h: the oracle
// the engine is checked against. It recomputes each sequence from scratch (no KV cache, no
// batching) and follows the engine's documented numerics only where they are part of the model
// definition (activations rounded to the weight type's input format before each matrix
// product, as llama.cpp does); everything else is exact double arithmetic.

#include "agentd/inference/quantize.h"

#include "synthetic_model.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace agentd::test {

class ReferenceForward {
public:
    ReferenceForward(const SynthSpec& spec, const SynthWeights& w) : s_(spec), w_(w) {
        hd_ = s_.head_dim > 0 ? s_.head_dim : s_.n_embd / s_.n_head;
    }

    /// Logits (n_vocab per position) for every position of `tokens` (positions 0..n-1).
    [[nodiscard]] std::vector<std::vector<double>> logits(const std::vector<int>& tokens) const {
        const auto h = hidden(tokens);
        std::vector<std::vector<double>> out;
        const auto& wout = s_.tied ? w_.tok_embd : w_.output;
        const auto out_type = s_.tied ? s_.embd_type : s_.output_type;
        for (const auto& x : h) {
            out.push_back(matvec(wout, s_.n_vocab, s_.n_embd, x, out_type));
        }
        return out;
    }

    /// Final-norm hidden states for every position.
    [[nodiscard]] std::vector<std::vector<double>> hidden(const std::vector<int>& tokens) const {
        const std::size_t n = tokens.size();
        const int d = s_.n_embd;
        std::vector<std::vector<double>> x(n);
        for (std::size_t t = 0; t < n; ++t) {
            x[t].assign(w_.tok_embd.begin() + static_cast<std::ptrdiff_t>(tokens[t]) * d,
                        w_.tok_embd.begin() + static_cast<std::ptrdiff_t>(tokens[t] + 1) * d);
        }
        for (const SynthLayer& L : w_.layers) {
            layer(L, x);
        }
        for (auto& row : x) {
            row = rms_norm(row, w_.output_norm);
        }
        return x;
    }

    /// The input rounding the engine applies before a product with weights of `type`.
    static std::vector<double> round_input(const std::vector<double>& x,
                                           inference::TensorType type) {
        using inference::TensorType;
        std::vector<double> r(x.size());
        std::vector<float> f(x.begin(), x.end()); // the engine's activations are float
        switch (type) {
        case TensorType::f16:
            for (std::size_t i = 0; i < f.size(); ++i) {
                r[i] = inference::fp16_to_fp32(inference::fp32_to_fp16(f[i]));
            }
            return r;
        case TensorType::bf16:
            for (std::size_t i = 0; i < f.size(); ++i) {
                r[i] = inference::bf16_to_fp32(inference::fp32_to_bf16(f[i]));
            }
            return r;
        case TensorType::q8_0:
        case TensorType::q4_0:
            // 8-bit blocks of 32: d = fp16(max|x| / 127), q = round-half-even(x * 127 / max|x|)
            for (std::size_t b = 0; b < f.size(); b += 32) {
                float amax = 0.0f;
                for (std::size_t i = b; i < b + 32; ++i) {
                    amax = std::max(amax, std::fabs(f[i]));
                }
                const double d = inference::fp16_to_fp32(inference::fp32_to_fp16(amax / 127.0f));
                const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
                for (std::size_t i = b; i < b + 32; ++i) {
                    r[i] = d * std::nearbyint(f[i] * id);
                }
            }
            return r;
        case TensorType::q4_k:
        case TensorType::q6_k:
            // 8-bit blocks of 256 (Q8_K): the largest |x| maps to -127.
            for (std::size_t b = 0; b < f.size(); b += 256) {
                float amax = 0.0f;
                float max = 0.0f;
                for (std::size_t i = b; i < b + 256; ++i) {
                    if (std::fabs(f[i]) > amax) {
                        amax = std::fabs(f[i]);
                        max = f[i];
                    }
                }
                if (amax == 0.0f) {
                    std::fill(r.begin() + static_cast<std::ptrdiff_t>(b),
                              r.begin() + static_cast<std::ptrdiff_t>(b + 256), 0.0);
                    continue;
                }
                const float iscale = -127.0f / max;
                const double d = 1.0f / iscale;
                for (std::size_t i = b; i < b + 256; ++i) {
                    r[i] = d * std::min(127.0f, std::nearbyint(iscale * f[i]));
                }
            }
            return r;
        default:
            return std::vector<double>(f.begin(), f.end());
        }
    }

private:
    std::vector<double> rms_norm(const std::vector<double>& x, const std::vector<float>& w) const {
        double ss = 0.0;
        for (double v : x) {
            ss += v * v;
        }
        const double scale = 1.0 / std::sqrt(ss / static_cast<double>(x.size()) + s_.norm_eps);
        std::vector<double> y(x.size());
        for (std::size_t i = 0; i < x.size(); ++i) {
            y[i] = x[i] * scale * w[i % w.size()];
        }
        return y;
    }

    static std::vector<double> matvec(const std::vector<float>& w, std::int64_t rows,
                                      std::int64_t cols, const std::vector<double>& x,
                                      inference::TensorType type) {
        const auto xr = round_input(x, type);
        std::vector<double> y(static_cast<std::size_t>(rows));
        for (std::int64_t r = 0; r < rows; ++r) {
            double s = 0.0;
            for (std::int64_t c = 0; c < cols; ++c) {
                s += static_cast<double>(w[static_cast<std::size_t>(r * cols + c)]) *
                     xr[static_cast<std::size_t>(c)];
            }
            y[static_cast<std::size_t>(r)] = s;
        }
        return y;
    }

    void rope(std::vector<double>& v, int n_heads, int pos) const {
        const bool neox = s_.arch != "llama";
        double freq_scale = 1.0;
        if (s_.rope_scaling == "linear" || s_.rope_scaling == "yarn") {
            freq_scale = 1.0 / s_.rope_factor;
        }
        double mscale = 1.0;
        double corr0 = 0.0;
        double corr1 = 0.0;
        const bool yarn = s_.rope_scaling == "yarn";
        if (yarn) {
            // YaRN (as llama.cpp): ramp between interpolation and extrapolation over the
            // correction range of dimensions; magnitude 1 + 0.1 ln(factor).
            const double orig = s_.n_ctx / 2;
            auto corr_dim = [&](double n_rot) {
                return hd_ * std::log(orig / (n_rot * 2.0 * M_PI)) / (2.0 * std::log(s_.rope_base));
            };
            corr0 = std::max(0.0, std::floor(corr_dim(32.0)));
            corr1 = std::min(static_cast<double>(hd_ - 1), std::ceil(corr_dim(1.0)));
            mscale = 1.0 + 0.1 * std::log(s_.rope_factor);
        }
        for (int h = 0; h < n_heads; ++h) {
            double* x = v.data() + static_cast<std::ptrdiff_t>(h) * hd_;
            for (int i = 0; i < hd_ / 2; ++i) {
                double theta = pos * std::pow(static_cast<double>(s_.rope_base), -2.0 * i / hd_);
                if (!w_.rope_freqs.empty()) {
                    theta /= w_.rope_freqs[static_cast<std::size_t>(i)];
                }
                double th = theta * freq_scale;
                if (yarn) {
                    const double y = (i - corr0) / std::max(0.001, corr1 - corr0);
                    const double ramp = 1.0 - std::min(1.0, std::max(0.0, y));
                    th = th * (1.0 - ramp) + theta * ramp;
                }
                const int a = neox ? i : 2 * i;
                const int b = neox ? i + hd_ / 2 : 2 * i + 1;
                const double x0 = x[a];
                const double x1 = x[b];
                x[a] = (x0 * std::cos(th) - x1 * std::sin(th)) * mscale;
                x[b] = (x0 * std::sin(th) + x1 * std::cos(th)) * mscale;
            }
        }
    }

    void layer(const SynthLayer& L, std::vector<std::vector<double>>& x) const {
        const std::size_t n = x.size();
        const int d = s_.n_embd;
        const int qd = s_.n_head * hd_;
        const int kvd = s_.n_head_kv * hd_;
        std::vector<std::vector<double>> q(n), k(n), v(n);
        for (std::size_t t = 0; t < n; ++t) {
            const auto h = rms_norm(x[t], L.attn_norm);
            q[t] = matvec(L.wq, qd, d, h, s_.type);
            k[t] = matvec(L.wk, kvd, d, h, s_.type);
            v[t] = matvec(L.wv, kvd, d, h, s_.type);
            for (std::size_t i = 0; i < L.bq.size(); ++i) {
                q[t][i] += L.bq[i];
            }
            for (std::size_t i = 0; i < L.bk.size(); ++i) {
                k[t][i] += L.bk[i];
                v[t][i] += L.bv[i];
            }
            if (!L.q_norm.empty()) {
                for (int hh = 0; hh < s_.n_head; ++hh) {
                    std::vector<double> head(q[t].begin() + hh * hd_,
                                             q[t].begin() + (hh + 1) * hd_);
                    head = rms_norm(head, L.q_norm);
                    std::copy(head.begin(), head.end(), q[t].begin() + hh * hd_);
                }
                for (int hh = 0; hh < s_.n_head_kv; ++hh) {
                    std::vector<double> head(k[t].begin() + hh * hd_,
                                             k[t].begin() + (hh + 1) * hd_);
                    head = rms_norm(head, L.k_norm);
                    std::copy(head.begin(), head.end(), k[t].begin() + hh * hd_);
                }
            }
            rope(q[t], s_.n_head, static_cast<int>(t));
            rope(k[t], s_.n_head_kv, static_cast<int>(t));
        }
        const int group = s_.n_head / s_.n_head_kv;
        const double scale = 1.0 / std::sqrt(static_cast<double>(hd_));
        for (std::size_t t = 0; t < n; ++t) {
            std::vector<double> attn(static_cast<std::size_t>(qd), 0.0);
            for (int hh = 0; hh < s_.n_head; ++hh) {
                const int g = hh / group;
                std::vector<double> sc(t + 1);
                double max = -1e300;
                for (std::size_t j = 0; j <= t; ++j) {
                    double dot = 0.0;
                    for (int e = 0; e < hd_; ++e) {
                        dot += q[t][static_cast<std::size_t>(hh * hd_ + e)] *
                               k[j][static_cast<std::size_t>(g * hd_ + e)];
                    }
                    sc[j] = dot * scale;
                    max = std::max(max, sc[j]);
                }
                double sum = 0.0;
                for (auto& s : sc) {
                    s = std::exp(s - max);
                    sum += s;
                }
                for (std::size_t j = 0; j <= t; ++j) {
                    for (int e = 0; e < hd_; ++e) {
                        attn[static_cast<std::size_t>(hh * hd_ + e)] +=
                            sc[j] / sum * v[j][static_cast<std::size_t>(g * hd_ + e)];
                    }
                }
            }
            const auto o = matvec(L.wo, d, qd, attn, s_.type);
            for (int i = 0; i < d; ++i) {
                x[t][static_cast<std::size_t>(i)] += o[static_cast<std::size_t>(i)];
            }
        }
        for (std::size_t t = 0; t < n; ++t) {
            const auto h = rms_norm(x[t], L.ffn_norm);
            const auto g = matvec(L.gate, s_.n_ff, d, h, s_.type);
            const auto u = matvec(L.up, s_.n_ff, d, h, s_.type);
            std::vector<double> act(g.size());
            for (std::size_t i = 0; i < g.size(); ++i) {
                act[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
            }
            const auto down = matvec(L.down, d, s_.n_ff, act, s_.type);
            for (int i = 0; i < d; ++i) {
                x[t][static_cast<std::size_t>(i)] += down[static_cast<std::size_t>(i)];
            }
        }
    }

    SynthSpec s_;
    const SynthWeights& w_;
    int hd_ = 0;
};

} // namespace agentd::test
