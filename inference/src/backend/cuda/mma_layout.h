#pragma once
/// Where each lane of a warp keeps its pieces of the int8 tensor-core products the quantised
/// matrix kernel uses (PTX `mma.sync.aligned.m16n8k32/m16n8k16.row.col.s32.s8.s8.s32`), as
/// index functions shared by the kernel's shared-memory loads, its epilogue and a host test
/// (cuda_helpers_test.cpp) that emulates the instruction from these maps and checks the kernel's
/// tiling against a plain matrix product.
///
/// With g = lane / 4 and t = lane % 4 (PTX "groupID" and "threadID_in_group"):
///   A (16 x K, row-major), register r holds 4 consecutive K bytes of row g + 8 * (r % 2) at
///     K offset 4t + 16 * (r / 2)           (k32: r < 4; k16: r < 2)
///   B (K x 8, one column per n), register r holds 4 consecutive K bytes of column g at K offset
///     4t + 16 * r                           (k32: r < 2; k16: r < 1)
///   C (16 x 8 int32), element r is row g + 8 * (r / 2), column 2t + r % 2   (r < 4)
///
/// Pure functions; thread-safe.

#include "backend/cuda/device_math.h"

namespace agentd::inference::cuda::dev {

AGENTD_HD int mma_a_row(int lane, int r) {
    return lane / 4 + 8 * (r % 2);
}
AGENTD_HD int mma_a_k(int lane, int r) {
    return 4 * (lane % 4) + 16 * (r / 2);
}
AGENTD_HD int mma_b_col(int lane) {
    return lane / 4;
}
AGENTD_HD int mma_b_k(int lane, int r) {
    return 4 * (lane % 4) + 16 * r;
}
AGENTD_HD int mma_c_row(int lane, int r) {
    return lane / 4 + 8 * (r / 2);
}
AGENTD_HD int mma_c_col(int lane, int r) {
    return 2 * (lane % 4) + r % 2;
}

#if defined(__CUDACC__)
/// c += a (16 x 32) * b (32 x 8), int8 in, int32 accumulators.
__device__ __forceinline__ void mma_k32(int (&c)[4], const int (&a)[4], const int (&b)[2]) {
#if defined(__CUDA_ARCH__)
    asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0, %1, %2, %3}, "
                 "{%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
                 : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#endif
}

/// c += a (16 x 16) * b (16 x 8), int8 in, int32 accumulators.
__device__ __forceinline__ void mma_k16(int (&c)[4], const int (&a)[2], int b) {
#if defined(__CUDA_ARCH__)
    asm volatile("mma.sync.aligned.m16n8k16.row.col.s32.s8.s8.s32 {%0, %1, %2, %3}, "
                 "{%4, %5}, {%6}, {%0, %1, %2, %3};"
                 : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(b));
#endif
}
#endif

} // namespace agentd::inference::cuda::dev
