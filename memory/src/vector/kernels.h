#pragma once
/// Dot-product kernels for the exact k-NN scan, chosen once at run time from the CPU's features
/// (AVX-512 with VNNI, AVX-512BW, AVX2+FMA, or portable scalar code). Every metric reduces to a
/// dot product plus per-row constants (norms), so these are the only hot loops.
///
/// Layout contract: rows are `stride` elements apart, stride a multiple of kFloatLanes (float)
/// or kInt8Lanes (int8), padding zero-filled, row pointers 64-byte aligned; the query is padded
/// the same way. Pure functions, thread-safe.

#include <cstddef>
#include <cstdint>

namespace agentd::memory::vector {

inline constexpr std::size_t kFloatLanes = 16; // floats per 64-byte line
inline constexpr std::size_t kInt8Lanes = 64;  // int8 codes per 64-byte line

struct Kernels {
    const char* name;
    /// out[i] = dot(q, rows + i*stride) over `stride` floats.
    void (*dot_f32_rows)(const float* q, const float* rows, std::size_t stride, std::size_t n,
                         float* out);
    /// out[i] = dot(q, rows + i*stride) over `stride` int8 codes. `row_sums[i]` = sum of row
    /// i's codes (the VNNI path needs it to undo its unsigned bias; others ignore it).
    void (*dot_i8_rows)(const std::int8_t* q, const std::int8_t* rows, std::size_t stride,
                        std::size_t n, const std::int32_t* row_sums, std::int32_t* out);
};

/// The best kernels this CPU runs. AGENTD_VECTOR_KERNEL=scalar|avx2|avx512|avx512vnni forces a
/// lower level (for tests and benchmarks); a level the CPU lacks is ignored.
const Kernels& best_kernels() noexcept;
/// Every level this CPU supports, lowest first (the scalar kernels are always present).
std::size_t supported_kernels(const Kernels** out, std::size_t capacity) noexcept;

} // namespace agentd::memory::vector
