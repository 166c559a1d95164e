#include "agentd/inference/tensor_type.h"

#include <array>
#include <cctype>
#include <limits>

namespace agentd::inference {
namespace {

struct Entry {
    TensorType type;
    TypeTraits traits;
};

constexpr std::array<Entry, 8> kTypes = {{
    {TensorType::f32, {"f32", 1, 4, false}},
    {TensorType::f16, {"f16", 1, 2, false}},
    {TensorType::q4_0, {"q4_0", 32, 18, true}},
    {TensorType::q8_0, {"q8_0", 32, 34, true}},
    {TensorType::q4_k, {"q4_k", 256, 144, true}},
    {TensorType::q6_k, {"q6_k", 256, 210, true}},
    {TensorType::i32, {"i32", 1, 4, false}},
    {TensorType::bf16, {"bf16", 1, 2, false}},
}};

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

} // namespace

const TypeTraits& type_traits(TensorType type) noexcept {
    for (const auto& e : kTypes) {
        if (e.type == type) {
            return e.traits;
        }
    }
    return kTypes[0].traits; // unreachable for valid enumerators
}

std::optional<TensorType> tensor_type_from_id(std::uint32_t id) noexcept {
    for (const auto& e : kTypes) {
        if (static_cast<std::uint32_t>(e.type) == id) {
            return e.type;
        }
    }
    return std::nullopt;
}

std::optional<TensorType> tensor_type_from_name(std::string_view name) noexcept {
    for (const auto& e : kTypes) {
        if (iequals(e.traits.name, name)) {
            return e.type;
        }
    }
    return std::nullopt;
}

std::optional<std::size_t> row_bytes(TensorType type, std::int64_t elems) noexcept {
    const auto& t = type_traits(type);
    if (elems < 0 || elems % t.block_elems != 0) {
        return std::nullopt;
    }
    const auto blocks = static_cast<std::uint64_t>(elems / t.block_elems);
    if (blocks >
        std::numeric_limits<std::size_t>::max() / static_cast<std::uint64_t>(t.block_bytes)) {
        return std::nullopt;
    }
    return static_cast<std::size_t>(blocks * static_cast<std::uint64_t>(t.block_bytes));
}

} // namespace agentd::inference
