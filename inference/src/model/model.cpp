#include "agentd/inference/model.h"

#include "agentd/inference/errc.h"

#include "model/model_impl.h"

#include <map>

namespace agentd::inference {
namespace {

ModelInfo describe(const GgufFile& f, const model::HParams& hp, const model::WeightRefs& refs,
                   const std::filesystem::path& path) {
    ModelInfo m;
    m.architecture = hp.arch_name;
    auto name = f.get_optional<std::string_view>("general.name");
    m.name = name && *name ? std::string(**name) : path.filename().string();
    m.n_vocab = hp.n_vocab;
    m.n_ctx_train = hp.n_ctx_train;
    m.n_embd = hp.n_embd;
    m.n_layer = hp.n_layer;
    m.n_head = hp.n_head;
    m.n_head_kv = hp.n_head_kv;
    m.head_dim = hp.head_dim;
    m.n_ff = hp.n_ff;
    m.tied_embeddings = !refs.output.present;
    std::map<std::string, int> counts;
    for (const auto& t : f.tensors()) {
        m.n_params += static_cast<std::int64_t>(t.n_elements);
        m.weight_bytes += t.n_bytes;
        ++counts[std::string(ggml_type_name(t.type))];
    }
    for (const auto& [type, n] : counts) {
        if (!m.weight_types.empty()) {
            m.weight_types += ", ";
        }
        m.weight_types += type + " x" + std::to_string(n);
    }
    return m;
}

} // namespace

Model::Model(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Model::~Model() = default;

const ModelInfo& Model::info() const noexcept {
    return impl_->info;
}
const Tokenizer& Model::tokenizer() const noexcept {
    return impl_->tokenizer;
}
const GgufFile& Model::gguf() const noexcept {
    return impl_->file;
}

base::Result<std::shared_ptr<const Model>> Model::load(const std::filesystem::path& path,
                                                       const ModelLoadOptions& options) {
    auto file = GgufFile::open(path, GgufOpenOptions{options.use_mmap, options.prefetch});
    if (!file) {
        return file.error();
    }
    auto hp = model::read_hparams(*file);
    if (!hp) {
        return hp.error();
    }
    auto refs = model::find_weights(*file, *hp);
    if (!refs) {
        return refs.error();
    }
    if (!refs->rope_factors.empty()) {
        hp->rope_factors = refs->rope_factors;
    }
    auto tok = Tokenizer::from_gguf(*file);
    if (!tok) {
        return tok.error();
    }
    if (static_cast<std::int64_t>(tok->vocab_size()) > hp->n_vocab) {
        return base::fail(errc::invalid_model,
                          "the tokenizer has more tokens than the embedding table");
    }
    ModelInfo info = describe(*file, *hp, *refs, path);
    auto impl = std::make_unique<Impl>(
        Impl{std::move(*file), std::move(*tok), std::move(*hp), std::move(*refs), std::move(info)});
    return std::shared_ptr<const Model>(new Model(std::move(impl)));
}

} // namespace agentd::inference
