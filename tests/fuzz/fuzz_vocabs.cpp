#include "agentd/inference/gguf.h"
#include "agentd/test/env.h"
#include "agentd/test/gguf_writer.h"

#include "fuzz_seeds.h"
#include "fuzz_targets.h"

namespace agentd::fuzz {

const std::vector<inference::Tokenizer>& fuzz_tokenizers() {
    static const auto* all = [] {
        auto* v = new std::vector<inference::Tokenizer>();
        std::vector<std::vector<uint8_t>> images = synthetic_vocab_images();
        if (const auto dir = test::shared_dir()) {
            for (const char* name :
                 {"models/stories260K.gguf", "models/vocab/ggml-vocab-gpt-2.gguf",
                  "models/vocab/ggml-vocab-deepseek-llm.gguf",
                  "models/vocab/ggml-vocab-bert-bge.gguf", "models/vocab/ggml-vocab-phi-3.gguf"}) {
                auto f = inference::GgufFile::open(*dir / name);
                if (f) {
                    if (auto t = inference::Tokenizer::from_gguf(*f)) {
                        v->push_back(std::move(*t));
                    }
                }
            }
        }
        for (const auto& image : images) {
            auto f = inference::GgufFile::from_memory(std::as_bytes(std::span(image)));
            if (f) {
                if (auto t = inference::Tokenizer::from_gguf(*f)) {
                    v->push_back(std::move(*t));
                }
            }
        }
        return v;
    }();
    return *all;
}

} // namespace agentd::fuzz
