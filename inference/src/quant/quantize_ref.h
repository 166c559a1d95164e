#pragma once
/// Scalar reference quantisers and dequantisers for one row of each block type. `k` is the
/// row length and must be a multiple of the type's block size (callers check). Thread-safe.

#include "quant/block_formats.h"

#include <cstdint>

namespace agentd::inference::quant {

void quantize_row_q8_0(const float* x, BlockQ8_0* y, std::int64_t k);
void quantize_row_q4_0(const float* x, BlockQ4_0* y, std::int64_t k);
void quantize_row_q4_k(const float* x, BlockQ4K* y, std::int64_t k);
void quantize_row_q6_k(const float* x, BlockQ6K* y, std::int64_t k);
/// The K-quant activation format, exactly as llama.cpp's reference (max |x| maps to -127).
void quantize_row_q8_k(const float* x, BlockQ8K* y, std::int64_t k);

void dequantize_row_q8_0(const BlockQ8_0* x, float* y, std::int64_t k);
void dequantize_row_q4_0(const BlockQ4_0* x, float* y, std::int64_t k);
void dequantize_row_q4_k(const BlockQ4K* x, float* y, std::int64_t k);
void dequantize_row_q6_k(const BlockQ6K* x, float* y, std::int64_t k);

} // namespace agentd::inference::quant
