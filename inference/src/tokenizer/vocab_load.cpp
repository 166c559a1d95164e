// Builds a Vocab from `tokenizer.ggml.*` metadata with llama.cpp's defaults and fix-ups, so
// that special ids, flags and token attributes come out as llama.cpp loads them.

#include "agentd/inference/errc.h"
#include "agentd/inference/gguf.h"

#include "tokenizer/vocab.h"

#include <algorithm>
#include <cctype>
#include <limits>

namespace agentd::inference::detail {
namespace {

constexpr std::string_view kKeyModel = "tokenizer.ggml.model";
constexpr std::string_view kKeyPre = "tokenizer.ggml.pre";
constexpr std::string_view kKeyTokens = "tokenizer.ggml.tokens";
constexpr std::string_view kKeyScores = "tokenizer.ggml.scores";
constexpr std::string_view kKeyTypes = "tokenizer.ggml.token_type";
constexpr std::string_view kKeyMerges = "tokenizer.ggml.merges";

// GGUF token types (tokenizer.ggml.token_type) -> attribute bits.
uint32_t attr_of_type(int32_t type) {
    switch (type) {
    case 1:
        return token_attr::normal;
    case 2:
        return token_attr::unknown;
    case 3:
        return token_attr::control;
    case 4:
        return token_attr::user_defined;
    case 5:
        return token_attr::unused;
    case 6:
        return token_attr::byte;
    default:
        return 0; // undefined
    }
}

base::Error bad(std::string_view key, const std::string& what) {
    return base::fail(errc::invalid_model,
                      "tokenizer metadata '" + std::string(key) + "': " + what);
}

// Model-specific defaults and the pre-tokenizer (llama.cpp's vocab type switch).
base::Result<void> configure_kind(const GgufFile& file, Vocab& v) {
    auto model = file.get<std::string_view>(kKeyModel);
    if (!model) {
        return model.error();
    }
    v.model = std::string(*model);
    auto pre = file.get_optional<std::string_view>(kKeyPre);
    if (!pre) {
        return pre.error();
    }
    v.pre = std::string(pre->value_or(""));
    if (v.model == "llama") {
        v.kind = TokenizerKind::spm;
        v.bos = 1;
        v.eos = 2;
        v.unk = 0;
        v.add_space_prefix = true;
        v.add_bos = true;
        v.clean_spaces = false;
        v.pre.clear();
        return {};
    }
    if (v.model == "bert") {
        v.kind = TokenizerKind::wpm;
        v.bos = 101;
        v.unk = 100;
        v.sep = 102;
        v.pad = 0;
        v.mask = 103;
        v.add_sep = true;
        v.add_bos = true;
        v.clean_spaces = true;
        v.lowercase = true;
        v.strip_accents = true;
        v.pre.clear();
        return {};
    }
    if (v.model != "gpt2" && v.model != "gemma4") {
        return base::fail(errc::unsupported, "tokenizer model '" + v.model +
                                                 "' is not supported (supported: llama, gpt2, "
                                                 "gemma4, bert)");
    }
    v.kind = TokenizerKind::bpe;
    if (v.model == "gpt2") {
        v.bos = 11;
        v.eos = 11;
    } else {
        v.pre = "gemma4";
    }
    bool unsupported = false;
    const PreTokenizerSpec* spec = find_pre_tokenizer_spec(v.pre, unsupported);
    if (spec == nullptr) {
        return base::fail(errc::unsupported, "pre-tokenizer '" + v.pre + "' is " +
                                                 (unsupported ? "not supported" : "unknown") +
                                                 " (tokenizer.ggml.pre)");
    }
    if (v.pre.empty()) {
        v.pre = "default";
    }
    v.add_space_prefix = false;
    v.escape_whitespaces = spec->escape_whitespaces;
    v.byte_encode = spec->byte_encode;
    v.clean_spaces = spec->clean_spaces;
    v.ignore_merges = spec->ignore_merges;
    v.add_bos = v.add_bos || spec->add_bos;
    v.add_sep = v.add_sep || spec->add_sep;
    if (spec->no_bos) {
        v.bos = kNoToken;
    }
    auto pre_tokenizer = PreTokenizer::create(spec->patterns);
    if (!pre_tokenizer) {
        return pre_tokenizer.error();
    }
    v.pre_tokenizer = std::move(*pre_tokenizer);
    return {};
}

base::Result<void> load_tokens(const GgufFile& file, Vocab& v) {
    auto tokens = file.get_strings(kKeyTokens);
    if (!tokens) {
        return tokens.error();
    }
    const size_t n = tokens->size();
    if (n == 0 || n > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
        return bad(kKeyTokens, "has " + std::to_string(n) + " tokens");
    }
    std::vector<float> scores;
    if (file.find(kKeyScores) != nullptr) {
        auto s = file.get_vector<float>(kKeyScores);
        if (!s) {
            return s.error();
        }
        if (s->size() < n) {
            return bad(kKeyScores,
                       std::to_string(s->size()) + " scores for " + std::to_string(n) + " tokens");
        }
        scores = std::move(*s);
    }
    std::vector<int32_t> types;
    if (file.find(kKeyTypes) != nullptr) {
        auto t = file.get_vector<int32_t>(kKeyTypes);
        if (!t) {
            return t.error();
        }
        if (t->size() < n) {
            return bad(kKeyTypes,
                       std::to_string(t->size()) + " types for " + std::to_string(n) + " tokens");
        }
        types = std::move(*t);
    }
    v.text.resize(n);
    v.scores.assign(n, 0.0F);
    v.attrs.assign(n, token_attr::normal);
    for (size_t i = 0; i < n; ++i) {
        const std::string_view word = (*tokens)[i];
        v.text[i] = word.empty() ? "[EMPTY_" + std::to_string(i) + "]" : std::string(word);
        v.max_token_len = std::max(v.max_token_len, v.text[i].size());
        if (!scores.empty()) {
            v.scores[i] = scores[i];
        }
        if (!types.empty()) {
            v.attrs[i] = attr_of_type(types[i]);
        }
    }
    v.ids.reset(n);
    v.inner_pairs.assign(65536 / 64, 0);
    for (size_t i = 0; i < n; ++i) {
        const std::string& t = v.text[i];
        // A later duplicate wins, as in llama.cpp.
        v.ids.put(hash_bytes(t), static_cast<TokenId>(i),
                  [&](int32_t id) { return v.text[static_cast<size_t>(id)] == t; });
        for (size_t k = 1; k < t.size(); ++k) {
            const unsigned bit = (static_cast<unsigned>(static_cast<uint8_t>(t[k - 1])) << 8) |
                                 static_cast<uint8_t>(t[k]);
            v.inner_pairs[bit >> 6] |= uint64_t{1} << (bit & 63);
        }
    }
    return {};
}

base::Result<void> load_merges(const GgufFile& file, Vocab& v) {
    if (v.kind != TokenizerKind::bpe) {
        return {};
    }
    auto merges = file.get_strings(kKeyMerges);
    if (!merges) {
        return merges.error();
    }
    if (merges->size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
        return bad(kKeyMerges, "too many merges");
    }
    v.merges.assign(merges->begin(), merges->end());
    v.merge_sides.resize(v.merges.size());
    v.ranks.reset(v.merges.size());
    for (size_t i = 0; i < v.merges.size(); ++i) {
        const std::string_view m = v.merges[i];
        const size_t space = m.size() > 1 ? m.find(' ', 1) : std::string_view::npos;
        if (space != std::string_view::npos) {
            v.merge_sides[i] = {m.substr(0, space), m.substr(space + 1)};
        }
        const auto& [a, b] = v.merge_sides[i];
        if (v.rank(a, b) < 0) { // the first rank of a pair wins
            v.ranks.put(Vocab::pair_hash(a, b), static_cast<int32_t>(i),
                        [](int32_t) { return false; });
        }
    }
    return {};
}

// A special id key: absent keeps the default; out of range keeps the default (llama.cpp warns).
base::Result<void> read_id(const GgufFile& file, std::string_view key, const Vocab& v,
                           TokenId& id) {
    if (id != kNoToken && !v.valid(id)) {
        id = kNoToken;
    }
    auto value = file.get_optional<int64_t>(key);
    if (!value) {
        return value.error();
    }
    if (*value && **value >= 0 && static_cast<size_t>(**value) < v.text.size()) {
        id = static_cast<TokenId>(**value);
    }
    return {};
}

base::Result<void> read_flag(const GgufFile& file, std::string_view key, bool& flag) {
    auto value = file.get_optional<bool>(key);
    if (!value) {
        return value.error();
    }
    if (*value) {
        flag = **value;
    }
    return {};
}

base::Result<void> load_special_ids(const GgufFile& file, Vocab& v) {
    const std::pair<std::string_view, TokenId*> keys[] = {
        {"tokenizer.ggml.bos_token_id", &v.bos},
        {"tokenizer.ggml.eos_token_id", &v.eos},
        {"tokenizer.ggml.eot_token_id", &v.eot},
        {"tokenizer.ggml.eom_token_id", &v.eom},
        {"tokenizer.ggml.unknown_token_id", &v.unk},
        {"tokenizer.ggml.seperator_token_id", &v.sep},
        {"tokenizer.ggml.padding_token_id", &v.pad},
        {"tokenizer.ggml.mask_token_id", &v.mask},
        {"tokenizer.ggml.fim_pre_token_id", &v.fim_pre},
        {"tokenizer.ggml.fim_suf_token_id", &v.fim_suf},
        {"tokenizer.ggml.fim_mid_token_id", &v.fim_mid},
        {"tokenizer.ggml.fim_pad_token_id", &v.fim_pad},
        {"tokenizer.ggml.fim_rep_token_id", &v.fim_rep},
        {"tokenizer.ggml.fim_sep_token_id", &v.fim_sep},
        {"tokenizer.ggml.prefix_token_id", &v.fim_pre},
        {"tokenizer.ggml.suffix_token_id", &v.fim_suf},
        {"tokenizer.ggml.middle_token_id", &v.fim_mid},
    };
    for (const auto& [key, id] : keys) {
        if (auto r = read_id(file, key, v, *id); !r) {
            return r;
        }
    }
    const std::pair<std::string_view, bool*> flags[] = {
        {"tokenizer.ggml.add_space_prefix", &v.add_space_prefix},
        {"tokenizer.ggml.remove_extra_whitespaces", &v.remove_extra_whitespaces},
        {"tokenizer.ggml.add_bos_token", &v.add_bos},
        {"tokenizer.ggml.add_eos_token", &v.add_eos},
        {"tokenizer.ggml.add_sep_token", &v.add_sep},
        {"tokenizer.ggml.normalizer.lowercase", &v.lowercase},
    };
    for (const auto& [key, flag] : flags) {
        if (auto r = read_flag(file, key, *flag); !r) {
            return r;
        }
    }
    v.strip_accents = v.lowercase;
    if (auto r = read_flag(file, "tokenizer.ggml.normalizer.strip_accents", v.strip_accents); !r) {
        return r;
    }
    if (v.pre == "gemma4") {
        v.add_bos = true;
    }
    return {};
}

} // namespace

void finish_special_tokens(Vocab& v);
void apply_model_attributes(const GgufFile& file, Vocab& v);

base::Result<std::unique_ptr<Vocab>> load_vocab(const GgufFile& file) {
    auto v = std::make_unique<Vocab>();
    if (auto r = configure_kind(file, *v); !r) {
        return r.error();
    }
    if (auto r = load_tokens(file, *v); !r) {
        return r.error();
    }
    if (auto r = load_merges(file, *v); !r) {
        return r.error();
    }
    if (auto r = load_special_ids(file, *v); !r) {
        return r.error();
    }
    finish_special_tokens(*v);
    v->pieces.resize(v->text.size());
    for (size_t i = 0; i < v->text.size(); ++i) {
        v->pieces[i] = compute_piece(*v, static_cast<TokenId>(i));
    }
    apply_model_attributes(file, *v);
    // The newline token (informational): SentencePiece's byte token, else what "\n" encodes to.
    if (v->kind == TokenizerKind::spm) {
        v->linefeed = v->byte_token('\n');
    } else if (v->kind == TokenizerKind::bpe) {
        std::vector<TokenId> ids;
        tokenize_bpe(*v, "\n", ids);
        v->linefeed = ids.empty() ? v->pad : ids.front();
    } else {
        v->linefeed = v->pad;
    }
    return v;
}

} // namespace agentd::inference::detail
