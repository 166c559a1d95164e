// Attention tile kernels (AttnTile in kernels.h) of every ISA this CPU has against the scalar
// oracle, and the oracle against a float64 softmax: f32 and f16 KV, head sizes with and without a
// vector tail, 1-4 query rows with different causal positions, key counts that end inside a
// chunk, and both block layouts the KV cache uses (16-position chunks in 16- or 32-position
// blocks). Key slots past the last valid position hold NaN, as stale cache memory may: no kernel
// may let them reach the output.
#include "agentd/inference/quantize.h"

#include "backend/cpu/kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace agentd::inference::cpu {
namespace {

struct AttnShape {
    bool f16;
    int head_dim;
    std::int32_t n_keys;
    int n_rows;
    std::int64_t block; // positions per KV block (the chunks' K stride)
};

std::string attn_name(const ::testing::TestParamInfo<AttnShape>& info) {
    const AttnShape& s = info.param;
    return std::string(s.f16 ? "f16" : "f32") + "_hd" + std::to_string(s.head_dim) + "_n" +
           std::to_string(s.n_keys) + "_r" + std::to_string(s.n_rows) + "_bs" +
           std::to_string(s.block);
}

/// A KV cache of one head laid out as the CPU backend's: per block, K transposed ([hd][bs]) and
/// V ([bs][hd]); values as float plus their f16 encoding.
struct KvHead {
    std::vector<float> k, v;              // logical [pos][hd]
    std::vector<float> kt32, v32;         // storage, f32
    std::vector<std::uint16_t> kt16, v16; // storage, f16
    std::vector<const void*> kt_chunks, v_chunks;
};

KvHead make_kv(const AttnShape& s, std::mt19937& rng) {
    const std::int64_t hd = s.head_dim;
    const std::int64_t blocks = (s.n_keys + s.block - 1) / s.block;
    const std::int64_t slots = blocks * s.block;
    std::normal_distribution<float> dist(0.0f, 1.0f);
    KvHead kv;
    kv.k.resize(static_cast<std::size_t>(slots * hd));
    kv.v.resize(kv.k.size());
    for (std::size_t i = 0; i < kv.k.size(); ++i) {
        kv.k[i] = 2.0f * dist(rng);
        kv.v[i] = dist(rng);
    }
    const float nan = std::numeric_limits<float>::quiet_NaN();
    kv.kt32.assign(kv.k.size(), nan);
    kv.v32.assign(kv.k.size(), nan);
    kv.kt16.assign(kv.k.size(), 0x7E00); // f16 NaN
    kv.v16.assign(kv.k.size(), 0x7E00);
    for (std::int64_t p = 0; p < s.n_keys; ++p) {
        const std::int64_t b = p / s.block;
        const std::int64_t off = p % s.block;
        for (std::int64_t d = 0; d < hd; ++d) {
            const auto src = static_cast<std::size_t>(p * hd + d);
            if (s.f16) {
                // The reference sees the values the kernels read.
                kv.k[src] = fp16_to_fp32(fp32_to_fp16(kv.k[src]));
                kv.v[src] = fp16_to_fp32(fp32_to_fp16(kv.v[src]));
            }
            const auto kt_at = static_cast<std::size_t>(b * hd * s.block + d * s.block + off);
            const auto v_at = static_cast<std::size_t>((b * s.block + off) * hd + d);
            kv.kt32[kt_at] = kv.k[src];
            kv.v32[v_at] = kv.v[src];
            kv.kt16[kt_at] = fp32_to_fp16(kv.k[src]);
            kv.v16[v_at] = fp32_to_fp16(kv.v[src]);
        }
    }
    const std::int64_t elem = s.f16 ? 2 : 4;
    const auto* kt_base = s.f16 ? static_cast<const void*>(kv.kt16.data()) : kv.kt32.data();
    const auto* v_base = s.f16 ? static_cast<const void*>(kv.v16.data()) : kv.v32.data();
    for (std::int64_t pos = 0; pos < s.n_keys; pos += kAttnChunk) {
        const std::int64_t b = pos / s.block;
        const std::int64_t off = pos % s.block;
        kv.kt_chunks.push_back(static_cast<const std::uint8_t*>(kt_base) +
                               (b * hd * s.block + off) * elem);
        kv.v_chunks.push_back(static_cast<const std::uint8_t*>(v_base) +
                              (b * s.block + off) * hd * elem);
    }
    return kv;
}

/// softmax(q.k * scale) . v over keys 0..pos in float64.
std::vector<double> reference_row(const KvHead& kv, const float* q, int hd, std::int32_t pos,
                                  double scale) {
    std::vector<double> sc(static_cast<std::size_t>(pos) + 1);
    double max = -1e300;
    for (std::int32_t j = 0; j <= pos; ++j) {
        double s = 0;
        for (int d = 0; d < hd; ++d) {
            s += static_cast<double>(q[d]) * kv.k[static_cast<std::size_t>(j * hd + d)];
        }
        sc[static_cast<std::size_t>(j)] = s * scale;
        max = std::max(max, s * scale);
    }
    double sum = 0;
    for (auto& s : sc) {
        s = std::exp(s - max);
        sum += s;
    }
    std::vector<double> out(static_cast<std::size_t>(hd), 0.0);
    for (std::int32_t j = 0; j <= pos; ++j) {
        for (int d = 0; d < hd; ++d) {
            out[static_cast<std::size_t>(d)] +=
                sc[static_cast<std::size_t>(j)] / sum * kv.v[static_cast<std::size_t>(j * hd + d)];
        }
    }
    return out;
}

class AttnVsScalar : public ::testing::TestWithParam<AttnShape> {};

TEST_P(AttnVsScalar, MatchesScalarAndFloat64) {
    const AttnShape s = GetParam();
    std::mt19937 rng(static_cast<std::uint32_t>(s.head_dim * 131 + s.n_keys * 7 + s.n_rows));
    const KvHead kv = make_kv(s, rng);
    const int hd = s.head_dim;
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> q(static_cast<std::size_t>(kAttnRows * hd));
    for (auto& x : q) {
        x = dist(rng);
    }
    // Rows see different prefixes: the last row all keys, earlier rows fewer (as in a prefill).
    AttnTile t;
    t.n_rows = s.n_rows;
    t.head_dim = hd;
    t.scale = 1.0f / std::sqrt(static_cast<float>(hd));
    t.n_keys = s.n_keys;
    t.kt = kv.kt_chunks.data();
    t.v = kv.v_chunks.data();
    t.kt_stride = s.block;
    t.v_stride = hd;
    for (int r = 0; r < s.n_rows; ++r) {
        t.q[r] = q.data() + static_cast<std::ptrdiff_t>(r) * hd;
        t.pos[r] = std::max(0, s.n_keys - 1 - 5 * (s.n_rows - 1 - r));
    }
    auto run = [&](const KernelTable& kt) {
        std::vector<float> out(static_cast<std::size_t>(kAttnRows * hd),
                               std::numeric_limits<float>::quiet_NaN());
        AttnTile tile = t;
        for (int r = 0; r < s.n_rows; ++r) {
            tile.out[r] = out.data() + static_cast<std::ptrdiff_t>(r) * hd;
        }
        (s.f16 ? kt.attn_f16 : kt.attn_f32)(tile);
        return out;
    };
    const auto ref = run(*kernel_table(Isa::scalar));
    for (int r = 0; r < s.n_rows; ++r) {
        const auto want = reference_row(kv, t.q[r], hd, t.pos[r], t.scale);
        for (int d = 0; d < hd; ++d) {
            ASSERT_NEAR(ref[static_cast<std::size_t>(r * hd + d)],
                        want[static_cast<std::size_t>(d)], 1e-4)
                << "scalar row " << r << " dim " << d;
        }
    }
    for (Isa isa : {Isa::avx2, Isa::avx512}) {
        const KernelTable* kt = kernel_table(isa);
        if (kt == nullptr) {
            continue;
        }
        const auto got = run(*kt);
        for (std::size_t i = 0; i < got.size(); ++i) {
            if (i >= static_cast<std::size_t>(s.n_rows * hd)) {
                ASSERT_TRUE(std::isnan(got[i])) << kt->isa << " wrote past its rows";
                continue;
            }
            ASSERT_NEAR(got[i], ref[i], 1e-5 + 1e-5 * std::fabs(ref[i]))
                << kt->isa << " row " << i / static_cast<std::size_t>(hd) << " dim "
                << i % static_cast<std::size_t>(hd);
        }
    }
}

std::vector<AttnShape> attn_shapes() {
    std::vector<AttnShape> out;
    for (bool f16 : {false, true}) {
        for (int hd : {8, 24, 64, 72, 128}) {
            for (std::int32_t n : {1, 15, 16, 17, 40, 100}) {
                for (int rows : {1, 3, 4}) {
                    for (std::int64_t bs : {16, 32}) {
                        out.push_back({f16, hd, n, rows, bs});
                    }
                }
            }
        }
    }
    return out;
}

INSTANTIATE_TEST_SUITE_P(Shapes, AttnVsScalar, ::testing::ValuesIn(attn_shapes()), attn_name);

} // namespace
} // namespace agentd::inference::cpu
