#pragma once
/// Reference conversions between float and the engine's tensor types (see tensor_type.h).
///
/// These are the plain, portable quantisers and dequantisers: tests use them as the oracle for
/// the SIMD kernels, and test tools use them to write quantised GGUF files. They follow the
/// public ggml block layouts bit for bit, so a file written with them loads in llama.cpp too.
/// Pure functions: thread-safe. Size mismatches are returned as `errc::invalid_argument`.

#include "agentd/base/result.h"
#include "agentd/inference/tensor_type.h"

#include <cstdint>
#include <span>
#include <vector>

namespace agentd::inference {

/// Quantises `values` (a whole number of rows of `row_elems` elements) to `type`.
/// K-quants need rows that are a multiple of 256 elements, the 32-blocks a multiple of 32.
[[nodiscard]] base::Result<std::vector<std::uint8_t>>
quantize(TensorType type, std::span<const float> values, std::int64_t row_elems);

/// Converts `data` holding `n_elems` elements of `type` back to float.
[[nodiscard]] base::Result<std::vector<float>>
dequantize(TensorType type, std::span<const std::uint8_t> data, std::int64_t n_elems);

/// IEEE half <-> float, round to nearest even (the F16C instructions' results, bit for bit).
[[nodiscard]] float fp16_to_fp32(std::uint16_t h) noexcept;
[[nodiscard]] std::uint16_t fp32_to_fp16(float f) noexcept;

/// bfloat16 <-> float, round to nearest even (NaN stays NaN).
[[nodiscard]] float bf16_to_fp32(std::uint16_t h) noexcept;
[[nodiscard]] std::uint16_t fp32_to_bf16(float f) noexcept;

} // namespace agentd::inference
