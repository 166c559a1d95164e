#include "fuzz_seeds.h"

#include "agentd/inference/gguf.h"
#include "agentd/test/gguf_writer.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace agentd::fuzz {
namespace {

using test::GgufEncoded;
using test::GgufType;
using test::GgufWriter;

constexpr size_t kMaxElements = 48;

std::string hex_byte_token(int b) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    return std::string("<0x") + kHex[b >> 4] + kHex[b & 15] + ">";
}

GgufWriter spm_vocab() {
    std::vector<std::string> tokens{"<unk>", "<s>", "</s>"};
    std::vector<float> scores{0, 0, 0};
    std::vector<int32_t> types{2, 3, 3};
    for (int b = 0; b < 256; ++b) {
        tokens.push_back(hex_byte_token(b));
        scores.push_back(0);
        types.push_back(6);
    }
    float score = -1;
    for (const char* t : {"\xE2\x96\x81", "\xE2\x96\x81t", "he", "\xE2\x96\x81the", "ll", "o",
                          "\xE2\x96\x81w", "or", "ld", "\xE2\x96\x81He", "e", "t", "h"}) {
        tokens.emplace_back(t);
        scores.push_back(score);
        score -= 0.5F;
        types.push_back(1);
    }
    GgufWriter w;
    w.set("general.architecture", test::gguf_string("llama"))
        .set("tokenizer.ggml.model", test::gguf_string("llama"))
        .set("tokenizer.ggml.tokens", test::gguf_strings(tokens))
        .set("tokenizer.ggml.scores", test::gguf_array(scores))
        .set("tokenizer.ggml.token_type", test::gguf_array(types));
    return w;
}

// The GPT-2 stand-in character of byte b.
std::string gpt2_char(int b) {
    const auto printable = [](int x) {
        return (x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE);
    };
    int cp = b;
    if (!printable(b)) {
        cp = 256;
        for (int x = 0; x < b; ++x) {
            cp += printable(x) ? 0 : 1;
        }
    }
    std::string s;
    if (cp < 0x80) {
        s += static_cast<char>(cp);
    } else {
        s += static_cast<char>(0xC0 | (cp >> 6));
        s += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return s;
}

GgufWriter bpe_vocab(const char* pre) {
    std::vector<std::string> tokens;
    for (int b = 0; b < 256; ++b) {
        tokens.push_back(gpt2_char(b));
    }
    std::vector<std::string> merges;
    const std::string sp = gpt2_char(' ');
    for (const auto& [a, b] : std::vector<std::pair<std::string, std::string>>{{"h", "e"},
                                                                               {"l", "l"},
                                                                               {"he", "ll"},
                                                                               {"hell", "o"},
                                                                               {sp, "w"},
                                                                               {"o", "r"},
                                                                               {sp + "w", "or"},
                                                                               {"l", "d"},
                                                                               {sp + "wor", "ld"},
                                                                               {"1", "2"}}) {
        merges.push_back(a + " " + b);
        tokens.push_back(a + b);
    }
    tokens.emplace_back("<|endoftext|>");
    std::vector<int32_t> types(tokens.size(), 1);
    types.back() = 3;
    GgufWriter w;
    w.set("tokenizer.ggml.model", test::gguf_string("gpt2"))
        .set("tokenizer.ggml.pre", test::gguf_string(pre))
        .set("tokenizer.ggml.tokens", test::gguf_strings(tokens))
        .set("tokenizer.ggml.token_type", test::gguf_array(types))
        .set("tokenizer.ggml.merges", test::gguf_strings(merges))
        .set("tokenizer.ggml.eos_token_id",
             test::gguf_u32(static_cast<uint32_t>(tokens.size() - 1)));
    return w;
}

GgufWriter wpm_vocab() {
    std::vector<std::string> tokens(100, "[unused]");
    for (size_t i = 0; i < tokens.size(); ++i) {
        tokens[i] = "[unused" + std::to_string(i) + "]";
    }
    tokens[0] = "[PAD]";
    for (const char* t : {"[UNK]", "[CLS]", "[SEP]", "[MASK]", "\xE2\x96\x81hello",
                          "\xE2\x96\x81world", "##s", "\xE2\x96\x81", "a", "\xE2\x96\x81!"}) {
        tokens.emplace_back(t);
    }
    std::vector<int32_t> types(tokens.size(), 1);
    for (size_t i = 0; i < 104; ++i) {
        types[i] = 3;
    }
    GgufWriter w;
    w.set("tokenizer.ggml.model", test::gguf_string("bert"))
        .set("tokenizer.ggml.tokens", test::gguf_strings(tokens))
        .set("tokenizer.ggml.token_type", test::gguf_array(types));
    return w;
}

// Re-encodes `v` with arrays cut to kMaxElements (recursively).
GgufEncoded shrink(const inference::GgufValue& v) {
    using inference::GgufValueType;
    if (v.type() == GgufValueType::string) {
        return test::gguf_string(v.as<std::string_view>().value());
    }
    if (!v.is_array()) {
        const auto raw = v.raw();
        return {static_cast<GgufType>(v.type()),
                std::vector<uint8_t>(reinterpret_cast<const uint8_t*>(raw.data()),
                                     reinterpret_cast<const uint8_t*>(raw.data()) + raw.size())};
    }
    const size_t n = std::min<uint64_t>(v.size(), kMaxElements);
    std::vector<GgufEncoded> elements;
    for (size_t i = 0; i < n; ++i) {
        elements.push_back(shrink(v.at(i).value()));
    }
    if (elements.empty()) {
        GgufEncoded e{GgufType::array, {}};
        const auto t = static_cast<uint32_t>(v.element_type());
        e.payload.resize(12, 0);
        std::memcpy(e.payload.data(), &t, 4);
        return e;
    }
    return test::gguf_array_of(elements);
}

std::vector<uint8_t> shrunken_copy(const std::filesystem::path& path) {
    auto f = inference::GgufFile::open(path);
    if (!f) {
        return {};
    }
    GgufWriter w;
    for (const auto& kv : f->metadata()) {
        w.set(std::string(kv.key), shrink(kv.value));
    }
    for (const auto& t : f->tensors()) {
        const auto info = inference::ggml_type_info(t.type);
        const size_t bytes = std::min<size_t>(info.block_bytes, t.data.size());
        const auto* p = reinterpret_cast<const uint8_t*>(t.data.data());
        w.add_tensor(std::string(t.name), static_cast<uint32_t>(t.type),
                     {static_cast<int64_t>(info.block_size)}, std::vector<uint8_t>(p, p + bytes));
    }
    return w.bytes();
}

// `prefix` followed by `body` (built with memcpy: GCC 12 misreads vector::insert here).
std::vector<uint8_t> prefixed(std::vector<uint8_t> prefix, std::string_view body) {
    const size_t at = prefix.size();
    prefix.resize(at + body.size());
    if (!body.empty()) {
        std::memcpy(prefix.data() + at, body.data(), body.size());
    }
    return prefix;
}

std::vector<uint8_t> with_mode(uint8_t mode, const std::vector<uint8_t>& body) {
    return prefixed({mode},
                    std::string_view(reinterpret_cast<const char*>(body.data()), body.size()));
}

} // namespace

std::vector<std::vector<uint8_t>> synthetic_vocab_images() {
    std::vector<std::vector<uint8_t>> out;
    out.push_back(spm_vocab().bytes());
    for (const char* pre : {"llama-bpe", "qwen2", "gpt-2", "deepseek-llm", "falcon", "tekken"}) {
        out.push_back(bpe_vocab(pre).bytes());
    }
    out.push_back(wpm_vocab().bytes());
    return out;
}

std::vector<std::vector<uint8_t>> seed_inputs(const std::optional<std::filesystem::path>& shared) {
    std::vector<std::vector<uint8_t>> out;
    for (const auto& image : synthetic_vocab_images()) {
        out.push_back(with_mode(0, image));
    }
    GgufWriter model = spm_vocab();
    model.set_alignment(64).set(
        "x.nested", test::gguf_array_of({test::gguf_strings({"a", "b"}),
                                         test::gguf_array(std::vector<int64_t>{-1, 1})}));
    // One block of every type id ggml defines.
    for (uint32_t id = 0; id < 64; ++id) {
        if (const auto info = inference::ggml_type_info(id)) {
            model.add_tensor(
                "t." + std::string(info->name), id, {static_cast<int64_t>(info->block_size), 2},
                std::vector<uint8_t>(info->block_bytes * 2U, static_cast<uint8_t>(id)));
        }
    }
    out.push_back(with_mode(0, model.bytes()));
    if (shared) {
        for (const char* name :
             {"models/stories260K.gguf", "models/synth-tiny-q4_0.gguf",
              "models/synth-tiny-q8_0.gguf", "models/synth-tiny-f16.gguf",
              "models/vocab/ggml-vocab-llama-spm.gguf", "models/vocab/ggml-vocab-gpt-2.gguf",
              "models/vocab/ggml-vocab-deepseek-coder.gguf", "models/vocab/ggml-vocab-falcon.gguf",
              "models/vocab/ggml-vocab-bert-bge.gguf", "models/vocab/ggml-vocab-phi-3.gguf"}) {
            const auto copy = shrunken_copy(*shared / name);
            if (!copy.empty()) {
                out.push_back(with_mode(0, copy));
            }
        }
    }
    const std::vector<std::string> texts = {
        "Hello world",
        " leading and trailing  ",
        "<s> literal </s> <|endoftext|>",
        "don't we'll I'M 12345 3.14",
        "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E caf\xC3\xA9 \xF0\x9F\x98\x80",
        "\t\n\r\n  \xC2\xA0x",
        "\xFF\xFE\xC0\x80\xED\xA0\x80"};
    for (uint8_t vocab = 0; vocab < 16; ++vocab) {
        for (const auto& t : texts) {
            out.push_back(prefixed({1, vocab}, t));
        }
    }
    return out;
}

} // namespace agentd::fuzz
