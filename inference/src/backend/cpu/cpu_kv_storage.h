#pragma once
/// The CPU backend's KV storage: one host buffer holding, per layer, K then V, each
/// n_blocks * n_kv_heads * head_dim * block_size elements (f32 or f16). Within a block, K is
/// transposed ([kv_head][head_dim][block_size]) and V is [kv_head][block_size][head_dim].
/// Owned by the engine through backend::KvStoragePtr; accessed only by CpuBackend ops.

#include "backend/backend.h"

#include <cstdint>
#include <utility>

namespace agentd::inference::cpu {

class CpuKvStorage final : public backend::KvStorage {
public:
    CpuKvStorage(const backend::KvSpec& spec, backend::BufferPtr buffer)
        : KvStorage(spec), buffer_(std::move(buffer)) {}
    [[nodiscard]] std::size_t bytes() const noexcept override { return buffer_->size(); }
    [[nodiscard]] std::size_t elem_size() const noexcept {
        return spec().type == TensorType::f16 ? 2 : 4;
    }
    /// Elements of one layer's K (or V).
    [[nodiscard]] std::size_t layer_elems() const noexcept {
        const auto& s = spec();
        return static_cast<std::size_t>(s.n_blocks) * s.n_kv_heads * s.head_dim * s.block_size;
    }
    [[nodiscard]] std::uint8_t* k(int layer) const noexcept {
        return static_cast<std::uint8_t*>(buffer_->data()) +
               2 * static_cast<std::size_t>(layer) * layer_elems() * elem_size();
    }
    [[nodiscard]] std::uint8_t* v(int layer) const noexcept {
        return k(layer) + layer_elems() * elem_size();
    }

private:
    backend::BufferPtr buffer_;
};

} // namespace agentd::inference::cpu
