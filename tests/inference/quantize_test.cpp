// Reference quantisers, block layouts and half/bfloat16 conversions.
#include "agentd/inference/errc.h"
#include "agentd/inference/quantize.h"

#include "quant/block_formats.h"

#include <gtest/gtest.h>

#include <cpuid.h>
#include <immintrin.h>

#include <cmath>
#include <cstring>
#include <random>

namespace agentd::inference {
namespace {

std::vector<float> random_values(std::size_t n, std::uint32_t seed, float scale = 1.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> v(n);
    for (auto& x : v) {
        x = dist(rng);
    }
    return v;
}

__attribute__((target("f16c"))) std::uint16_t hw_fp16(float f) {
    return static_cast<std::uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
}

// CPUID leaf 1, ECX bit 29 (clang's __builtin_cpu_supports does not know "f16c").
bool has_f16c() {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    return __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
}

__attribute__((target("f16c"))) float hw_fp32(std::uint16_t h) {
    return _cvtsh_ss(h);
}

TEST(Fp16, EveryHalfRoundTripsAndMatchesF16c) {
    if (!has_f16c()) {
        GTEST_SKIP() << "no F16C on this CPU";
    }
    for (std::uint32_t h = 0; h < 65536; ++h) {
        const float f = fp16_to_fp32(static_cast<std::uint16_t>(h));
        const float hw = hw_fp32(static_cast<std::uint16_t>(h));
        if (std::isnan(hw)) {
            EXPECT_TRUE(std::isnan(f)) << h;
            continue;
        }
        ASSERT_EQ(std::memcmp(&f, &hw, 4), 0) << h;
        ASSERT_EQ(fp32_to_fp16(f), h) << h;
    }
}

TEST(Fp16, RoundingMatchesF16cOnEdgeAndRandomValues) {
    if (!has_f16c()) {
        GTEST_SKIP() << "no F16C on this CPU";
    }
    std::mt19937 rng(7);
    std::uniform_int_distribution<std::uint32_t> bits;
    std::vector<float> values = {0.0f,     -0.0f,    65504.0f, 65519.99f, 65520.0f, 1e-8f,
                                 2.98e-8f, 5.96e-8f, 6.1e-5f,  1e30f,     -1e30f,   0.33333f};
    for (int i = 0; i < 200000; ++i) {
        std::uint32_t u = bits(rng);
        float f;
        std::memcpy(&f, &u, 4);
        if (!std::isnan(f)) {
            values.push_back(f);
        }
    }
    for (float f : values) {
        ASSERT_EQ(fp32_to_fp16(f), hw_fp16(f)) << f;
    }
}

TEST(Bf16, RoundsToNearestEven) {
    EXPECT_EQ(fp32_to_bf16(1.0f), 0x3F80);
    float f;
    std::uint32_t u = 0x3F808000u; // exactly half way, even below: stays
    std::memcpy(&f, &u, 4);
    EXPECT_EQ(fp32_to_bf16(f), 0x3F80);
    u = 0x3F818000u; // half way, odd below: rounds up
    std::memcpy(&f, &u, 4);
    EXPECT_EQ(fp32_to_bf16(f), 0x3F82);
    EXPECT_EQ(bf16_to_fp32(0x4040), 3.0f);
    EXPECT_TRUE(std::isnan(bf16_to_fp32(fp32_to_bf16(std::nanf("")))));
}

TEST(BlockLayout, Q4_0NibbleOrder) {
    quant::BlockQ4_0 b{};
    b.d = fp32_to_fp16(0.5f);
    b.qs[0] = 0x21; // element 0: 1 - 8, element 16: 2 - 8
    b.qs[15] = 0xF0;
    std::vector<std::uint8_t> bytes(sizeof b);
    std::memcpy(bytes.data(), &b, sizeof b);
    auto x = dequantize(TensorType::q4_0, bytes, 32).value();
    EXPECT_EQ(x[0], -3.5f);
    EXPECT_EQ(x[16], -3.0f);
    EXPECT_EQ(x[15], -4.0f);
    EXPECT_EQ(x[31], 3.5f);
}

TEST(BlockLayout, Q4KScalesMinsAndNibbles) {
    quant::BlockQ4K b{};
    b.d = fp32_to_fp16(1.0f);
    b.dmin = fp32_to_fp16(0.25f);
    // sub-block 0: sc 3, m 4; sub-block 5: sc 37 (0b100101), m 50 (0b110010)
    b.scales[0] = 3;
    b.scales[4] = 4;
    b.scales[1] = static_cast<std::uint8_t>((37 >> 4) << 6); // high bits of sc5 in byte 1
    b.scales[5] = static_cast<std::uint8_t>((50 >> 4) << 6); // high bits of m5 in byte 5
    b.scales[9] = static_cast<std::uint8_t>((37 & 0xF) | ((50 & 0xF) << 4));
    b.qs[0] = 0x52;  // element 0 (sub-block 0): 2; element 32 (sub-block 1): 5
    b.qs[64] = 0x70; // element 160 (sub-block 5, high nibble of chunk 2): 7
    std::vector<std::uint8_t> bytes(sizeof b);
    std::memcpy(bytes.data(), &b, sizeof b);
    auto x = dequantize(TensorType::q4_k, bytes, 256).value();
    EXPECT_EQ(x[0], 3.0f * 2.0f - 0.25f * 4.0f);
    EXPECT_EQ(x[160], 37.0f * 7.0f - 0.25f * 50.0f);
    EXPECT_EQ(x[32], 0.0f); // sub-block 1 has scale 0 and min 0
}

TEST(BlockLayout, Q6KElementOrder) {
    quant::BlockQ6K b{};
    b.d = fp32_to_fp16(1.0f);
    for (int g = 0; g < 16; ++g) {
        b.scales[g] = static_cast<std::int8_t>(g + 1);
    }
    // element 200 = half 1, quarter 2 (r = 72), l = 8: high nibble of ql[64 + 8], qh[32 + 8]
    // bits 4..5
    b.ql[72] = 0x90;
    b.qh[40] = 0x20;
    std::vector<std::uint8_t> bytes(sizeof b);
    std::memcpy(bytes.data(), &b, sizeof b);
    auto x = dequantize(TensorType::q6_k, bytes, 256).value();
    // q = 9 | (2 << 4) = 41 -> 41 - 32 = 9, scale of group 200 / 16 = 12 is 13
    EXPECT_EQ(x[200], 13.0f * 9.0f);
    // element 8 of half 0 (quarter 0): ql[8] low nibble 0, qh[8] bits 0..1 = 0 -> -32 * scale 1
    EXPECT_EQ(x[8], -32.0f);
}

struct Bound {
    TensorType type;
    std::int64_t row;
    double rel; // max error relative to the row's max |x|
};

class RoundTrip : public ::testing::TestWithParam<Bound> {};

TEST_P(RoundTrip, ErrorWithinTheFormatsResolution) {
    const Bound b = GetParam();
    const auto x = random_values(static_cast<std::size_t>(b.row * 3), 11);
    const auto q = quantize(b.type, x, b.row).value();
    EXPECT_EQ(q.size(), *row_bytes(b.type, b.row) * 3);
    const auto y = dequantize(b.type, q, b.row * 3).value();
    const std::int64_t block = type_traits(b.type).block_elems;
    for (std::size_t i0 = 0; i0 < x.size(); i0 += static_cast<std::size_t>(block)) {
        double amax = 0;
        for (std::int64_t i = 0; i < block; ++i) {
            amax = std::max(amax, std::fabs(static_cast<double>(x[i0 + i])));
        }
        for (std::int64_t i = 0; i < block; ++i) {
            ASSERT_LE(std::fabs(x[i0 + i] - y[i0 + i]), b.rel * amax + 1e-7)
                << type_traits(b.type).name << " at " << i0 + i;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(
    Types, RoundTrip,
    ::testing::Values(Bound{TensorType::f32, 64, 0.0}, Bound{TensorType::f16, 33, 1e-3},
                      Bound{TensorType::bf16, 33, 8e-3}, Bound{TensorType::q8_0, 96, 0.0045},
                      Bound{TensorType::q4_0, 64, 0.126}, Bound{TensorType::q4_k, 512, 0.2},
                      Bound{TensorType::q6_k, 256, 0.04}));

TEST(Quantize, RejectsRowsThatAreNotWholeBlocks) {
    std::vector<float> x(100, 1.0f);
    auto r = quantize(TensorType::q8_0, x, 50);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, make_error_code(errc::invalid_argument));
    EXPECT_FALSE(quantize(TensorType::q4_k, std::vector<float>(512, 0.0f), 128));
    EXPECT_FALSE(quantize(TensorType::f32, x, 33));
    EXPECT_FALSE(dequantize(TensorType::q8_0, std::vector<std::uint8_t>(33), 32));
}

TEST(Quantize, ZeroBlocksStayZero) {
    std::vector<float> x(256, 0.0f);
    for (auto t : {TensorType::q8_0, TensorType::q4_0, TensorType::q4_k, TensorType::q6_k}) {
        auto y = dequantize(t, quantize(t, x, 256).value(), 256).value();
        for (float v : y) {
            ASSERT_EQ(v, 0.0f) << type_traits(t).name;
        }
    }
}

TEST(TensorType, TraitsAndLookups) {
    EXPECT_EQ(type_traits(TensorType::q4_k).block_bytes, 144);
    EXPECT_EQ(type_traits(TensorType::q6_k).block_bytes, 210);
    EXPECT_EQ(tensor_type_from_id(8), TensorType::q8_0);
    EXPECT_FALSE(tensor_type_from_id(3)); // Q4_1 is not supported
    EXPECT_EQ(tensor_type_from_name("Q4_K"), TensorType::q4_k);
    EXPECT_EQ(row_bytes(TensorType::q8_0, 64), 68u);
    EXPECT_FALSE(row_bytes(TensorType::q8_0, 65));
    EXPECT_FALSE(row_bytes(TensorType::q4_k, -256));
}

} // namespace
} // namespace agentd::inference
