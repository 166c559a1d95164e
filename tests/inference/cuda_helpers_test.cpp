// The CUDA backend's host/device helpers (backend/cuda/device_math.h, mma_layout.h,
// launch_policy.h), run on the host: every conversion, quantiser, dequantiser and block loader
// the kernels use against the CPU backend's reference code, the index arithmetic of the paged
// KV cache and of the attention work split, the online-softmax merge, the decode-graph buckets,
// and the tensor-core fragment maps against an emulation of the PTX instruction. These run in
// every build, with or without nvcc or a GPU.
#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/kernels.h"
#include "backend/cuda/device_math.h"
#include "backend/cuda/launch_policy.h"
#include "backend/cuda/mma_layout.h"
#include "quant/block_formats.h"
#include "quant/quantize_ref.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <vector>

namespace agentd::inference::cuda {
namespace {

std::uint32_t bits(float f) {
    std::uint32_t b;
    std::memcpy(&b, &f, sizeof b);
    return b;
}

std::vector<float> random_row(std::mt19937& rng, std::size_t n, float scale) {
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> v(n);
    for (auto& x : v) {
        x = dist(rng);
    }
    return v;
}

TEST(CudaHelpers, HalfAndBfloat16ConversionsMatchTheCpu) {
    for (std::uint32_t h = 0; h <= 0xFFFF; ++h) {
        const auto v = static_cast<std::uint16_t>(h);
        ASSERT_EQ(bits(dev::half_to_float(v)), bits(quant::half_to_float(v))) << h;
        ASSERT_EQ(bits(dev::bf16_to_float(v)), bits(quant::bf16_to_float(v))) << h;
    }
    std::mt19937 rng(7);
    std::uniform_int_distribution<std::uint32_t> any;
    std::vector<float> samples = {0.0f,
                                  -0.0f,
                                  1.0f,
                                  65504.0f,
                                  65520.0f,
                                  1e-8f,
                                  6.1e-5f,
                                  5.96e-8f,
                                  2.98e-8f,
                                  1e30f,
                                  -1e30f,
                                  std::numeric_limits<float>::infinity(),
                                  std::numeric_limits<float>::quiet_NaN()};
    for (int i = 0; i < 200000; ++i) {
        const std::uint32_t b = any(rng);
        float f;
        std::memcpy(&f, &b, sizeof f);
        samples.push_back(f);
    }
    for (float f : samples) {
        ASSERT_EQ(dev::float_to_half(f), quant::float_to_half(f)) << f;
        ASSERT_EQ(dev::float_to_bf16(f), quant::float_to_bf16(f)) << f;
    }
}

TEST(CudaHelpers, Q8ActivationBlocksMatchTheCpuQuantiser) {
    const auto* kt = cpu::kernel_table(cpu::Isa::scalar);
    std::mt19937 rng(11);
    for (std::int64_t k : {32, 64, 96, 160, 416, 4096}) {
        auto x = random_row(rng, static_cast<std::size_t>(k), 3.0f);
        std::fill(x.begin(), x.begin() + 32, 0.0f); // an all-zero block
        if (k >= 64) {
            // Block 1 has max |x| 127, so x * 127 / max is x: ties round to even.
            x[33] = 127.0f;
            x[40] = 2.5f;
            x[41] = -3.5f;
        }
        std::vector<std::uint8_t> act(cpu::act_row_bytes(cpu::ActKind::q8_0, k));
        kt->quantize[static_cast<int>(cpu::ActKind::q8_0)](x.data(), 0, act.data(), 0, 1, k);
        const auto* qs = reinterpret_cast<const std::int8_t*>(act.data());
        const auto* scale =
            reinterpret_cast<const float*>(act.data() + cpu::act_q8_scale_offset(k));
        for (std::int64_t b = 0; b < k / 32; ++b) {
            std::int8_t q[32];
            const float d = dev::quantize_q8_block(x.data() + b * 32, q);
            ASSERT_EQ(bits(d), bits(scale[cpu::act_q8_lane(b)])) << "k " << k << " block " << b;
            for (int i = 0; i < 32; ++i) {
                ASSERT_EQ(q[i], qs[cpu::act_q8_index(b, i)]) << "k " << k << " block " << b;
            }
        }
    }
}

/// The Q8_K kernel's reduction: eight elements per lane scanned in order, then an xor butterfly.
dev::AbsMax warp_absmax(const float* x) {
    dev::AbsMax lane[32];
    for (int l = 0; l < 32; ++l) {
        lane[l] = {0.0f, 0.0f, INT_MAX};
        for (int i = 0; i < 8; ++i) {
            const float v = x[l * 8 + i];
            lane[l] = dev::absmax_combine(lane[l], {std::fabs(v), v, l * 8 + i});
        }
    }
    for (int o = 16; o > 0; o >>= 1) {
        dev::AbsMax next[32];
        for (int l = 0; l < 32; ++l) {
            next[l] = dev::absmax_combine(lane[l], lane[l ^ o]);
        }
        std::copy(next, next + 32, lane);
    }
    for (int l = 1; l < 32; ++l) {
        EXPECT_EQ(bits(lane[l].value), bits(lane[0].value));
    }
    return lane[0];
}

TEST(CudaHelpers, Q8KBlocksMatchTheCpuQuantiserIncludingTies) {
    std::mt19937 rng(13);
    for (int trial = 0; trial < 40; ++trial) {
        auto x = random_row(rng, 512, trial % 5 == 0 ? 1e-3f : 2.0f);
        if (trial % 4 == 1) { // equal magnitudes, opposite signs: the first one decides
            x[300] = 9.0f;
            x[290] = -9.0f;
            x[10] = 9.0f;
            x[3] = -9.0f;
        }
        if (trial == 2) {
            std::fill(x.begin() + 256, x.end(), 0.0f);
        }
        std::vector<quant::BlockQ8K> ref(2);
        quant::quantize_row_q8_k(x.data(), ref.data(), 512);
        for (int b = 0; b < 2; ++b) {
            std::int8_t q[256];
            int sums[16];
            const float d = dev::quantize_q8k_block(x.data() + 256 * b, q, sums);
            ASSERT_EQ(bits(d), bits(ref[b].d)) << trial;
            for (int i = 0; i < 256; ++i) {
                ASSERT_EQ(q[i], ref[b].qs[i]) << trial << " " << i;
            }
            for (int g = 0; g < 16; ++g) {
                ASSERT_EQ(sums[g], ref[b].bsums[g]);
            }
            // The warp reduction finds the same element as the sequential scan.
            const dev::AbsMax w = warp_absmax(x.data() + 256 * b);
            const dev::Q8KScale s = dev::q8k_scale(w.value, w.amax);
            ASSERT_EQ(bits(s.d), bits(ref[b].d)) << trial;
        }
    }
}

std::vector<std::uint8_t> quantize_row(TensorType type, const std::vector<float>& x) {
    const std::int64_t k = static_cast<std::int64_t>(x.size());
    std::vector<std::uint8_t> out(*row_bytes(type, k));
    switch (type) {
    case TensorType::q8_0:
        quant::quantize_row_q8_0(x.data(), reinterpret_cast<quant::BlockQ8_0*>(out.data()), k);
        break;
    case TensorType::q4_0:
        quant::quantize_row_q4_0(x.data(), reinterpret_cast<quant::BlockQ4_0*>(out.data()), k);
        break;
    case TensorType::q4_k:
        quant::quantize_row_q4_k(x.data(), reinterpret_cast<quant::BlockQ4K*>(out.data()), k);
        break;
    case TensorType::q6_k:
        quant::quantize_row_q6_k(x.data(), reinterpret_cast<quant::BlockQ6K*>(out.data()), k);
        break;
    case TensorType::f16:
        for (std::int64_t i = 0; i < k; ++i) {
            const std::uint16_t h = quant::float_to_half(x[static_cast<std::size_t>(i)]);
            std::memcpy(out.data() + 2 * i, &h, 2);
        }
        break;
    case TensorType::bf16:
        for (std::int64_t i = 0; i < k; ++i) {
            const std::uint16_t h = quant::float_to_bf16(x[static_cast<std::size_t>(i)]);
            std::memcpy(out.data() + 2 * i, &h, 2);
        }
        break;
    default:
        std::memcpy(out.data(), x.data(), out.size());
    }
    return out;
}

std::vector<float> dequantize_ref(TensorType type, const std::vector<std::uint8_t>& w,
                                  std::int64_t k) {
    std::vector<float> y(static_cast<std::size_t>(k));
    switch (type) {
    case TensorType::q8_0:
        quant::dequantize_row_q8_0(reinterpret_cast<const quant::BlockQ8_0*>(w.data()), y.data(),
                                   k);
        break;
    case TensorType::q4_0:
        quant::dequantize_row_q4_0(reinterpret_cast<const quant::BlockQ4_0*>(w.data()), y.data(),
                                   k);
        break;
    case TensorType::q4_k:
        quant::dequantize_row_q4_k(reinterpret_cast<const quant::BlockQ4K*>(w.data()), y.data(), k);
        break;
    case TensorType::q6_k:
        quant::dequantize_row_q6_k(reinterpret_cast<const quant::BlockQ6K*>(w.data()), y.data(), k);
        break;
    case TensorType::f16:
    case TensorType::bf16:
        for (std::int64_t i = 0; i < k; ++i) {
            std::uint16_t h;
            std::memcpy(&h, w.data() + 2 * i, 2);
            y[static_cast<std::size_t>(i)] =
                type == TensorType::f16 ? quant::half_to_float(h) : quant::bf16_to_float(h);
        }
        break;
    default:
        std::memcpy(y.data(), w.data(), w.size());
    }
    return y;
}

constexpr TensorType kAllTypes[] = {TensorType::f32,  TensorType::f16,  TensorType::bf16,
                                    TensorType::q8_0, TensorType::q4_0, TensorType::q4_k,
                                    TensorType::q6_k};

TEST(CudaHelpers, DequantisationMatchesTheCpuBitForBit) {
    std::mt19937 rng(17);
    for (TensorType type : kAllTypes) {
        const auto x = random_row(rng, 1024, 0.7f);
        const auto w = quantize_row(type, x);
        const auto ref = dequantize_ref(type, w, 1024);
        for (std::int64_t i = 0; i < 1024; ++i) {
            ASSERT_EQ(bits(dev::dequant(w.data(), type, i)), bits(ref[static_cast<std::size_t>(i)]))
                << type_traits(type).name << " element " << i;
        }
    }
}

TEST(CudaHelpers, BlockLoadersGiveTheStoredQuants) {
    std::mt19937 rng(19);
    const auto x = random_row(rng, 512, 1.3f);
    { // Q8_0 and Q4_0: the loaders' ints hold the quants (minus 8) in element order
        const auto w8 = quantize_row(TensorType::q8_0, x);
        const auto w4 = quantize_row(TensorType::q4_0, x);
        for (std::int64_t b = 0; b < 16; ++b) {
            int q[8];
            const float d = dev::load_q8_0(w8.data(), b, q);
            const auto& blk = reinterpret_cast<const quant::BlockQ8_0*>(w8.data())[b];
            ASSERT_EQ(bits(d), bits(quant::half_to_float(blk.d)));
            for (int i = 0; i < 32; ++i) {
                ASSERT_EQ(static_cast<std::int8_t>(q[i / 4] >> (8 * (i % 4))), blk.qs[i]);
            }
            const float d4 = dev::load_q4_0(w4.data(), b, q);
            const auto& b4 = reinterpret_cast<const quant::BlockQ4_0*>(w4.data())[b];
            ASSERT_EQ(bits(d4), bits(quant::half_to_float(b4.d)));
            int ref[8];
            dev::unpack_q4_0(b4, ref);
            for (int i = 0; i < 8; ++i) {
                ASSERT_EQ(q[i], ref[i]);
            }
            for (int i = 0; i < 32; ++i) {
                const int nib = i < 16 ? (b4.qs[i] & 0xF) : (b4.qs[i - 16] >> 4);
                ASSERT_EQ(static_cast<std::int8_t>(q[i / 4] >> (8 * (i % 4))), nib - 8);
            }
        }
    }
    { // Q4_K: 16-element pieces of each sub-block
        const auto w = quantize_row(TensorType::q4_k, x);
        const auto* blocks = reinterpret_cast<const quant::BlockQ4K*>(w.data());
        for (int sb = 0; sb < 2; ++sb) {
            for (int j = 0; j < 8; ++j) {
                for (int part = 0; part < 2; ++part) {
                    int q[4];
                    dev::load_q4k_16(blocks[sb], j, part, q);
                    for (int i = 0; i < 16; ++i) {
                        const int e = 32 * j + 16 * part + i;
                        ASSERT_EQ(static_cast<std::int8_t>(q[i / 4] >> (8 * (i % 4))),
                                  dev::q4k_quant(blocks[sb], e));
                    }
                    if (part == 0) {
                        ASSERT_EQ(dev::unpack_q4k4(blocks[sb], j, 0), q[0]);
                    }
                }
            }
        }
    }
    { // Q6_K: sub-blocks of 16 as q - 32
        const auto w = quantize_row(TensorType::q6_k, x);
        const auto* blocks = reinterpret_cast<const quant::BlockQ6K*>(w.data());
        for (int sb = 0; sb < 2; ++sb) {
            for (int g = 0; g < 16; ++g) {
                int q[4];
                dev::load_q6k_16(blocks[sb], g, q);
                for (int i = 0; i < 16; ++i) {
                    ASSERT_EQ(static_cast<std::int8_t>(q[i / 4] >> (8 * (i % 4))),
                              quant::q6k_get(blocks[sb], 16 * g + i) - 32);
                }
                ASSERT_EQ(q[1], dev::unpack_q6k4(blocks[sb], 4 * g + 1));
            }
        }
    }
}

int dot16_host(const int (&w)[4], const std::int8_t* a) {
    int s = 0;
    for (int i = 0; i < 4; ++i) {
        int v;
        std::memcpy(&v, a + 4 * i, 4);
        s = dev::dp4a(w[i], v, s);
    }
    return s;
}

/// The matrix-vector kernel's arithmetic for one weight row, run sequentially.
float mmv_row(TensorType type, const std::vector<std::uint8_t>& w, const std::vector<float>& x) {
    const auto k = static_cast<std::int64_t>(x.size());
    float acc = 0.0f;
    if (type == TensorType::q8_0 || type == TensorType::q4_0) {
        for (std::int64_t b = 0; b < k / 32; ++b) {
            std::int8_t a[32];
            const float da = dev::quantize_q8_block(x.data() + b * 32, a);
            int q[8];
            const float dw = type == TensorType::q8_0 ? dev::load_q8_0(w.data(), b, q)
                                                      : dev::load_q4_0(w.data(), b, q);
            const int lo[4] = {q[0], q[1], q[2], q[3]};
            const int hi[4] = {q[4], q[5], q[6], q[7]};
            acc += static_cast<float>(dot16_host(lo, a) + dot16_host(hi, a + 16)) * (dw * da);
        }
        return acc;
    }
    for (std::int64_t sb = 0; sb < k / 256; ++sb) {
        std::int8_t a[256];
        int sums[16];
        const float da = dev::quantize_q8k_block(x.data() + sb * 256, a, sums);
        if (type == TensorType::q4_k) {
            const auto& blk = reinterpret_cast<const quant::BlockQ4K*>(w.data())[sb];
            for (int j = 0; j < 8; ++j) {
                int sc = 0;
                int m = 0;
                dev::q4k_scale_min(j, blk.scales, sc, m);
                for (int part = 0; part < 2; ++part) {
                    int q[4];
                    dev::load_q4k_16(blk, j, part, q);
                    acc += da * (dev::half_to_float(blk.d) *
                                 static_cast<float>(sc * dot16_host(q, a + 32 * j + 16 * part)));
                }
                acc -= da * (dev::half_to_float(blk.dmin) *
                             static_cast<float>(m * (sums[2 * j] + sums[2 * j + 1])));
            }
        } else {
            const auto& blk = reinterpret_cast<const quant::BlockQ6K*>(w.data())[sb];
            for (int g = 0; g < 16; ++g) {
                int q[4];
                dev::load_q6k_16(blk, g, q);
                acc += da * (dev::half_to_float(blk.d) *
                             static_cast<float>(blk.scales[g] * dot16_host(q, a + 16 * g)));
            }
        }
    }
    return acc;
}

TEST(CudaHelpers, QuantisedDotProductsMatchTheCpuScalarKernels) {
    const auto* kt = cpu::kernel_table(cpu::Isa::scalar);
    std::mt19937 rng(23);
    for (TensorType type :
         {TensorType::q8_0, TensorType::q4_0, TensorType::q4_k, TensorType::q6_k}) {
        for (std::int64_t k : {256, 768, 2048}) {
            const auto wf = random_row(rng, static_cast<std::size_t>(k), 0.5f);
            const auto x = random_row(rng, static_cast<std::size_t>(k), 2.0f);
            const auto w = quantize_row(type, wf);
            const cpu::ActKind kind = cpu::act_kind_for(type);
            std::vector<std::uint8_t> act(cpu::act_row_bytes(kind, k));
            kt->quantize[static_cast<int>(kind)](x.data(), 0, act.data(), 0, 1, k);
            float ref = 0.0f;
            const cpu::GemmArgs args{w.data(), w.size(), act.data(), act.size(), &ref, 1, k, false};
            kt->gemm[static_cast<int>(type)](args, 0, 1, 0, 1);
            // Integer block sums are exact; only the float summation order differs.
            double mag = 0.0;
            const auto wd = dequantize_ref(type, w, k);
            for (std::int64_t i = 0; i < k; ++i) {
                mag += std::fabs(static_cast<double>(wd[static_cast<std::size_t>(i)]) *
                                 x[static_cast<std::size_t>(i)]);
            }
            EXPECT_NEAR(mmv_row(type, w, x), ref, 1e-5 * mag + 1e-6)
                << type_traits(type).name << " k " << k;
        }
    }
}

TEST(CudaHelpers, RopeAnglesMatchTheCpuBackend) {
    cpu::CpuBackend cpu(1, cpu::Isa::scalar);
    const std::vector<std::int32_t> positions = {0, 1, 7, 100, 4095, 65535};
    const auto n = static_cast<std::int32_t>(positions.size());
    std::vector<std::int32_t> tokens(positions.size(), 0);
    std::vector<std::int32_t> slots(positions.size(), 0);
    const backend::SeqSlice seq{0, n, 65536, 0, 0};
    const backend::StepLayout layout{tokens, positions, slots, std::span(&seq, 1), {}, {}};
    const int head_dim = 64;
    std::vector<float> factors(32);
    for (std::size_t i = 0; i < factors.size(); ++i) {
        factors[i] = 1.0f + 0.25f * static_cast<float>(i);
    }
    struct Case {
        float freq_scale, ext_factor, attn_factor;
        bool with_factors;
    };
    for (const Case c : {Case{1.0f, 0.0f, 1.0f, false}, Case{0.25f, 0.0f, 1.0f, false},
                         Case{0.25f, 1.0f, 1.0f, false}, Case{1.0f, 0.0f, 1.0f, true}}) {
        cpu.set_step(layout);
        backend::RopeParams p;
        p.n_dims = head_dim;
        p.freq_base = 500000.0f;
        p.freq_scale = c.freq_scale;
        p.ext_factor = c.ext_factor;
        p.attn_factor = c.attn_factor;
        p.n_ctx_orig = 4096;
        if (c.with_factors) {
            p.freq_factors = factors;
        }
        // Pairs (1, 0) rotate into (cos, sin).
        std::vector<float> x(positions.size() * head_dim, 0.0f);
        for (std::size_t i = 0; i < x.size(); i += 2) {
            x[i] = 1.0f;
        }
        cpu.rope(backend::Tensor::contiguous(x.data(), TensorType::f32, n, head_dim), 1, head_dim,
                 p);
        const dev::RopeConsts rc =
            make_rope_consts(p.n_dims, p.freq_base, p.freq_scale, p.ext_factor, p.attn_factor,
                             p.beta_fast, p.beta_slow, p.n_ctx_orig);
        for (std::size_t t = 0; t < positions.size(); ++t) {
            std::vector<float> angles(head_dim);
            dev::rope_angles(positions[t], rc, c.with_factors ? factors.data() : nullptr,
                             angles.data());
            for (int i = 0; i < head_dim; ++i) {
                ASSERT_EQ(bits(angles[static_cast<std::size_t>(i)]), bits(x[t * head_dim + i]))
                    << "position " << positions[t] << " element " << i;
            }
        }
    }
    for (int p = 0; p < 32; ++p) {
        int a = 0;
        int b = 0;
        dev::rope_pair(false, 64, p, a, b);
        EXPECT_EQ(a, 2 * p);
        EXPECT_EQ(b, 2 * p + 1);
        dev::rope_pair(true, 64, p, a, b);
        EXPECT_EQ(a, p);
        EXPECT_EQ(b, p + 32);
    }
}

TEST(CudaHelpers, KvIndexIsABijectionFollowingTheBlockTable) {
    const dev::KvLayout l{5, 16, 3, 8};
    std::set<std::int64_t> seen;
    for (std::int64_t slot = 0; slot < 5 * 16; ++slot) {
        for (int h = 0; h < 3; ++h) {
            for (int d = 0; d < 8; ++d) {
                const std::int64_t i = dev::kv_slot_index(l, slot, h, d);
                ASSERT_GE(i, 0);
                ASSERT_LT(i, dev::kv_layer_elems(l));
                ASSERT_TRUE(seen.insert(i).second);
                if (d > 0) {
                    ASSERT_EQ(i, dev::kv_slot_index(l, slot, h, d - 1) + 1); // rows contiguous
                }
            }
        }
    }
    const std::int32_t table[] = {3, 1, 4};
    for (int pos = 0; pos < 48; ++pos) {
        EXPECT_EQ(dev::kv_pos_index(l, table, pos, 2, 5),
                  dev::kv_slot_index(l, table[pos / 16] * 16 + pos % 16, 2, 5));
    }
}

TEST(CudaHelpers, KeySplitsCoverEveryKeyOnceInWholeTiles) {
    for (int n = 0; n <= 300; ++n) {
        for (int splits = 1; splits <= kAttnMaxSplits + 1; ++splits) {
            int next = 0;
            for (int s = 0; s < splits; ++s) {
                const dev::KeyRange r = dev::split_keys(n, splits, s, kAttnKeyTile);
                if (r.begin >= r.end) {
                    continue;
                }
                ASSERT_EQ(r.begin, next) << n << " " << splits;
                ASSERT_EQ(r.begin % kAttnKeyTile, 0);
                next = r.end;
            }
            ASSERT_EQ(next, n) << n << " " << splits;
        }
    }
}

TEST(CudaHelpers, SoftmaxMergeOfAnySplitEqualsOnePass) {
    std::mt19937 rng(29);
    for (int trial = 0; trial < 200; ++trial) {
        const int n = 1 + static_cast<int>(rng() % 90);
        const auto s = random_row(rng, static_cast<std::size_t>(n), 4.0f);
        const auto v = random_row(rng, static_cast<std::size_t>(n), 1.0f);
        const double m = *std::max_element(s.begin(), s.end());
        double num = 0.0;
        double den = 0.0;
        for (int i = 0; i < n; ++i) {
            num += std::exp(s[i] - m) * v[i];
            den += std::exp(s[i] - m);
        }
        // Random cut points (empty parts included), parts merged in a shuffled order.
        std::vector<int> cuts = {0, n};
        for (int c = 0; c < 4; ++c) {
            cuts.push_back(static_cast<int>(rng() % static_cast<unsigned>(n + 1)));
        }
        std::sort(cuts.begin(), cuts.end());
        std::vector<std::pair<dev::SoftmaxState, float>> parts;
        for (std::size_t c = 0; c + 1 < cuts.size(); ++c) {
            dev::SoftmaxState st{-INFINITY, 0.0f};
            float acc = 0.0f;
            for (int i = cuts[c]; i < cuts[c + 1]; ++i) {
                st.m = std::max(st.m, s[i]);
            }
            for (int i = cuts[c]; i < cuts[c + 1]; ++i) {
                st.l += std::exp(s[i] - st.m);
                acc += std::exp(s[i] - st.m) * v[i];
            }
            parts.emplace_back(st, acc);
        }
        std::shuffle(parts.begin(), parts.end(), rng);
        dev::SoftmaxState st{-INFINITY, 0.0f};
        float acc = 0.0f;
        for (const auto& [ps, pa] : parts) {
            const dev::MergeFactors f = dev::softmax_merge(st, ps);
            acc = acc * f.fa + pa * f.fb;
        }
        EXPECT_NEAR(acc / st.l, num / den, 1e-5 * (1.0 + std::fabs(num / den))) << trial;
    }
}

TEST(CudaHelpers, AttentionPlanCoversEveryQueryRowOnce) {
    const std::vector<std::int32_t> tokens = {1, 3, 40, 1, 2};
    for (int group : {1, 4, 8, 16}) {
        const int n_kv = 2;
        const AttnPlan p = plan_attention(tokens, n_kv, group);
        std::set<std::tuple<int, int, int>> rows;
        int last_seq = -1;
        for (const auto* list : {&p.small, &p.large}) {
            last_seq = -1;
            for (const AttnItem& it : *list) {
                ASSERT_GE(it.seq, last_seq); // sequence order
                last_seq = it.seq;
                ASSERT_GT(it.rows, 0);
                ASSERT_LE(it.rows, list == &p.small ? kAttnSmallRows : kAttnTileRows);
                for (int r = 0; r < it.rows; ++r) {
                    ASSERT_TRUE(rows.insert({it.seq, it.kv_head, it.row0 + r}).second);
                }
            }
        }
        std::size_t expect = 0;
        for (auto t : tokens) {
            expect += static_cast<std::size_t>(t * group * n_kv);
        }
        EXPECT_EQ(rows.size(), expect);
        int token = 0;
        int head = 0;
        dev::attn_row(2 * group + 1 % group, group, 1, token, head);
        EXPECT_EQ(token, 2);
        EXPECT_EQ(head, group + 1 % group);
    }
}

TEST(CudaHelpers, DecodeBucketsSplitsAndWorkspaceLayout) {
    int prev = 0;
    for (int n = 1; n <= 128; ++n) {
        const int b = decode_bucket(n);
        ASSERT_GE(b, n);
        ASSERT_GE(b, prev);
        prev = b;
    }
    EXPECT_EQ(decode_bucket(0), 0);
    EXPECT_EQ(decode_bucket(129), 0);
    for (int items = 1; items < 5000; items += 7) {
        const int s = attention_splits(items, 108);
        ASSERT_GE(s, 1);
        ASSERT_LE(s, kAttnMaxSplits);
        ASSERT_TRUE(s == kAttnMaxSplits || items * s >= 2 * 108 || s == 1);
    }
    for (int block : {32, 256}) {
        const ActQ8Layout l = act_q8_layout(37, 4096, block);
        EXPECT_GE(l.d, 37u * 4096u);
        EXPECT_GE(l.sums, l.d + 37u * (4096u / static_cast<unsigned>(block)) * 4u);
        EXPECT_GE(l.bytes, l.sums + (block == 256 ? 37u * 256u * 4u : 0u));
        EXPECT_EQ(l.d % 256, 0u);
        EXPECT_EQ(l.sums % 256, 0u);
    }
}

/// The kernel's fragment loads and epilogue against the PTX definition of
/// mma.m16n8k32 / m16n8k16 (.s8): A row-major 16 x K, B K x 8, C 16 x 8 int32.
void check_mma(int kdim) {
    std::mt19937 rng(31 + static_cast<unsigned>(kdim));
    std::uniform_int_distribution<int> q(-128, 127);
    constexpr int kStride = 48; // a padded shared-memory row
    std::int8_t a[16][kStride] = {};
    std::int8_t b[8][kStride] = {};
    for (auto& row : a) {
        for (int k = 0; k < kdim; ++k) {
            row[k] = static_cast<std::int8_t>(q(rng));
        }
    }
    for (auto& col : b) {
        for (int k = 0; k < kdim; ++k) {
            col[k] = static_cast<std::int8_t>(q(rng));
        }
    }
    const int n_a = kdim / 8; // A registers per lane
    const int n_b = kdim / 16;
    // What each lane loads (the kernel's loads through mma_layout.h).
    std::uint32_t areg[32][4] = {};
    std::uint32_t breg[32][2] = {};
    for (int lane = 0; lane < 32; ++lane) {
        for (int r = 0; r < n_a; ++r) {
            std::memcpy(&areg[lane][r], &a[dev::mma_a_row(lane, r)][dev::mma_a_k(lane, r)], 4);
        }
        for (int r = 0; r < n_b; ++r) {
            std::memcpy(&breg[lane][r], &b[dev::mma_b_col(lane)][dev::mma_b_k(lane, r)], 4);
        }
    }
    // The hardware's view of the registers, transcribed from the PTX ISA fragment tables.
    int ahw[16][32] = {};
    int bhw[32][8] = {};
    for (int lane = 0; lane < 32; ++lane) {
        const int g = lane >> 2;
        const int t = lane % 4;
        for (int i = 0; i < 4 * n_a; ++i) {
            const int row =
                kdim == 32 ? ((i < 4 || (i >= 8 && i < 12)) ? g : g + 8) : (i < 4 ? g : g + 8);
            const int col = kdim == 32 ? (t * 4) + (i & 3) + (i >= 8 ? 16 : 0) : (t * 4) + (i & 3);
            ahw[row][col] = static_cast<std::int8_t>(areg[lane][i / 4] >> (8 * (i % 4)));
        }
        for (int i = 0; i < 4 * n_b; ++i) {
            const int row = (t * 4) + (i & 3) + (i >= 4 ? 16 : 0);
            bhw[row][g] = static_cast<std::int8_t>(breg[lane][i / 4] >> (8 * (i % 4)));
        }
    }
    // D = A B as the hardware computes it, handed back per the accumulator table, then placed by
    // the kernel's epilogue maps: it must be the product of the tiles in shared memory.
    for (int lane = 0; lane < 32; ++lane) {
        const int g = lane >> 2;
        const int t = lane % 4;
        for (int i = 0; i < 4; ++i) {
            const int hw_row = i < 2 ? g : g + 8;
            const int hw_col = t * 2 + (i & 1);
            int d = 0;
            for (int k = 0; k < kdim; ++k) {
                d += ahw[hw_row][k] * bhw[k][hw_col];
            }
            const int row = dev::mma_c_row(lane, i);
            const int col = dev::mma_c_col(lane, i);
            int want = 0;
            for (int k = 0; k < kdim; ++k) {
                want += a[row][k] * b[col][k];
            }
            ASSERT_EQ(d, want) << "k" << kdim << " lane " << lane << " element " << i;
        }
    }
}

TEST(CudaHelpers, MmaFragmentMapsReproduceTheTileProduct) {
    check_mma(32);
    check_mma(16);
}

TEST(CudaHelpers, PackedByteHelpers) {
    std::mt19937 rng(37);
    std::uniform_int_distribution<int> byte(-128, 127);
    for (int i = 0; i < 1000; ++i) {
        const int v[4] = {byte(rng), byte(rng), byte(rng), byte(rng)};
        const int w[4] = {byte(rng), byte(rng), byte(rng), byte(rng)};
        const int a = dev::pack4(v[0], v[1], v[2], v[3]);
        const int b = dev::pack4(w[0], w[1], w[2], w[3]);
        EXPECT_EQ(dev::dp4a(a, b, 5), 5 + v[0] * w[0] + v[1] * w[1] + v[2] * w[2] + v[3] * w[3]);
        const int m = dev::nibbles_minus8(a);
        for (int k = 0; k < 4; ++k) {
            EXPECT_EQ(static_cast<std::int8_t>(m >> (8 * k)), (v[k] & 0xF) - 8);
        }
    }
}

} // namespace
} // namespace agentd::inference::cuda
