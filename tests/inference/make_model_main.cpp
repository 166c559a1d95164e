// agentd-make-model: writes a synthetic llama-family GGUF model (deterministic random weights)
// for benchmarks, e.g. the ~100M-parameter model of docs/BENCHMARKS.md:
//
//   agentd-make-model --out /tmp/m-q8_0.gguf --type q8_0
//       --vocab ../shared/models/vocab/ggml-vocab-llama-spm.gguf
//
// Defaults: dim 768, 12 layers, 12 heads, 4 KV heads, FFN 2048, context 4096, tied embeddings.
// --type f16 | q8_0 | q4_0 | q4_k (Q4_K keeps the tied embedding in Q6_K, as Q4_K_M files do) |
// any other supported type. A test tool: it is not installed and never writes into the repo.
#include "agentd/inference/gguf.h"
#include "agentd/inference/tensor_type.h"

#include "synthetic_model.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

int usage() {
    std::fputs("usage: agentd-make-model --out FILE --type TYPE --vocab VOCAB.gguf [--dim N]\n"
               "       [--layers N] [--heads N] [--kv-heads N] [--ffn N] [--ctx N] [--seed N]\n"
               "       [--arch llama|qwen2|qwen3] [--untied]\n",
               stderr);
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    using agentd::inference::TensorType;
    agentd::test::SynthSpec s;
    s.n_embd = 768;
    s.n_layer = 12;
    s.n_head = 12;
    s.n_head_kv = 4;
    s.n_ff = 2048;
    s.n_ctx = 4096;
    s.tied = true;
    s.keep_weights = false;
    std::string out;
    std::string type = "f16";
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--untied") {
            s.tied = false;
            continue;
        }
        if (i + 1 >= argc) {
            return usage();
        }
        const std::string v = argv[++i];
        if (a == "--out") {
            out = v;
        } else if (a == "--type") {
            type = v;
        } else if (a == "--vocab") {
            s.vocab = v;
        } else if (a == "--arch") {
            s.arch = v;
        } else if (a == "--dim") {
            s.n_embd = std::atoi(v.c_str());
        } else if (a == "--layers") {
            s.n_layer = std::atoi(v.c_str());
        } else if (a == "--heads") {
            s.n_head = std::atoi(v.c_str());
        } else if (a == "--kv-heads") {
            s.n_head_kv = std::atoi(v.c_str());
        } else if (a == "--ffn") {
            s.n_ff = std::atoi(v.c_str());
        } else if (a == "--ctx") {
            s.n_ctx = std::atoi(v.c_str());
        } else if (a == "--seed") {
            s.seed = static_cast<std::uint32_t>(std::strtoul(v.c_str(), nullptr, 10));
        } else {
            return usage();
        }
    }
    const auto t = agentd::inference::tensor_type_from_name(type);
    if (out.empty() || s.vocab.empty() || !t || *t == TensorType::i32) {
        return usage();
    }
    auto vocab = agentd::inference::GgufFile::open(s.vocab);
    if (!vocab) {
        std::fprintf(stderr, "agentd-make-model: %s\n", vocab.error().what().c_str());
        return 1;
    }
    s.n_vocab =
        static_cast<std::int32_t>(vocab->get_strings("tokenizer.ggml.tokens").value().size());
    s.type = *t;
    s.embd_type = *t == TensorType::q4_k ? TensorType::q6_k : *t;
    s.output_type = s.embd_type;
    try {
        agentd::test::write_synthetic_model(s, out);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "agentd-make-model: %s\n", e.what());
        return 1;
    }
    std::printf("%s\n", out.c_str());
    return 0;
}
