#pragma once
/// The type vocabularies of a GGUF file: metadata value types (`GgufValueType`) and tensor
/// element types (`GgmlType`) with their block layout.
///
/// The tensor type table covers every type id ggml defines, so that any file parses and a type
/// the backends cannot compute with is refused only when a tensor of that type is used. Only
/// the block geometry lives here; quantization maths belongs to the backends.
///
/// Everything in this header is a pure function or constant: thread-safe, no allocation.

#include <cstdint>
#include <optional>
#include <string_view>

namespace agentd::inference {

/// Type tag of a GGUF metadata value (the file's uint32 `gguf_type`).
enum class GgufValueType : uint32_t {
    uint8 = 0,
    int8 = 1,
    uint16 = 2,
    int16 = 3,
    uint32 = 4,
    int32 = 5,
    float32 = 6,
    boolean = 7,
    string = 8,
    array = 9,
    uint64 = 10,
    int64 = 11,
    float64 = 12,
};

/// Short name as used in messages ("u32", "f32", "str", "arr", ...); "?" for an invalid tag.
std::string_view gguf_value_type_name(GgufValueType type) noexcept;

/// Encoded size of one scalar of `type`; 0 for string and array (variable length) and for an
/// invalid tag.
uint32_t gguf_value_type_size(GgufValueType type) noexcept;

/// Tensor element type ids, exactly as ggml numbers them. Ids 4, 5, 31-33 and 36-38 were removed
/// from ggml and are not valid in a file.
enum class GgmlType : uint32_t {
    f32 = 0,
    f16 = 1,
    q4_0 = 2,
    q4_1 = 3,
    q5_0 = 6,
    q5_1 = 7,
    q8_0 = 8,
    q8_1 = 9,
    q2_k = 10,
    q3_k = 11,
    q4_k = 12,
    q5_k = 13,
    q6_k = 14,
    q8_k = 15,
    iq2_xxs = 16,
    iq2_xs = 17,
    iq3_xxs = 18,
    iq1_s = 19,
    iq4_nl = 20,
    iq3_s = 21,
    iq2_s = 22,
    iq4_xs = 23,
    i8 = 24,
    i16 = 25,
    i32 = 26,
    i64 = 27,
    f64 = 28,
    iq1_m = 29,
    bf16 = 30,
    tq1_0 = 34,
    tq2_0 = 35,
    mxfp4 = 39,
    nvfp4 = 40,
    q1_0 = 41,
    q2_0 = 42,
};

/// Block geometry of one tensor type: `block_size` consecutive elements of a row are stored in
/// `block_bytes` bytes (1 and sizeof(element) for the plain types).
struct GgmlTypeInfo {
    GgmlType type;
    std::string_view name; ///< ggml's name: "f32", "q4_K", "iq2_xxs", ...
    uint32_t block_size;
    uint32_t block_bytes;
    bool quantized;
};

/// The layout of type id `id`, or nullopt when ggml defines no such type.
std::optional<GgmlTypeInfo> ggml_type_info(uint32_t id) noexcept;

/// The layout of a known type (never fails for a valid enumerator).
GgmlTypeInfo ggml_type_info(GgmlType type) noexcept;

/// ggml's name of `type` ("q8_0", "bf16", ...).
std::string_view ggml_type_name(GgmlType type) noexcept;

/// Bytes of a row of `n` elements of `type`, or nullopt when `n` is negative, not a multiple of
/// the block size, or the product overflows.
std::optional<uint64_t> ggml_row_bytes(GgmlType type, int64_t n) noexcept;

} // namespace agentd::inference
