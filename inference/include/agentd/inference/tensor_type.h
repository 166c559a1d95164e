#pragma once
/// Element types of model tensors and their storage layout (GGUF/ggml type ids).
///
/// `TensorType` values are the type ids GGUF files store, so a reader converts with a range check
/// (`tensor_type_from_id`). Quantised types store rows as fixed-size blocks; `type_traits` says
/// how many elements a block holds and how many bytes it takes. Pure value types and constexpr
/// functions: thread-safe, no errors beyond the optional results documented below.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace agentd::inference {

/// The weight and cache types the engine reads. Numbering follows ggml's `ggml_type`.
enum class TensorType : std::uint32_t {
    f32 = 0,
    f16 = 1,
    q4_0 = 2,
    q8_0 = 8,
    q4_k = 12,
    q6_k = 14,
    i32 = 26,
    bf16 = 30,
};

/// Storage layout of one type: `block_elems` elements take `block_bytes` bytes.
struct TypeTraits {
    std::string_view name;
    std::int64_t block_elems;
    std::int64_t block_bytes;
    bool quantized;
};

/// Layout of `type`. Every enumerator has traits.
[[nodiscard]] const TypeTraits& type_traits(TensorType type) noexcept;

/// The type with ggml id `id`, or nullopt when the engine does not support it.
[[nodiscard]] std::optional<TensorType> tensor_type_from_id(std::uint32_t id) noexcept;

/// The type named `name` ("f32", "q8_0", "Q4_K", ... case-insensitive), or nullopt.
[[nodiscard]] std::optional<TensorType> tensor_type_from_name(std::string_view name) noexcept;

/// Bytes of one row of `elems` elements, or nullopt when `elems` is not a whole number of
/// blocks (or would overflow).
[[nodiscard]] std::optional<std::size_t> row_bytes(TensorType type, std::int64_t elems) noexcept;

} // namespace agentd::inference
