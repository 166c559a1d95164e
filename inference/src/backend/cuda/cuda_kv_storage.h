#pragma once
/// The CUDA backend's KV storage: one device buffer holding, per layer, K then V, each
/// [n_blocks][n_kv_heads][block_size][head_dim] elements (f32 or f16; dev::KvLayout).
/// Owned by the engine through backend::KvStoragePtr; read and written only by CudaBackend ops.

#include "backend/backend.h"
#include "backend/cuda/kernels.h"

#include <cstdint>
#include <utility>

namespace agentd::inference::cuda {

class CudaKvStorage final : public backend::KvStorage {
public:
    CudaKvStorage(const backend::KvSpec& spec, backend::BufferPtr buffer)
        : KvStorage(spec), buffer_(std::move(buffer)) {}
    [[nodiscard]] std::size_t bytes() const noexcept override { return buffer_->size(); }
    [[nodiscard]] std::size_t elem_size() const noexcept {
        return spec().type == TensorType::f16 ? 2 : 4;
    }
    [[nodiscard]] dev::KvLayout layout() const noexcept {
        const auto& s = spec();
        return {s.n_blocks, s.block_size, s.n_kv_heads, s.head_dim};
    }
    /// Bytes of one layer's K (or V).
    [[nodiscard]] std::size_t layer_bytes() const noexcept {
        return static_cast<std::size_t>(dev::kv_layer_elems(layout())) * elem_size();
    }
    /// Bytes of one block of one layer's K (or V).
    [[nodiscard]] std::size_t block_bytes() const noexcept {
        const auto& s = spec();
        return static_cast<std::size_t>(s.n_kv_heads) * s.block_size * s.head_dim * elem_size();
    }
    [[nodiscard]] KvDev layer(int l) const noexcept {
        auto* base = static_cast<std::uint8_t*>(buffer_->data()) +
                     2 * static_cast<std::size_t>(l) * layer_bytes();
        return {base, base + layer_bytes(), layout(), spec().type == TensorType::f16};
    }

private:
    backend::BufferPtr buffer_;
};

} // namespace agentd::inference::cuda
