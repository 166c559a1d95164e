// Fuzz target for the GGUF reader and the tokenizers.
//
// Input byte 0 selects the mode: even -> the rest is a GGUF image: parse it, read every value
// and tensor, build its tokenizer if it has one and tokenize a few strings; odd -> the rest is
// text for one of the fuzz vocabularies (byte 1 picks which): tokenize it with and without
// special-token parsing, detokenize and stream-decode the ids.
//
// Built with clang -fsanitize=fuzzer,address when AGENTD_FUZZ=ON; otherwise linked with
// replay_main.cpp, which runs saved inputs through the same function.

#include "agentd/inference/gguf.h"
#include "agentd/inference/tokenizer.h"

#include "fuzz_targets.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

using namespace agentd::inference;

// Aborts (a fuzzer finding) when an invariant of a successfully parsed file is broken.
void require(bool ok) {
    if (!ok) {
        std::abort();
    }
}

void exercise_tokenizer(const Tokenizer& tok, std::string_view text) {
    for (const bool special : {false, true}) {
        const auto ids = tok.tokenize(text, {.add_special = special, .parse_special = special});
        for (const TokenId id : ids) {
            require(id >= 0 && static_cast<uint32_t>(id) < tok.vocab_size());
        }
        require(tok.detokenize(ids, {.remove_special = special, .unparse_special = special})
                    .has_value());
        StreamDecoder decoder(tok, special);
        size_t produced = 0;
        for (const TokenId id : ids) {
            produced += decoder.push(id).size();
        }
        produced += decoder.flush().size();
        (void)produced;
    }
}

void exercise_file(const GgufFile& f) {
    const auto image = f.bytes();
    for (const GgufKv& kv : f.metadata()) {
        require(f.find(kv.key) == &kv.value);
        (void)kv.value.as<int64_t>();
        (void)kv.value.as<double>();
        (void)kv.value.as<std::string_view>();
        (void)kv.value.as_vector<int32_t>();
        (void)kv.value.as_vector<std::string_view>();
        for (const GgufValue& child : kv.value.arrays()) {
            (void)child.as_vector<float>();
        }
        if (kv.value.is_array() && kv.value.size() > 0) {
            require(kv.value.at(kv.value.size() - 1).has_value());
        }
    }
    for (const GgufTensorInfo& t : f.tensors()) {
        require(t.data.data() >= image.data() &&
                t.data.data() + t.data.size() <= image.data() + image.size());
        require(t.data.size() == t.n_bytes);
        require(f.find_tensor(t.name) == &t);
    }
    auto tok = Tokenizer::from_gguf(f);
    if (tok) {
        exercise_tokenizer(*tok,
                           "Hello world! <s> 12345\n\t \xE2\x96\x81 \xF0\x9F\x98\x80 caf\xC3\xA9");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) {
        return 0;
    }
    const auto* bytes = reinterpret_cast<const std::byte*>(data);
    if ((data[0] & 1) == 0) {
        auto f = GgufFile::from_memory(std::span(bytes + 1, size - 1));
        if (f) {
            exercise_file(*f);
        } else {
            require(!f.error().message.empty());
        }
        return 0;
    }
    const auto& tokenizers = agentd::fuzz::fuzz_tokenizers();
    if (size < 2 || tokenizers.empty()) {
        return 0;
    }
    const Tokenizer& tok = tokenizers[data[1] % tokenizers.size()];
    exercise_tokenizer(tok, std::string_view(reinterpret_cast<const char*>(data + 2), size - 2));
    return 0;
}
