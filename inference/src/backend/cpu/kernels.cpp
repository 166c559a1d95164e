#include "backend/cpu/kernels.h"

#include "backend/cpu/isa/simd_decls.h"
#include "quant/block_formats.h"

#include <cpuid.h>

#include <cstdlib>
#include <string_view>

namespace agentd::inference::cpu {
namespace {

struct CpuFeatures {
    bool avx2 = false;   // AVX2 + FMA + F16C, with OS support for the YMM state
    bool avx512 = false; // F, BW, VL, DQ, VNNI, with OS support for the ZMM state
    bool avx512bf16 = false;
};

std::uint64_t xgetbv0() {
    std::uint32_t eax = 0;
    std::uint32_t edx = 0;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return (static_cast<std::uint64_t>(edx) << 32) | eax;
}

CpuFeatures detect() {
    CpuFeatures f;
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid(1, &a, &b, &c, &d) == 0) {
        return f;
    }
    const bool osxsave = (c & bit_OSXSAVE) != 0;
    const bool fma = (c & bit_FMA) != 0;
    const bool f16c = (c & bit_F16C) != 0;
    if (!osxsave) {
        return f;
    }
    const std::uint64_t xcr0 = xgetbv0();
    const bool ymm_state = (xcr0 & 0x6) == 0x6;
    const bool zmm_state = (xcr0 & 0xE6) == 0xE6;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d) == 0) {
        return f;
    }
    const bool avx2 = (b & bit_AVX2) != 0;
    f.avx2 = avx2 && fma && f16c && ymm_state;
    const bool avx512 = (b & bit_AVX512F) && (b & bit_AVX512BW) && (b & bit_AVX512VL) &&
                        (b & bit_AVX512DQ) && (c & bit_AVX512VNNI);
    f.avx512 = f.avx2 && avx512 && zmm_state;
    if (f.avx512 && __get_cpuid_count(7, 1, &a, &b, &c, &d) != 0) {
        f.avx512bf16 = (a & (1u << 5)) != 0;
    }
    return f;
}

const CpuFeatures& features() {
    static const CpuFeatures f = detect();
    return f;
}

bool isa_available(Isa isa) {
    switch (isa) {
    case Isa::scalar:
        return true;
    case Isa::avx2:
        return features().avx2;
    case Isa::avx512:
        return features().avx512;
    }
    return false;
}

Isa choose() {
    Isa best = features().avx512 ? Isa::avx512 : features().avx2 ? Isa::avx2 : Isa::scalar;
    if (const char* env = std::getenv("AGENTD_CPU_ISA"); env != nullptr) {
        const std::string_view want(env);
        for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512}) {
            if (want == isa_name(isa) && isa_available(isa)) {
                best = isa;
            }
        }
    }
    return best;
}

#define AGENTD_FILL_TABLE(t, ns)                                                                   \
    t.gemm[static_cast<int>(TensorType::f32)] = &ns::gemm_f32;                                     \
    t.gemm[static_cast<int>(TensorType::f16)] = &ns::gemm_f16;                                     \
    t.gemm[static_cast<int>(TensorType::bf16)] = &ns::gemm_bf16;                                   \
    t.gemm[static_cast<int>(TensorType::q8_0)] = &ns::gemm_q8_0;                                   \
    t.gemm[static_cast<int>(TensorType::q4_0)] = &ns::gemm_q4_0;                                   \
    t.gemm[static_cast<int>(TensorType::q4_k)] = &ns::gemm_q4_k;                                   \
    t.gemm[static_cast<int>(TensorType::q6_k)] = &ns::gemm_q6_k;                                   \
    t.quantize[static_cast<int>(ActKind::f32)] =                                                   \
        detail::kScalarKernels.quantize[static_cast<int>(ActKind::f32)];                           \
    t.quantize[static_cast<int>(ActKind::f16r)] = &ns::quantize_f16r;                              \
    t.quantize[static_cast<int>(ActKind::bf16)] = &ns::quantize_bf16;                              \
    t.quantize[static_cast<int>(ActKind::q8_0)] = &ns::quantize_q8_0;                              \
    t.quantize[static_cast<int>(ActKind::q4_0)] = &ns::quantize_q4_0;                              \
    t.quantize[static_cast<int>(ActKind::q8_k)] = &ns::quantize_q8_k;                              \
    t.vec = {&ns::swiglu, &ns::dot, &ns::scale_axpy, &ns::exp_sum};                                \
    t.attn_f32 = &ns::attn_f32;                                                                    \
    t.attn_f16 = &ns::attn_f16

KernelTable make_avx2() {
    KernelTable t{};
    t.isa = "avx2";
    AGENTD_FILL_TABLE(t, avx2);
    return t;
}

KernelTable make_avx512() {
    KernelTable t{};
    t.isa = "avx512";
    AGENTD_FILL_TABLE(t, avx512);
    if (features().avx512bf16) {
        t.gemm[static_cast<int>(TensorType::bf16)] = &avx512bf16::gemm_bf16;
    }
    return t;
}

#undef AGENTD_FILL_TABLE

} // namespace

bool cpu_has_avx512bf16() noexcept {
    return features().avx512bf16;
}

std::size_t act_row_bytes(ActKind kind, std::int64_t k) noexcept {
    const auto n = static_cast<std::size_t>(k);
    switch (kind) {
    case ActKind::f32:
    case ActKind::f16r:
        return n * sizeof(float);
    case ActKind::bf16:
        return n * sizeof(std::uint16_t);
    case ActKind::q8_0:
    case ActKind::q4_0:
        return act_q8_corr_offset(k) + static_cast<std::size_t>(act_q8_groups(k)) * 16 * 4;
    case ActKind::q8_k:
        return (n / 256) * sizeof(quant::BlockQ8K);
    }
    return 0;
}

ActKind act_kind_for(TensorType weight_type) noexcept {
    switch (weight_type) {
    case TensorType::f16:
        return ActKind::f16r;
    case TensorType::bf16:
        return ActKind::bf16;
    case TensorType::q8_0:
        return ActKind::q8_0;
    case TensorType::q4_0:
        return ActKind::q4_0;
    case TensorType::q4_k:
    case TensorType::q6_k:
        return ActKind::q8_k;
    case TensorType::f32:
    case TensorType::i32:
        return ActKind::f32;
    }
    return ActKind::f32;
}

const KernelTable* kernel_table(Isa isa) noexcept {
    if (!isa_available(isa)) {
        return nullptr;
    }
    switch (isa) {
    case Isa::scalar:
        return &detail::kScalarKernels;
    case Isa::avx2: {
        static const KernelTable table = make_avx2();
        return &table;
    }
    case Isa::avx512: {
        static const KernelTable table = make_avx512();
        return &table;
    }
    }
    return nullptr;
}

Isa best_isa() noexcept {
    static const Isa isa = choose();
    return isa;
}

const char* isa_name(Isa isa) noexcept {
    switch (isa) {
    case Isa::scalar:
        return "scalar";
    case Isa::avx2:
        return "avx2";
    case Isa::avx512:
        return "avx512";
    }
    return "unknown";
}

} // namespace agentd::inference::cpu
