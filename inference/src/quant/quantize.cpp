#include "agentd/inference/quantize.h"

#include "agentd/inference/errc.h"

#include "quant/quantize_ref.h"

#include <string>

namespace agentd::inference {

base::Result<std::vector<std::uint8_t>> quantize(TensorType type, std::span<const float> values,
                                                 std::int64_t row_elems) {
    const auto& traits = type_traits(type);
    if (type == TensorType::i32) {
        return base::fail(errc::invalid_argument, "quantize: i32 is not a float type");
    }
    if (row_elems <= 0 || static_cast<std::int64_t>(values.size()) % row_elems != 0) {
        return base::fail(errc::invalid_argument,
                          "quantize: value count is not a whole number of rows");
    }
    const auto rb = row_bytes(type, row_elems);
    if (!rb) {
        return base::fail(errc::invalid_argument, "quantize: row of " + std::to_string(row_elems) +
                                                      " elements is not a whole number of " +
                                                      std::string(traits.name) + " blocks");
    }
    const std::int64_t rows = static_cast<std::int64_t>(values.size()) / row_elems;
    std::vector<std::uint8_t> out(*rb * static_cast<std::size_t>(rows));
    for (std::int64_t r = 0; r < rows; ++r) {
        const float* x = values.data() + r * row_elems;
        std::uint8_t* y = out.data() + static_cast<std::size_t>(r) * *rb;
        switch (type) {
        case TensorType::f32:
            std::memcpy(y, x, *rb);
            break;
        case TensorType::f16:
            for (std::int64_t i = 0; i < row_elems; ++i) {
                const std::uint16_t h = quant::float_to_half(x[i]);
                std::memcpy(y + 2 * i, &h, 2);
            }
            break;
        case TensorType::bf16:
            for (std::int64_t i = 0; i < row_elems; ++i) {
                const std::uint16_t h = quant::float_to_bf16(x[i]);
                std::memcpy(y + 2 * i, &h, 2);
            }
            break;
        case TensorType::q8_0:
            quant::quantize_row_q8_0(x, reinterpret_cast<quant::BlockQ8_0*>(y), row_elems);
            break;
        case TensorType::q4_0:
            quant::quantize_row_q4_0(x, reinterpret_cast<quant::BlockQ4_0*>(y), row_elems);
            break;
        case TensorType::q4_k:
            quant::quantize_row_q4_k(x, reinterpret_cast<quant::BlockQ4K*>(y), row_elems);
            break;
        case TensorType::q6_k:
            quant::quantize_row_q6_k(x, reinterpret_cast<quant::BlockQ6K*>(y), row_elems);
            break;
        case TensorType::i32:
            break;
        }
    }
    return out;
}

base::Result<std::vector<float>> dequantize(TensorType type, std::span<const std::uint8_t> data,
                                            std::int64_t n_elems) {
    const auto rb = row_bytes(type, n_elems);
    if (type == TensorType::i32 || !rb || *rb != data.size()) {
        return base::fail(errc::invalid_argument, "dequantize: byte count does not match " +
                                                      std::to_string(n_elems) + " elements of " +
                                                      std::string(type_traits(type).name));
    }
    std::vector<float> out(static_cast<std::size_t>(n_elems));
    const std::uint8_t* x = data.data();
    switch (type) {
    case TensorType::f32:
        std::memcpy(out.data(), x, *rb);
        break;
    case TensorType::f16:
    case TensorType::bf16:
        for (std::int64_t i = 0; i < n_elems; ++i) {
            std::uint16_t h;
            std::memcpy(&h, x + 2 * i, 2);
            out[static_cast<std::size_t>(i)] =
                type == TensorType::f16 ? quant::half_to_float(h) : quant::bf16_to_float(h);
        }
        break;
    case TensorType::q8_0:
        quant::dequantize_row_q8_0(reinterpret_cast<const quant::BlockQ8_0*>(x), out.data(),
                                   n_elems);
        break;
    case TensorType::q4_0:
        quant::dequantize_row_q4_0(reinterpret_cast<const quant::BlockQ4_0*>(x), out.data(),
                                   n_elems);
        break;
    case TensorType::q4_k:
        quant::dequantize_row_q4_k(reinterpret_cast<const quant::BlockQ4K*>(x), out.data(),
                                   n_elems);
        break;
    case TensorType::q6_k:
        quant::dequantize_row_q6_k(reinterpret_cast<const quant::BlockQ6K*>(x), out.data(),
                                   n_elems);
        break;
    case TensorType::i32:
        break;
    }
    return out;
}

float fp16_to_fp32(std::uint16_t h) noexcept {
    return quant::half_to_float(h);
}
std::uint16_t fp32_to_fp16(float f) noexcept {
    return quant::float_to_half(f);
}
float bf16_to_fp32(std::uint16_t h) noexcept {
    return quant::bf16_to_float(h);
}
std::uint16_t fp32_to_bf16(float f) noexcept {
    return quant::float_to_bf16(f);
}

} // namespace agentd::inference
