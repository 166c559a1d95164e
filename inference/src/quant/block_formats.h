#pragma once
/// Block layouts of the quantised weight types (the public ggml formats) and of the engine's own
/// activation formats, plus bit-exact scalar half/bfloat16 conversions.
///
/// This header is included by kernel translation units compiled with different instruction-set
/// flags, so every function here has internal linkage (`static inline`): one TU's AVX-512 copy
/// can never be picked by the linker for another TU.

#include <cstdint>
#include <cstring>

namespace agentd::inference::quant {

inline constexpr int kQk = 32;   // elements per Q4_0 / Q8_0 block
inline constexpr int kQkK = 256; // elements per K-quant super-block

/// Q8_0: x = d * q.
struct BlockQ8_0 {
    std::uint16_t d; // fp16
    std::int8_t qs[kQk];
};
static_assert(sizeof(BlockQ8_0) == 34);

/// Q4_0: x = d * (q - 8); element j (< 16) is the low nibble of qs[j], element j + 16 the high.
struct BlockQ4_0 {
    std::uint16_t d; // fp16
    std::uint8_t qs[kQk / 2];
};
static_assert(sizeof(BlockQ4_0) == 18);

/// Q4_K: 8 sub-blocks of 32, x = d * sc[j] * q - dmin * m[j]; sc and m are 6-bit values packed
/// in `scales` (see q4k_scale_min). Elements 64c..64c+31 are the low nibbles of qs[32c..32c+31],
/// 64c+32..64c+63 the high nibbles.
struct BlockQ4K {
    std::uint16_t d;    // fp16 scale of the sub-block scales
    std::uint16_t dmin; // fp16 scale of the sub-block mins
    std::uint8_t scales[12];
    std::uint8_t qs[kQkK / 2];
};
static_assert(sizeof(BlockQ4K) == 144);

/// Q6_K: 16 sub-blocks of 16, x = d * sc[e / 16] * (q - 32), q 6 bits: low 4 in ql, high 2 in qh
/// (layout in q6k_get).
struct BlockQ6K {
    std::uint8_t ql[kQkK / 2];
    std::uint8_t qh[kQkK / 4];
    std::int8_t scales[kQkK / 16];
    std::uint16_t d; // fp16
};
static_assert(sizeof(BlockQ6K) == 210);

/// Q8_K: the activation format for K-quant dot products (ggml's block_q8_K).
struct BlockQ8K {
    float d;
    std::int8_t qs[kQkK];
    std::int16_t bsums[kQkK / 16]; // sums of each group of 16 quants
};
static_assert(sizeof(BlockQ8K) == 292);

/// Sub-block j (0..7) scale and min of a Q4_K block.
static inline void q4k_scale_min(int j, const std::uint8_t* q, std::uint8_t& sc, std::uint8_t& m) {
    if (j < 4) {
        sc = q[j] & 63;
        m = q[j + 4] & 63;
    } else {
        sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

/// Element e (0..255) of a Q6_K block as the unsigned 6-bit value (0..63, subtract 32).
static inline int q6k_get(const BlockQ6K& b, int e) {
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

static inline float half_to_float(std::uint16_t h) {
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
    const std::uint32_t exp = (h >> 10) & 0x1Fu;
    std::uint32_t mant = h & 0x3FFu;
    std::uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else { // subnormal: normalise
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
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

static inline std::uint16_t float_to_half(float f) {
    std::uint32_t x;
    std::memcpy(&x, &f, sizeof x);
    const std::uint32_t sign = (x >> 16) & 0x8000u;
    const std::uint32_t abs = x & 0x7FFFFFFFu;
    if (abs > 0x7F800000u) { // NaN: keep it quiet and non-zero
        return static_cast<std::uint16_t>(sign | 0x7E00u | ((abs >> 13) & 0x3FFu));
    }
    if (abs >= 0x477FF000u) { // rounds to >= 65520: infinity
        return static_cast<std::uint16_t>(sign | 0x7C00u);
    }
    if (abs < 0x38800000u) { // below the smallest normal half: subnormal or zero
        if (abs < 0x33000000u) {
            return static_cast<std::uint16_t>(sign); // rounds to zero (ties to even)
        }
        const std::uint32_t e = abs >> 23;
        const std::uint32_t mant = (abs & 0x7FFFFFu) | 0x800000u;
        const std::uint32_t shift = 126 - e; // 14..24
        std::uint32_t q = mant >> shift;
        const std::uint32_t rem = mant & ((1u << shift) - 1);
        const std::uint32_t halfway = 1u << (shift - 1);
        if (rem > halfway || (rem == halfway && (q & 1u))) {
            ++q;
        }
        return static_cast<std::uint16_t>(sign | q);
    }
    // Normal: rebias and round the 13 dropped mantissa bits to nearest even.
    std::uint32_t v = abs - 0x38000000u;
    const std::uint32_t rem = v & 0x1FFFu;
    v >>= 13;
    if (rem > 0x1000u || (rem == 0x1000u && (v & 1u))) {
        ++v;
    }
    return static_cast<std::uint16_t>(sign | v);
}

static inline float bf16_to_float(std::uint16_t h) {
    const std::uint32_t bits = static_cast<std::uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

static inline std::uint16_t float_to_bf16(float f) {
    std::uint32_t x;
    std::memcpy(&x, &f, sizeof x);
    if ((x & 0x7FFFFFFFu) > 0x7F800000u) {
        return static_cast<std::uint16_t>((x >> 16) | 64u); // quiet NaN
    }
    return static_cast<std::uint16_t>((x + (0x7FFFu + ((x >> 16) & 1u))) >> 16);
}

/// Rounds to the nearest integer, ties to even (as the SIMD round instructions do).
static inline int round_even(float v) {
    // Adding and subtracting 1.5 * 2^23 rounds in the default SSE mode (nearest even); callers
    // keep |v| far below 2^22.
    const float magic = 12582912.0f;
    const float t = v + magic;
    return static_cast<int>(t - magic);
}

} // namespace agentd::inference::quant
