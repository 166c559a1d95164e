#pragma once
/// Arithmetic the CUDA kernels share with the host: IEEE half / bfloat16 conversions, the Q8
/// activation quantisers, weight dequantisation and unpacking of every block type, packed int8
/// dot products, RoPE angles, the paged KV index, attention key splits and online-softmax merges.
///
/// Every function is `AGENTD_HD`: nvcc compiles it for host and device, the host compiler as a
/// plain inline function, so tests/inference/cuda_helpers_test.cpp checks on any machine that
/// each one reproduces the CPU backend's reference (quant/, backend/cpu/) — bit for bit where
/// the CPU oracle defines the rounding (quantisers, dequantisers, conversions). Device code uses
/// the `*_rn` intrinsics wherever the host would not fuse a multiply and an add, so nvcc's FMA
/// contraction cannot make the two differ.
///
/// Pure functions of their arguments: thread-safe, no errors (shapes are the callers' checks).

#include "agentd/inference/tensor_type.h"

#include "quant/block_formats.h"

#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define AGENTD_HD __host__ __device__ __forceinline__
#else
#include <algorithm>
#include <cmath>
#define AGENTD_HD inline
#endif

namespace agentd::inference::cuda::dev {

// ---- scalar helpers ----

AGENTD_HD float bits_to_float(std::uint32_t b) {
#if defined(__CUDA_ARCH__)
    return __uint_as_float(b);
#else
    float f;
    std::memcpy(&f, &b, sizeof f);
    return f;
#endif
}

AGENTD_HD std::uint32_t float_to_bits(float f) {
#if defined(__CUDA_ARCH__)
    return __float_as_uint(f);
#else
    std::uint32_t b;
    std::memcpy(&b, &f, sizeof b);
    return b;
#endif
}

/// a * b rounded once (never fused into a following add by the device compiler).
AGENTD_HD float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
    return __fmul_rn(a, b);
#else
    return a * b;
#endif
}

AGENTD_HD float add_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
    return __fadd_rn(a, b);
#else
    return a + b;
#endif
}

AGENTD_HD float sub_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
    return __fsub_rn(a, b);
#else
    return a - b;
#endif
}

AGENTD_HD float fmax_f(float a, float b) {
#if defined(__CUDA_ARCH__)
    return fmaxf(a, b);
#else
    return std::fmax(a, b);
#endif
}

AGENTD_HD float fabs_f(float a) {
#if defined(__CUDA_ARCH__)
    return fabsf(a);
#else
    return std::fabs(a);
#endif
}

AGENTD_HD int min_i(int a, int b) {
    return a < b ? a : b;
}

AGENTD_HD int max_i(int a, int b) {
    return a > b ? a : b;
}

/// Rounds to the nearest integer, ties to even (quant::round_even on the host; exact for |v| <
/// 2^22, the range every caller stays in).
AGENTD_HD int round_even(float v) {
#if defined(__CUDA_ARCH__)
    return __float2int_rn(v);
#else
    const float magic = 12582912.0f;
    const float t = v + magic;
    return static_cast<int>(t - magic);
#endif
}

/// Sum of the four signed byte products of a and b, plus c (the dp4a instruction).
AGENTD_HD int dp4a(int a, int b, int c) {
#if defined(__CUDA_ARCH__)
    return __dp4a(a, b, c);
#else
    for (int i = 0; i < 4; ++i) {
        const auto x = static_cast<std::int8_t>(static_cast<std::uint32_t>(a) >> (8 * i));
        const auto y = static_cast<std::int8_t>(static_cast<std::uint32_t>(b) >> (8 * i));
        c += static_cast<int>(x) * static_cast<int>(y);
    }
    return c;
#endif
}

/// Four bytes as one int (little-endian, as a 32-bit load of them would give).
AGENTD_HD int pack4(int b0, int b1, int b2, int b3) {
    return static_cast<int>((static_cast<std::uint32_t>(b0) & 0xFFu) |
                            ((static_cast<std::uint32_t>(b1) & 0xFFu) << 8) |
                            ((static_cast<std::uint32_t>(b2) & 0xFFu) << 16) |
                            ((static_cast<std::uint32_t>(b3) & 0xFFu) << 24));
}

// ---- half and bfloat16 (the same bit manipulations as quant/block_formats.h) ----

AGENTD_HD float half_to_float(std::uint16_t h) {
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
    const std::uint32_t exp = (h >> 10) & 0x1Fu;
    std::uint32_t mant = h & 0x3FFu;
    std::uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {
            int e = -1;
            do {
                ++e;
                mant <<= 1;
            } while ((mant & 0x400u) == 0);
            bits = sign | (static_cast<std::uint32_t>(112 - e) << 23) | ((mant & 0x3FFu) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7F800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 112) << 23) | (mant << 13);
    }
    return bits_to_float(bits);
}

AGENTD_HD std::uint16_t float_to_half(float f) {
    const std::uint32_t x = float_to_bits(f);
    const std::uint32_t sign = (x >> 16) & 0x8000u;
    const std::uint32_t abs = x & 0x7FFFFFFFu;
    if (abs > 0x7F800000u) {
        return static_cast<std::uint16_t>(sign | 0x7E00u | ((abs >> 13) & 0x3FFu));
    }
    if (abs >= 0x477FF000u) {
        return static_cast<std::uint16_t>(sign | 0x7C00u);
    }
    if (abs < 0x38800000u) {
        if (abs < 0x33000000u) {
            return static_cast<std::uint16_t>(sign);
        }
        const std::uint32_t e = abs >> 23;
        const std::uint32_t mant = (abs & 0x7FFFFFu) | 0x800000u;
        const std::uint32_t shift = 126 - e;
        std::uint32_t q = mant >> shift;
        const std::uint32_t rem = mant & ((1u << shift) - 1);
        const std::uint32_t halfway = 1u << (shift - 1);
        if (rem > halfway || (rem == halfway && (q & 1u))) {
            ++q;
        }
        return static_cast<std::uint16_t>(sign | q);
    }
    std::uint32_t v = abs - 0x38000000u;
    const std::uint32_t rem = v & 0x1FFFu;
    v >>= 13;
    if (rem > 0x1000u || (rem == 0x1000u && (v & 1u))) {
        ++v;
    }
    return static_cast<std::uint16_t>(sign | v);
}

AGENTD_HD float bf16_to_float(std::uint16_t h) {
    return bits_to_float(static_cast<std::uint32_t>(h) << 16);
}

AGENTD_HD std::uint16_t float_to_bf16(float f) {
    const std::uint32_t x = float_to_bits(f);
    if ((x & 0x7FFFFFFFu) > 0x7F800000u) {
        return static_cast<std::uint16_t>((x >> 16) | 64u);
    }
    return static_cast<std::uint16_t>((x + (0x7FFFu + ((x >> 16) & 1u))) >> 16);
}

// ---- activation quantisers (the CPU backend's ActKind q8_0 / q4_0 and q8_k) ----

/// Q8 blocks of 32 (pairing with Q8_0 and Q4_0 weights): from the block's max |x|, the scale d
/// stored with the block (fp16-rounded, as ggml's block_q8_0) and the multiplier quants use.
struct Q8Scale {
    float d;
    float id;
};

AGENTD_HD Q8Scale q8_scale(float amax) {
    const float d = half_to_float(float_to_half(amax / 127.0f));
    return {d, amax != 0.0f ? 127.0f / amax : 0.0f};
}

AGENTD_HD int q8_quant(float x, float id) {
    return round_even(mul_rn(x, id));
}

/// Quantises one block of 32 (sequentially; kernels spread the same steps over a warp).
AGENTD_HD float quantize_q8_block(const float* x, std::int8_t* q) {
    float amax = 0.0f;
    for (int i = 0; i < 32; ++i) {
        amax = fmax_f(amax, fabs_f(x[i]));
    }
    const Q8Scale s = q8_scale(amax);
    for (int i = 0; i < 32; ++i) {
        q[i] = static_cast<std::int8_t>(q8_quant(x[i], s.id));
    }
    return s.d;
}

/// Q8_K blocks of 256 (pairing with Q4_K and Q6_K weights), as ggml's reference: the element of
/// largest |x| (the first one on ties) maps to -127.
struct Q8KScale {
    float iscale; ///< multiplier of the quants (0 for an all-zero block)
    float d;      ///< the block's scale (1 / iscale; 0 for an all-zero block)
};

AGENTD_HD Q8KScale q8k_scale(float signed_max, float amax) {
    if (amax == 0.0f) {
        return {0.0f, 0.0f};
    }
    const float iscale = -127.0f / signed_max;
    return {iscale, 1.0f / iscale};
}

AGENTD_HD int q8k_quant(float x, float iscale) {
    return min_i(127, round_even(mul_rn(iscale, x)));
}

/// The running "largest |x|, first index on ties" of a Q8_K block; kernels reduce partial
/// results of each lane with absmax_combine, which gives the sequential scan's answer whatever
/// the reduction order.
struct AbsMax {
    float amax;
    float value; ///< the signed element with that |x|
    int index;
};

AGENTD_HD AbsMax absmax_combine(const AbsMax& a, const AbsMax& b) {
    if (b.amax > a.amax || (b.amax == a.amax && b.index < a.index && b.amax > 0.0f)) {
        return b;
    }
    return a;
}

/// Quantises one block of 256 sequentially: quants, d, and the sums of each 16 quants.
AGENTD_HD float quantize_q8k_block(const float* x, std::int8_t* q, int* bsums) {
    float amax = 0.0f;
    float max = 0.0f;
    for (int i = 0; i < 256; ++i) {
        const float ax = fabs_f(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    const Q8KScale s = q8k_scale(max, amax);
    for (int g = 0; g < 16; ++g) {
        int sum = 0;
        for (int i = 16 * g; i < 16 * g + 16; ++i) {
            q[i] = static_cast<std::int8_t>(amax == 0.0f ? 0 : q8k_quant(x[i], s.iscale));
            sum += q[i];
        }
        bsums[g] = sum;
    }
    return s.d;
}

// ---- weight blocks ----

/// Sub-block j (0..7) scale and min of a Q4_K block's packed `scales`.
AGENTD_HD void q4k_scale_min(int j, const std::uint8_t* q, int& sc, int& m) {
    if (j < 4) {
        sc = q[j] & 63;
        m = q[j + 4] & 63;
    } else {
        sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

/// Element e (0..255) of a Q4_K block as its 4-bit quant.
AGENTD_HD int q4k_quant(const quant::BlockQ4K& b, int e) {
    return (b.qs[32 * (e / 64) + e % 32] >> (4 * ((e / 32) & 1))) & 0xF;
}

/// Element e (0..255) of a Q6_K block as the unsigned 6-bit value (0..63; subtract 32).
AGENTD_HD int q6k_quant(const quant::BlockQ6K& b, int e) {
    const int half = e / 128;
    const int r = e % 128;
    const int quarter = r / 32;
    const int l = r % 32;
    const std::uint8_t* ql = b.ql + 64 * half;
    const std::uint8_t* qh = b.qh + 32 * half;
    const int lo = (quarter & 1) ? ql[l + 32] : ql[l];
    const int low4 = (quarter < 2) ? (lo & 0xF) : (lo >> 4);
    const int high2 = (qh[l] >> (2 * quarter)) & 3;
    return low4 | (high2 << 4);
}

/// Element i of a weight row of `type` as float, exactly as the CPU backend's dequantisers
/// (quant/quantize_ref.cpp) compute it.
AGENTD_HD float dequant(const std::uint8_t* row, TensorType type, std::int64_t i) {
    switch (type) {
    case TensorType::f32:
        return reinterpret_cast<const float*>(row)[i];
    case TensorType::f16:
        return half_to_float(reinterpret_cast<const std::uint16_t*>(row)[i]);
    case TensorType::bf16:
        return bf16_to_float(reinterpret_cast<const std::uint16_t*>(row)[i]);
    case TensorType::q8_0: {
        const auto& b = reinterpret_cast<const quant::BlockQ8_0*>(row)[i / 32];
        return mul_rn(half_to_float(b.d), static_cast<float>(b.qs[i % 32]));
    }
    case TensorType::q4_0: {
        const auto& b = reinterpret_cast<const quant::BlockQ4_0*>(row)[i / 32];
        const int j = static_cast<int>(i % 32);
        const int q = j < 16 ? (b.qs[j] & 0xF) : (b.qs[j - 16] >> 4);
        return mul_rn(half_to_float(b.d), static_cast<float>(q - 8));
    }
    case TensorType::q4_k: {
        const auto& b = reinterpret_cast<const quant::BlockQ4K*>(row)[i / 256];
        const int e = static_cast<int>(i % 256);
        int sc = 0;
        int m = 0;
        q4k_scale_min(e / 32, b.scales, sc, m);
        const float d = mul_rn(half_to_float(b.d), static_cast<float>(sc));
        const float o = mul_rn(half_to_float(b.dmin), static_cast<float>(m));
        return sub_rn(mul_rn(d, static_cast<float>(q4k_quant(b, e))), o);
    }
    case TensorType::q6_k: {
        const auto& b = reinterpret_cast<const quant::BlockQ6K*>(row)[i / 256];
        const int e = static_cast<int>(i % 256);
        const float d = mul_rn(half_to_float(b.d), static_cast<float>(b.scales[e / 16]));
        return mul_rn(d, static_cast<float>(q6k_quant(b, e) - 32));
    }
    case TensorType::i32:
        break;
    }
    return 0.0f;
}

/// Four 4-bit values (the low nibble of each byte of `word`) minus 8, as four signed bytes.
AGENTD_HD int nibbles_minus8(int word) {
#if defined(__CUDA_ARCH__)
    return static_cast<int>(__vsub4(static_cast<unsigned>(word) & 0x0F0F0F0Fu, 0x08080808u));
#else
    const auto w = static_cast<std::uint32_t>(word);
    return pack4(static_cast<int>(w & 0xF) - 8, static_cast<int>((w >> 8) & 0xF) - 8,
                 static_cast<int>((w >> 16) & 0xF) - 8, static_cast<int>((w >> 24) & 0xF) - 8);
#endif
}

/// Q4_0 block as 32 signed values q - 8, packed four per int (element order).
AGENTD_HD void unpack_q4_0(const quant::BlockQ4_0& b, int* out) {
    for (int i = 0; i < 4; ++i) {
        const int l = 4 * i;
        out[i] = pack4((b.qs[l] & 0xF) - 8, (b.qs[l + 1] & 0xF) - 8, (b.qs[l + 2] & 0xF) - 8,
                       (b.qs[l + 3] & 0xF) - 8);
        out[i + 4] = pack4((b.qs[l] >> 4) - 8, (b.qs[l + 1] >> 4) - 8, (b.qs[l + 2] >> 4) - 8,
                           (b.qs[l + 3] >> 4) - 8);
    }
}

/// Elements [32j + 4i, 32j + 4i + 4) of a Q4_K block (sub-block j, i < 8) as 4-bit quants
/// packed in one int.
AGENTD_HD int unpack_q4k4(const quant::BlockQ4K& b, int j, int i) {
    const std::uint8_t* q = b.qs + 32 * (j / 2) + 4 * i;
    const int shift = 4 * (j & 1);
    return pack4((q[0] >> shift) & 0xF, (q[1] >> shift) & 0xF, (q[2] >> shift) & 0xF,
                 (q[3] >> shift) & 0xF);
}

/// Elements [4i, 4i + 4) of a Q6_K block (i < 64) as signed values q - 32 packed in one int.
AGENTD_HD int unpack_q6k4(const quant::BlockQ6K& b, int i) {
    return pack4(q6k_quant(b, 4 * i) - 32, q6k_quant(b, 4 * i + 1) - 32,
                 q6k_quant(b, 4 * i + 2) - 32, q6k_quant(b, 4 * i + 3) - 32);
}

// ---- block loaders shared by the matrix kernels (register-sized pieces of weight blocks) ----

/// Four 32-bit words from 16 bytes at a 16-byte aligned address (one vector load on the device).
AGENTD_HD void load16_a16(const std::uint8_t* p, std::uint32_t (&w)[4]) {
#if defined(__CUDA_ARCH__)
    const uint4 v = *reinterpret_cast<const uint4*>(p);
    w[0] = v.x;
    w[1] = v.y;
    w[2] = v.z;
    w[3] = v.w;
#else
    std::memcpy(w, p, 16);
#endif
}

/// Four 32-bit words from 16 bytes at a 2-byte aligned address (eight 16-bit loads).
AGENTD_HD void load16_a2(const std::uint8_t* p, std::uint32_t (&w)[4]) {
    const auto* h = reinterpret_cast<const std::uint16_t*>(p);
    for (int i = 0; i < 4; ++i) {
        w[i] =
            static_cast<std::uint32_t>(h[2 * i]) | (static_cast<std::uint32_t>(h[2 * i + 1]) << 16);
    }
}

/// Block b of a Q8_0 row: the 32 quants as 8 ints (element order) and the scale.
AGENTD_HD float load_q8_0(const std::uint8_t* row, std::int64_t b, int (&q)[8]) {
    const std::uint8_t* blk = row + b * static_cast<std::int64_t>(sizeof(quant::BlockQ8_0));
    std::uint32_t w[4];
    load16_a2(blk + 2, w);
    for (int i = 0; i < 4; ++i) {
        q[i] = static_cast<int>(w[i]);
    }
    load16_a2(blk + 18, w);
    for (int i = 0; i < 4; ++i) {
        q[4 + i] = static_cast<int>(w[i]);
    }
    return half_to_float(*reinterpret_cast<const std::uint16_t*>(blk));
}

/// Block b of a Q4_0 row: the 32 values q - 8 as 8 ints (element order) and the scale.
AGENTD_HD float load_q4_0(const std::uint8_t* row, std::int64_t b, int (&q)[8]) {
    const std::uint8_t* blk = row + b * static_cast<std::int64_t>(sizeof(quant::BlockQ4_0));
    std::uint32_t w[4];
    load16_a2(blk + 2, w);
    for (int i = 0; i < 4; ++i) {
        q[i] = nibbles_minus8(static_cast<int>(w[i]));          // elements 4i..4i+3
        q[4 + i] = nibbles_minus8(static_cast<int>(w[i] >> 4)); // elements 16+4i..
    }
    return half_to_float(*reinterpret_cast<const std::uint16_t*>(blk));
}

/// Elements [32j + 16 part, 32j + 16 part + 16) of a Q4_K block (16-byte aligned) as 4-bit
/// quants, four per int.
AGENTD_HD void load_q4k_16(const quant::BlockQ4K& b, int j, int part, int (&q)[4]) {
    std::uint32_t w[4];
    load16_a16(b.qs + 32 * (j / 2) + 16 * part, w);
    const int shift = 4 * (j & 1);
    for (int i = 0; i < 4; ++i) {
        q[i] = static_cast<int>((w[i] >> shift) & 0x0F0F0F0Fu);
    }
}

/// Elements [16g, 16g + 16) of a Q6_K block (sub-block g, scale scales[g]) as signed values
/// q - 32, four per int.
AGENTD_HD void load_q6k_16(const quant::BlockQ6K& b, int g, int (&q)[4]) {
    const int half = g / 8;
    const int quarter = (g % 8) / 2;
    const int l0 = 16 * (g % 2);
    std::uint32_t lo[4];
    std::uint32_t hi[4];
    load16_a2(b.ql + 64 * half + ((quarter & 1) ? 32 : 0) + l0, lo);
    load16_a2(b.qh + 32 * half + l0, hi);
    const int lshift = quarter < 2 ? 0 : 4;
    for (int i = 0; i < 4; ++i) {
        const std::uint32_t low4 = (lo[i] >> lshift) & 0x0F0F0F0Fu;
        const std::uint32_t high2 = ((hi[i] >> (2 * quarter)) & 0x03030303u) << 4;
        const std::uint32_t v = low4 | high2; // 0..63 per byte
#if defined(__CUDA_ARCH__)
        q[i] = static_cast<int>(__vsub4(v, 0x20202020u));
#else
        q[i] = pack4(static_cast<int>(v & 0xFF) - 32, static_cast<int>((v >> 8) & 0xFF) - 32,
                     static_cast<int>((v >> 16) & 0xFF) - 32, static_cast<int>(v >> 24) - 32);
#endif
    }
}

// ---- RoPE ----

/// Per-call constants of the RoPE angle table (computed on the host from backend::RopeParams).
struct RopeConsts {
    int n_dims = 0;
    float theta_scale = 1.0f; ///< base^(-2 / n_dims)
    float freq_scale = 1.0f;
    float ext_factor = 0.0f;
    float corr0 = 0.0f; ///< YaRN correction range
    float corr1 = 0.0f;
    float mscale = 1.0f; ///< attn_factor, with YaRN's magnitude correction
};

/// cos and sin (times mscale) of every rotated pair for position `pos`: out[2i], out[2i + 1]
/// for i < n_dims / 2, with the float operations in the CPU backend's order.
AGENTD_HD void rope_angles(int pos, const RopeConsts& c, const float* freq_factors, float* out) {
    float theta = static_cast<float>(pos);
    for (int i0 = 0; i0 < c.n_dims; i0 += 2) {
        const float ff = freq_factors == nullptr ? 1.0f : freq_factors[i0 / 2];
        const float extrap = theta / ff;
        const float interp = mul_rn(c.freq_scale, extrap);
        float th = interp;
        if (c.ext_factor != 0.0f) {
            const float y = sub_rn(static_cast<float>(i0 / 2), c.corr0) /
                            fmax_f(0.001f, sub_rn(c.corr1, c.corr0));
            const float clamped = y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
            const float ramp = mul_rn(sub_rn(1.0f, clamped), c.ext_factor);
            th = add_rn(mul_rn(interp, sub_rn(1.0f, ramp)), mul_rn(extrap, ramp));
        }
#if defined(__CUDA_ARCH__)
        out[i0] = mul_rn(cosf(th), c.mscale);
        out[i0 + 1] = mul_rn(sinf(th), c.mscale);
#else
        out[i0] = std::cos(th) * c.mscale;
        out[i0 + 1] = std::sin(th) * c.mscale;
#endif
        theta = mul_rn(theta, c.theta_scale);
    }
}

/// The two elements of head-relative pair p (p < n_dims / 2) that RoPE rotates together:
/// adjacent ones (normal) or one from each half of the rotated dimensions (NeoX).
AGENTD_HD void rope_pair(bool neox, int n_dims, int p, int& a, int& b) {
    a = neox ? p : 2 * p;
    b = neox ? p + n_dims / 2 : 2 * p + 1;
}

// ---- paged KV cache ----

/// The device KV layout: per layer, K then V, each [n_blocks][n_kv_heads][block_size][head_dim]
/// (a token's head is head_dim contiguous elements, so attention reads whole key rows).
struct KvLayout {
    int n_blocks = 0;
    int block_size = 0;
    int n_kv_heads = 0;
    int head_dim = 0;
};

/// Elements of one layer's K (or V).
AGENTD_HD std::int64_t kv_layer_elems(const KvLayout& l) {
    return static_cast<std::int64_t>(l.n_blocks) * l.n_kv_heads * l.block_size * l.head_dim;
}

/// Element index (within one layer's K or V) of element d of KV head h of cache slot `slot`.
AGENTD_HD std::int64_t kv_slot_index(const KvLayout& l, std::int64_t slot, int h, int d) {
    const std::int64_t block = slot / l.block_size;
    const std::int64_t off = slot % l.block_size;
    return ((block * l.n_kv_heads + h) * l.block_size + off) * l.head_dim + d;
}

/// Element index of key position `pos` of a sequence whose block table is `table`.
AGENTD_HD std::int64_t kv_pos_index(const KvLayout& l, const std::int32_t* table, int pos, int h,
                                    int d) {
    const std::int64_t slot =
        static_cast<std::int64_t>(table[pos / l.block_size]) * l.block_size + pos % l.block_size;
    return kv_slot_index(l, slot, h, d);
}

// ---- attention ----

/// Query row r of a sequence's tile rows (token-major: r = token * group + head in group) as
/// the token offset in the sequence and the query head.
AGENTD_HD void attn_row(int r, int group, int kv_head, int& token, int& head) {
    token = r / group;
    head = kv_head * group + r % group;
}

/// Keys [begin, end) that split `split` of `n_splits` handles out of n_keys, in whole tiles of
/// `tile` keys; empty (begin >= end) when the split has nothing.
struct KeyRange {
    int begin;
    int end;
};

AGENTD_HD KeyRange split_keys(int n_keys, int n_splits, int split, int tile) {
    const int per_split = (n_keys + n_splits - 1) / n_splits;
    const int per = (per_split + tile - 1) / tile * tile;
    const int begin = split * per;
    return {begin, min_i(n_keys, begin + per)};
}

/// Online-softmax state of one query row: running max m, sum of exponentials l; the output
/// accumulator (sum of e^(s - m) v) is scaled along by the caller.
struct SoftmaxState {
    float m;
    float l;
};

AGENTD_HD float exp_f(float x) {
#if defined(__CUDA_ARCH__)
    return expf(x);
#else
    return std::exp(x);
#endif
}

/// Merges state b into a; returns the factors to scale a's and b's accumulators by. A state
/// with l == 0 (no keys) contributes nothing.
struct MergeFactors {
    float fa;
    float fb;
};

AGENTD_HD MergeFactors softmax_merge(SoftmaxState& a, const SoftmaxState& b) {
    if (b.l == 0.0f) {
        return {1.0f, 0.0f};
    }
    if (a.l == 0.0f) {
        a = b;
        return {0.0f, 1.0f};
    }
    const float m = fmax_f(a.m, b.m);
    const float fa = exp_f(a.m - m);
    const float fb = exp_f(b.m - m);
    a.l = a.l * fa + b.l * fb;
    a.m = m;
    return {fa, fb};
}

} // namespace agentd::inference::cuda::dev
