// Special-token fix-ups applied after loading (llama.cpp recognises several end-of-turn and
// fill-in-the-middle tokens by their text) and the per-token piece computation.

#include "agentd/inference/gguf.h"

#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace agentd::inference::detail {
namespace {

using Names = std::initializer_list<std::string_view>;

// The first existing token among `texts` (in this order) when `id` is unset; it becomes control.
void detect(Vocab& v, TokenId& id, Names texts) {
    if (id != kNoToken) {
        return;
    }
    for (const std::string_view t : texts) {
        const TokenId found = v.find(t);
        if (found != kNoToken) {
            id = found;
            v.attrs[static_cast<size_t>(found)] |= token_attr::control;
            return;
        }
    }
}

constexpr std::string_view kEogTexts[] = {"<|eot_id|>",
                                          "<|im_end|>",
                                          "<|end|>",
                                          "<|return|>",
                                          "<|call|>",
                                          "<|flush|>",
                                          "<|calls|>",
                                          "<end_of_turn>",
                                          "<|endoftext|>",
                                          "</s>",
                                          "<|eom_id|>",
                                          "<EOT>",
                                          "_<EOT>",
                                          "[EOT]",
                                          "[EOS]",
                                          "<|end_of_text|>",
                                          "<end_of_utterance>",
                                          "<eos>",
                                          "<turn|>",
                                          "<|tool_response>",
                                          "<｜end▁of▁sentence｜>",
                                          "[e~["};

void collect_eog(Vocab& v) {
    for (const TokenId id : {v.fim_pad, v.fim_rep, v.fim_sep}) {
        if (id != kNoToken) {
            v.eog.insert(id);
        }
    }
    for (const std::string_view t : kEogTexts) {
        const TokenId id = v.find(t);
        if (id != kNoToken) {
            v.eog.insert(id);
            v.attrs[static_cast<size_t>(id)] |= token_attr::control;
        }
    }
    // Rendered as text in gpt-oss chat formats.
    for (const std::string_view t : {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"}) {
        const TokenId id = v.find(t);
        if (id != kNoToken) {
            v.attrs[static_cast<size_t>(id)] = token_attr::user_defined;
        }
    }
    for (const TokenId id : {v.eos, v.eot, v.eom}) {
        if (id != kNoToken) {
            v.eog.insert(id);
        }
    }
    const auto eog_text = [&](std::string_view t) {
        const TokenId id = v.find(t);
        return (id != kNoToken && v.eog.contains(id)) ? id : kNoToken;
    };
    // o200k_harmony / solar-open: "<|end|>" ends a message, not the generation.
    const TokenId end = eog_text("<|end|>");
    const bool has_call = eog_text("<|call|>") != kNoToken || eog_text("<|calls|>") != kNoToken;
    if (end != kNoToken && has_call &&
        (eog_text("<|return|>") != kNoToken || eog_text("<|flush|>") != kNoToken)) {
        v.eog.erase(end);
        v.attrs[static_cast<size_t>(end)] = token_attr::user_defined;
    }
    // Gemma 4 / PaddleOCR: "</s>" is ordinary text there.
    const TokenId s = eog_text("</s>");
    if (s != kNoToken && eog_text("<|tool_response>") != kNoToken) {
        v.eog.erase(s);
        v.attrs[static_cast<size_t>(s)] = token_attr::normal;
    }
}

} // namespace

void finish_special_tokens(Vocab& v) {
    detect(v, v.eot,
           {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
            "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>",
            "<end_of_utterance>"});
    detect(v, v.eom, {"<|eom_id|>"});
    detect(v, v.fim_pre,
           {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>",
            "<|code_prefix|>", "<|prefix|>"});
    detect(v, v.fim_suf,
           {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>",
            "<|code_suffix|>", "<|suffix|>"});
    detect(v, v.fim_mid,
           {"<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>",
            "<|code_middle|>", "<|middle|>"});
    detect(v, v.fim_pad, {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"});
    detect(v, v.fim_rep, {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"});
    detect(v, v.fim_sep, {"<|file_sep|>"});

    // Control tokens named "unused..." are unused.
    for (size_t i = 0; i < v.text.size(); ++i) {
        if ((v.attrs[i] & token_attr::control) != 0 &&
            v.text[i].find("unused") != std::string::npos) {
            v.attrs[i] |= token_attr::unused;
        }
    }
    collect_eog(v);

    for (size_t i = 0; i < v.text.size(); ++i) {
        constexpr uint32_t kSpecial =
            token_attr::control | token_attr::user_defined | token_attr::unknown;
        if ((v.attrs[i] & kSpecial) != 0) {
            v.special_tokens.push_back(static_cast<TokenId>(i));
        }
    }
    // Longest first. Same comparator and algorithm as llama.cpp, so that equal lengths keep the
    // same relative order.
    std::sort(v.special_tokens.begin(), v.special_tokens.end(), [&](TokenId a, TokenId b) {
        return v.text[static_cast<size_t>(a)].size() > v.text[static_cast<size_t>(b)].size();
    });
}

void apply_model_attributes(const GgufFile& file, Vocab& v) {
    const auto str = [&](std::string_view key) {
        auto r = file.get_optional<std::string_view>(key);
        return std::string(r && *r ? **r : std::string_view());
    };
    std::string name = str("general.name");
    std::transform(name.begin(), name.end(), name.begin(), [](char c) {
        return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    });
    const std::string pre = str("tokenizer.ggml.pre");
    const std::string arch = str("general.architecture");
    const auto set = [&](std::string_view text, uint32_t bit, bool on) {
        const TokenId id = v.find(text);
        if (id != kNoToken) {
            uint32_t& a = v.attrs[static_cast<size_t>(id)];
            a = on ? (a | bit) : (a & ~bit);
        }
    };
    const auto contains = [](const std::string& s, Names parts) {
        return std::any_of(parts.begin(), parts.end(),
                           [&](std::string_view p) { return s.find(p) != std::string::npos; });
    };
    if (contains(pre, {"jina-v2-de", "jina-v2-es", "jina-v2-code"}) ||
        contains(arch, {"nomic-bert-moe", "jina-bert-v3"})) {
        set("<mask>", token_attr::lstrip, true);
    } else if (contains(name, {"phi-3", "phi3"})) {
        for (const TokenId id : v.special_tokens) {
            v.attrs[static_cast<size_t>(id)] |= token_attr::rstrip;
        }
        set("</s>", token_attr::rstrip, true);
        for (const std::string_view t : {"<unk>", "<s>", "<|endoftext|>"}) {
            set(t, token_attr::rstrip, false);
        }
    } else if (contains(name, {"modern-bert"})) {
        set("[MASK]", token_attr::lstrip, true);
    }
}

TokenId Vocab::byte_token(uint8_t b) const noexcept {
    static constexpr char kHex[] = "0123456789ABCDEF";
    if (kind == TokenizerKind::spm || !byte_encode) {
        const char name[6] = {'<', '0', 'x', kHex[b >> 4], kHex[b & 15], '>'};
        const TokenId id = find(std::string_view(name, 6));
        if (id != kNoToken || kind != TokenizerKind::spm) {
            return id;
        }
        const char raw = static_cast<char>(b);
        return find(std::string_view(&raw, 1));
    }
    return find(gpt2_byte_to_text(b));
}

namespace {

std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
    std::string out;
    out.reserve(s.size());
    size_t pos = 0;
    while (true) {
        const size_t hit = s.find(from, pos);
        if (hit == std::string_view::npos) {
            out.append(s.substr(pos));
            return out;
        }
        out.append(s.substr(pos, hit - pos));
        out.append(to);
        pos = hit + from.size();
    }
}

uint8_t hex_byte(std::string_view text) {
    // "<0xAB>"; llama.cpp parses the two characters after "<0x" with strtol.
    const auto digit = [](char c) -> int {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    };
    if (text.size() < 5) {
        return 0;
    }
    const int hi = digit(text[3]);
    const int lo = digit(text[4]);
    if (hi < 0) {
        return 0;
    }
    return static_cast<uint8_t>(lo < 0 ? hi : hi * 16 + lo);
}

// Byte-level BPE text back to bytes; characters outside GPT-2's table are kept visible.
std::string decode_byte_level(std::string_view text) {
    std::string out;
    for (const uint32_t cp : utf8_decode(text)) {
        const int b = gpt2_text_to_byte(cp);
        if (b >= 0) {
            out.push_back(static_cast<char>(b));
            continue;
        }
        std::string utf8;
        utf8_append(utf8, cp);
        out += "[UNK_BYTE_0x";
        for (const char c : utf8) {
            static constexpr char kHex[] = "0123456789abcdef";
            out.push_back(kHex[static_cast<uint8_t>(c) >> 4]);
            out.push_back(kHex[static_cast<uint8_t>(c) & 15]);
        }
        out.append(text);
        out.push_back(']');
    }
    return out;
}

} // namespace

std::string compute_piece(const Vocab& v, TokenId id) {
    const std::string& text = v.text[static_cast<size_t>(id)];
    const uint32_t a = v.attrs[static_cast<size_t>(id)];
    if ((a & (token_attr::unknown | token_attr::control | token_attr::user_defined)) != 0) {
        return text;
    }
    if ((a & token_attr::normal) != 0) {
        if (v.kind == TokenizerKind::bpe && !v.escape_whitespaces) {
            return decode_byte_level(text);
        }
        return replace_all(text, "\xE2\x96\x81", " ");
    }
    if ((a & token_attr::byte) != 0 && v.kind != TokenizerKind::wpm) {
        return std::string(1, static_cast<char>(hex_byte(text)));
    }
    return {};
}

} // namespace agentd::inference::detail
