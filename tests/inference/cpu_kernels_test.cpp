// SIMD kernels against the scalar oracle: activation quantisers bit for bit, GEMMs within float
// rounding, on random data and odd shapes, for every weight type and every ISA this CPU has.
#include "agentd/inference/quantize.h"

#include "backend/cpu/isa/simd_decls.h"
#include "backend/cpu/kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>

namespace agentd::inference::cpu {
namespace {

std::vector<float> random_values(std::size_t n, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> v(n);
    for (auto& x : v) {
        x = dist(rng);
    }
    return v;
}

std::vector<Isa> simd_isas() {
    std::vector<Isa> out;
    for (Isa isa : {Isa::avx2, Isa::avx512}) {
        if (kernel_table(isa) != nullptr) {
            out.push_back(isa);
        }
    }
    return out;
}

std::vector<std::uint8_t> quantize_acts(const KernelTable& kt, ActKind kind,
                                        const std::vector<float>& x, std::int64_t rows,
                                        std::int64_t k) {
    const std::size_t rb = act_row_bytes(kind, k);
    std::vector<std::uint8_t> out(rb * static_cast<std::size_t>(rows) + 64, 0xCD);
    kt.quantize[static_cast<int>(kind)](x.data(), static_cast<std::size_t>(k), out.data(), rb, rows,
                                        k);
    out.resize(rb * static_cast<std::size_t>(rows));
    return out;
}

struct Shape {
    TensorType type;
    std::int64_t rows;
    std::int64_t k;
    std::int64_t tokens;
};

std::string shape_name(const ::testing::TestParamInfo<Shape>& info) {
    const Shape& s = info.param;
    return std::string(type_traits(s.type).name) + "_r" + std::to_string(s.rows) + "_k" +
           std::to_string(s.k) + "_t" + std::to_string(s.tokens);
}

class GemmVsScalar : public ::testing::TestWithParam<Shape> {};

TEST_P(GemmVsScalar, MatchesScalarOracle) {
    const Shape s = GetParam();
    const auto wf = random_values(static_cast<std::size_t>(s.rows * s.k), 1);
    auto xf = random_values(static_cast<std::size_t>(s.tokens * s.k), 2);
    xf[0] = 0.0f; // exercise an exact zero; an all-zero block is covered by the quantiser test
    const auto w = quantize(s.type, wf, s.k).value();
    const ActKind kind = act_kind_for(s.type);
    const KernelTable& scalar = *kernel_table(Isa::scalar);
    const auto act = quantize_acts(scalar, kind, xf, s.tokens, s.k);
    const std::size_t w_stride = *row_bytes(s.type, s.k);
    const std::size_t y_stride = static_cast<std::size_t>(s.rows) + 3;

    auto run = [&](const KernelTable& kt, bool accumulate, std::vector<float> y) {
        GemmArgs a{w.data(), w_stride, act.data(), act_row_bytes(kind, s.k),
                   y.data(), y_stride, s.k,        accumulate};
        kt.gemm[static_cast<int>(s.type)](a, 0, s.rows, 0, s.tokens);
        return y;
    };
    const std::vector<float> init(y_stride * static_cast<std::size_t>(s.tokens), 0.5f);
    const auto ref = run(scalar, false, init);
    const auto ref_acc = run(scalar, true, init);

    // Float reassociation error is bounded by the sum of |terms| of each dot product.
    const auto wd = dequantize(s.type, w, s.rows * s.k).value();
    std::vector<double> tols(static_cast<std::size_t>(s.rows * s.tokens));
    for (std::int64_t t = 0; t < s.tokens; ++t) {
        for (std::int64_t r = 0; r < s.rows; ++r) {
            double sum = 0;
            for (std::int64_t i = 0; i < s.k; ++i) {
                sum += std::fabs(static_cast<double>(wd[r * s.k + i]) * xf[t * s.k + i]);
            }
            tols[static_cast<std::size_t>(t * s.rows + r)] = 2e-6 * sum + 1e-6;
        }
    }
    auto tol_at = [&](std::int64_t t, std::int64_t r) {
        return r < s.rows ? tols[static_cast<std::size_t>(t * s.rows + r)] : 0.0;
    };
    for (Isa isa : simd_isas()) {
        const KernelTable& kt = *kernel_table(isa);
        // The quantisers must agree bit for bit with the scalar ones.
        const auto simd_act = quantize_acts(kt, kind, xf, s.tokens, s.k);
        ASSERT_EQ(simd_act, act) << kt.isa << " activation quantiser";
        const auto y = run(kt, false, init);
        const auto y_acc = run(kt, true, init);
        for (std::int64_t t = 0; t < s.tokens; ++t) {
            for (std::size_t r = 0; r < y_stride; ++r) {
                const std::size_t i = static_cast<std::size_t>(t) * y_stride + r;
                const double tol = tol_at(t, static_cast<std::int64_t>(r));
                ASSERT_NEAR(y[i], ref[i], tol) << kt.isa << " token " << t << " row " << r;
                ASSERT_NEAR(y_acc[i], ref_acc[i], tol) << kt.isa << " accumulate";
            }
        }
        // A sub-range of rows and tokens touches nothing outside it.
        std::vector<float> part(init);
        GemmArgs a{w.data(),    w_stride, act.data(), act_row_bytes(kind, s.k),
                   part.data(), y_stride, s.k,        false};
        if (s.rows > 2 && s.tokens > 1) {
            kt.gemm[static_cast<int>(s.type)](a, 1, s.rows - 1, 1, s.tokens);
            for (std::int64_t t = 0; t < s.tokens; ++t) {
                for (std::int64_t r = 0; r < static_cast<std::int64_t>(y_stride); ++r) {
                    const std::size_t i = static_cast<std::size_t>(t) * y_stride + r;
                    const bool inside = t >= 1 && r >= 1 && r < s.rows - 1;
                    if (inside) {
                        ASSERT_NEAR(part[i], ref[i], tol_at(t, r));
                    } else {
                        ASSERT_EQ(part[i], 0.5f);
                    }
                }
            }
        }
    }
}

std::vector<Shape> shapes() {
    std::vector<Shape> out;
    const std::int64_t rows[] = {1, 3, 9, 17};
    const std::int64_t tokens[] = {1, 2, 5, 7, 13};
    for (auto type : {TensorType::f32, TensorType::f16, TensorType::bf16}) {
        for (std::int64_t k : {7, 33, 100, 288}) {
            for (std::int64_t r : rows) {
                for (std::int64_t t : tokens) {
                    out.push_back({type, r, k, t});
                }
            }
        }
    }
    for (auto type : {TensorType::q8_0, TensorType::q4_0}) {
        for (std::int64_t k : {32, 64, 96, 288}) {
            for (std::int64_t r : rows) {
                for (std::int64_t t : tokens) {
                    out.push_back({type, r, k, t});
                }
            }
        }
    }
    for (auto type : {TensorType::q4_k, TensorType::q6_k}) {
        for (std::int64_t k : {256, 768}) {
            for (std::int64_t r : rows) {
                for (std::int64_t t : tokens) {
                    out.push_back({type, r, k, t});
                }
            }
        }
    }
    return out;
}

INSTANTIATE_TEST_SUITE_P(Shapes, GemmVsScalar, ::testing::ValuesIn(shapes()), shape_name);

// On a CPU with AVX512_BF16 the AVX-512 table uses that extension's BF16 GEMM; the plain AVX-512
// one (used on CPUs without it) is checked here directly so it does not go untested.
TEST(GemmBf16, BothAvx512VariantsMatchScalar) {
    if (kernel_table(Isa::avx512) == nullptr) {
        GTEST_SKIP() << "no AVX-512 on this CPU";
    }
    std::vector<GemmFn> variants = {&avx512::gemm_bf16};
    if (cpu_has_avx512bf16()) {
        variants.push_back(&avx512bf16::gemm_bf16);
    }
    const KernelTable& scalar = *kernel_table(Isa::scalar);
    for (const std::int64_t k : {7, 64, 100, 288}) {
        for (const std::int64_t tokens : {1, 5, 13}) {
            const std::int64_t rows = 17;
            const auto wf = random_values(static_cast<std::size_t>(rows * k), 5);
            const auto xf = random_values(static_cast<std::size_t>(tokens * k), 6);
            const auto w = quantize(TensorType::bf16, wf, k).value();
            const auto act = quantize_acts(scalar, ActKind::bf16, xf, tokens, k);
            auto run = [&](GemmFn fn) {
                std::vector<float> y(static_cast<std::size_t>(rows * tokens), 0.0f);
                GemmArgs a{w.data(),   *row_bytes(TensorType::bf16, k),
                           act.data(), act_row_bytes(ActKind::bf16, k),
                           y.data(),   static_cast<std::size_t>(rows),
                           k,          false};
                fn(a, 0, rows, 0, tokens);
                return y;
            };
            const auto ref = run(scalar.gemm[static_cast<int>(TensorType::bf16)]);
            for (GemmFn fn : variants) {
                const auto y = run(fn);
                for (std::size_t i = 0; i < y.size(); ++i) {
                    ASSERT_NEAR(y[i], ref[i], 1e-4 * static_cast<double>(k)) << "k " << k;
                }
            }
        }
    }
}

TEST(ActQuantizers, ExtremeAndZeroBlocksAgree) {
    const std::int64_t k = 512;
    std::vector<float> x(static_cast<std::size_t>(k), 0.0f);
    for (int i = 256; i < 512; ++i) {
        x[static_cast<std::size_t>(i)] = (i % 3 == 0 ? -1.0f : 0.5f) * (i == 300 ? 4.0f : 1.0f);
    }
    x[257] = 4.0f; // equal magnitude with opposite sign: the first one decides
    for (int kind = 0; kind < kActKinds; ++kind) {
        const auto ref =
            quantize_acts(*kernel_table(Isa::scalar), static_cast<ActKind>(kind), x, 1, k);
        for (Isa isa : simd_isas()) {
            EXPECT_EQ(quantize_acts(*kernel_table(isa), static_cast<ActKind>(kind), x, 1, k), ref)
                << isa_name(isa) << " kind " << kind;
        }
    }
}

TEST(VecKernels, MatchScalar) {
    for (std::int64_t n : {1, 8, 15, 16, 64, 67, 200}) {
        auto a = random_values(static_cast<std::size_t>(n), 3);
        auto b = random_values(static_cast<std::size_t>(n), 4);
        for (auto& v : a) {
            v *= 8.0f; // wide range for exp
        }
        const VecKernels& ref = kernel_table(Isa::scalar)->vec;
        for (Isa isa : simd_isas()) {
            const VecKernels& v = kernel_table(isa)->vec;
            EXPECT_NEAR(v.dot(a.data(), b.data(), n), ref.dot(a.data(), b.data(), n),
                        1e-4 * static_cast<double>(n));
            std::vector<float> o1(static_cast<std::size_t>(n)), o2(static_cast<std::size_t>(n));
            v.swiglu(a.data(), b.data(), o1.data(), n);
            ref.swiglu(a.data(), b.data(), o2.data(), n);
            for (std::int64_t i = 0; i < n; ++i) {
                ASSERT_NEAR(o1[i], o2[i], 1e-5 * (1.0 + std::fabs(o2[i]))) << isa_name(isa);
            }
            auto e1 = a;
            auto e2 = a;
            const float s1 = v.exp_sum(e1.data(), 20.0f, n);
            const float s2 = ref.exp_sum(e2.data(), 20.0f, n);
            EXPECT_NEAR(s1, s2, 1e-5 * s2);
            for (std::int64_t i = 0; i < n; ++i) {
                ASSERT_NEAR(e1[i], e2[i], 1e-6 * e2[i] + 1e-30);
            }
            auto y1 = b;
            auto y2 = b;
            v.scale_axpy(y1.data(), 0.5f, a.data(), 2.0f, n);
            ref.scale_axpy(y2.data(), 0.5f, a.data(), 2.0f, n);
            for (std::int64_t i = 0; i < n; ++i) {
                ASSERT_NEAR(y1[i], y2[i], 1e-5 * (1.0 + std::fabs(y2[i])));
            }
        }
    }
}

TEST(Kernels, IsaSelection) {
    EXPECT_NE(kernel_table(Isa::scalar), nullptr);
    EXPECT_NE(kernel_table(best_isa()), nullptr);
    for (int t : {0, 1, 2, 8, 12, 14, 30}) {
        EXPECT_NE(kernel_table(best_isa())->gemm[t], nullptr) << t;
    }
}

} // namespace
} // namespace agentd::inference::cpu
