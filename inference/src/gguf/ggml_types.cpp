#include "agentd/inference/gguf_types.h"

#include <array>

namespace agentd::inference {
namespace {

// Block geometry of every ggml type id (ggml-common.h block structs; ids 4, 5, 31-33 and 36-38
// were removed from ggml and are absent here).
constexpr std::array<GgmlTypeInfo, 35> kTypes{{
    {GgmlType::f32, "f32", 1, 4, false},
    {GgmlType::f16, "f16", 1, 2, false},
    {GgmlType::q4_0, "q4_0", 32, 18, true},
    {GgmlType::q4_1, "q4_1", 32, 20, true},
    {GgmlType::q5_0, "q5_0", 32, 22, true},
    {GgmlType::q5_1, "q5_1", 32, 24, true},
    {GgmlType::q8_0, "q8_0", 32, 34, true},
    {GgmlType::q8_1, "q8_1", 32, 36, true},
    {GgmlType::q2_k, "q2_K", 256, 84, true},
    {GgmlType::q3_k, "q3_K", 256, 110, true},
    {GgmlType::q4_k, "q4_K", 256, 144, true},
    {GgmlType::q5_k, "q5_K", 256, 176, true},
    {GgmlType::q6_k, "q6_K", 256, 210, true},
    {GgmlType::q8_k, "q8_K", 256, 292, true},
    {GgmlType::iq2_xxs, "iq2_xxs", 256, 66, true},
    {GgmlType::iq2_xs, "iq2_xs", 256, 74, true},
    {GgmlType::iq3_xxs, "iq3_xxs", 256, 98, true},
    {GgmlType::iq1_s, "iq1_s", 256, 50, true},
    {GgmlType::iq4_nl, "iq4_nl", 32, 18, true},
    {GgmlType::iq3_s, "iq3_s", 256, 110, true},
    {GgmlType::iq2_s, "iq2_s", 256, 82, true},
    {GgmlType::iq4_xs, "iq4_xs", 256, 136, true},
    {GgmlType::i8, "i8", 1, 1, false},
    {GgmlType::i16, "i16", 1, 2, false},
    {GgmlType::i32, "i32", 1, 4, false},
    {GgmlType::i64, "i64", 1, 8, false},
    {GgmlType::f64, "f64", 1, 8, false},
    {GgmlType::iq1_m, "iq1_m", 256, 56, true},
    {GgmlType::bf16, "bf16", 1, 2, false},
    {GgmlType::tq1_0, "tq1_0", 256, 54, true},
    {GgmlType::tq2_0, "tq2_0", 256, 66, true},
    {GgmlType::mxfp4, "mxfp4", 32, 17, true},
    {GgmlType::nvfp4, "nvfp4", 64, 36, true},
    {GgmlType::q1_0, "q1_0", 128, 18, true},
    {GgmlType::q2_0, "q2_0", 64, 18, true},
}};

constexpr std::array<std::string_view, 13> kValueTypeNames{
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr", "u64", "i64", "f64"};
constexpr std::array<uint32_t, 13> kValueTypeSizes{1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

} // namespace

std::string_view gguf_value_type_name(GgufValueType type) noexcept {
    const auto i = static_cast<uint32_t>(type);
    return i < kValueTypeNames.size() ? kValueTypeNames[i] : std::string_view("?");
}

uint32_t gguf_value_type_size(GgufValueType type) noexcept {
    const auto i = static_cast<uint32_t>(type);
    return i < kValueTypeSizes.size() ? kValueTypeSizes[i] : 0;
}

std::optional<GgmlTypeInfo> ggml_type_info(uint32_t id) noexcept {
    for (const auto& t : kTypes) {
        if (static_cast<uint32_t>(t.type) == id) {
            return t;
        }
    }
    return std::nullopt;
}

GgmlTypeInfo ggml_type_info(GgmlType type) noexcept {
    const auto info = ggml_type_info(static_cast<uint32_t>(type));
    // Out-of-range enumerators can only come from a cast in our own code; answer a harmless
    // 1-byte layout rather than aborting, the name makes the bug visible.
    return info ? *info : GgmlTypeInfo{type, "invalid", 1, 1, false};
}

std::string_view ggml_type_name(GgmlType type) noexcept {
    return ggml_type_info(type).name;
}

std::optional<uint64_t> ggml_row_bytes(GgmlType type, int64_t n) noexcept {
    const GgmlTypeInfo info = ggml_type_info(type);
    if (n < 0 || n % info.block_size != 0) {
        return std::nullopt;
    }
    const auto blocks = static_cast<uint64_t>(n) / info.block_size;
    uint64_t bytes = 0;
    if (__builtin_mul_overflow(blocks, uint64_t{info.block_bytes}, &bytes)) {
        return std::nullopt;
    }
    return bytes;
}

} // namespace agentd::inference
