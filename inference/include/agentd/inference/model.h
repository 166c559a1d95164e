#pragma once
/// A loaded GGUF model: metadata, hyper-parameters, tokenizer and the (memory-mapped) weights.
///
/// `Model::load` validates everything the forward pass will rely on (architecture, every tensor's
/// presence, shape and type) so that a model that loads can run. Weights stay in the file
/// mapping; an Engine binds them to a backend (zero-copy on the CPU).
///
/// Ownership: shared (`shared_ptr<const Model>`) between the engines that use it; immutable after
/// load. Thread affinity: every const member may be used from any thread. Errors: load returns
/// errc::io_error (cannot read), errc::invalid_model (corrupt or inconsistent file, naming the
/// key or tensor) or errc::unsupported (an architecture, tensor type or feature we do not
/// implement, naming it).

#include "agentd/base/result.h"
#include "agentd/inference/tokenizer.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace agentd::inference {

class GgufFile;

/// What a model is, for logs, /v1/models and benchmarks.
struct ModelInfo {
    std::string architecture; ///< "llama", "qwen2", "qwen3"
    std::string name;         ///< general.name, or the file name
    std::int32_t n_vocab = 0;
    std::int32_t n_ctx_train = 0;
    std::int32_t n_embd = 0;
    std::int32_t n_layer = 0;
    std::int32_t n_head = 0;
    std::int32_t n_head_kv = 0;
    std::int32_t head_dim = 0;
    std::int32_t n_ff = 0;
    std::int64_t n_params = 0;      ///< elements of all tensors
    std::uint64_t weight_bytes = 0; ///< bytes of all tensors
    std::string weight_types;       ///< e.g. "q8_0 x57, f32 x25"
    bool tied_embeddings = false;
};

struct ModelLoadOptions {
    bool use_mmap = true;  ///< false: read the file into memory
    bool prefetch = false; ///< ask the kernel to read the mapping ahead
};

class Model {
public:
    [[nodiscard]] static base::Result<std::shared_ptr<const Model>>
    load(const std::filesystem::path& path, const ModelLoadOptions& options = {});

    ~Model();
    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;

    [[nodiscard]] const ModelInfo& info() const noexcept;
    [[nodiscard]] const Tokenizer& tokenizer() const noexcept;
    [[nodiscard]] const GgufFile& gguf() const noexcept;

    struct Impl;
    /// Engine internals (hyper-parameters, tensor directory).
    [[nodiscard]] const Impl& impl() const noexcept { return *impl_; }

private:
    explicit Model(std::unique_ptr<Impl> impl) noexcept;
    std::unique_ptr<Impl> impl_;
};

} // namespace agentd::inference
