#include "agentd/inference/tokenizer.h"

#include "agentd/inference/gguf.h"

#include "tokenizer/vocab.h"

#include <algorithm>

namespace agentd::inference {
namespace {

using detail::Vocab;

// A piece of the input: raw text [offset, offset + length) or a special token.
struct Fragment {
    TokenId token;
    size_t offset;
    size_t length;
};

bool is_space(char c) {
    return c == ' ' || (c >= '\t' && c <= '\r');
}

bool eligible(const Vocab& v, TokenId id, bool parse_special) {
    // Without parse_special only user-defined tokens are split out of the text.
    return parse_special ||
           (v.attrs[static_cast<size_t>(id)] & (token_attr::control | token_attr::unknown)) == 0;
}

// Splits `text` at every occurrence of each special token, longest tokens first, as llama.cpp's
// tokenizer_st_partition does (including the l/r-strip of white space around some tokens).
std::vector<Fragment> partition(const Vocab& v, std::string_view text, bool parse_special) {
    std::vector<Fragment> frags;
    if (text.empty()) {
        return frags;
    }
    frags.push_back({kNoToken, 0, text.size()});
    std::vector<Fragment> next;
    for (const TokenId id : v.special_tokens) {
        if (!eligible(v, id, parse_special)) {
            continue;
        }
        const std::string& t = v.text[static_cast<size_t>(id)];
        if (text.find(t) == std::string_view::npos) {
            continue; // cannot occur in any fragment either
        }
        const uint32_t attr = v.attrs[static_cast<size_t>(id)];
        next.clear();
        for (const Fragment& f : frags) {
            if (f.token != kNoToken) {
                next.push_back(f);
                continue;
            }
            size_t off = f.offset;
            size_t len = f.length;
            while (true) {
                const size_t pos = text.substr(0, off + len).find(t, off);
                if (pos == std::string_view::npos) {
                    if (len > 0) {
                        next.push_back({kNoToken, off, len});
                    }
                    break;
                }
                size_t left = pos - off;
                if ((attr & token_attr::lstrip) != 0) {
                    while (left > 0 && is_space(text[off + left - 1])) {
                        --left;
                    }
                }
                if (left > 0) {
                    next.push_back({kNoToken, off, left});
                }
                next.push_back({id, 0, 0});
                size_t right_off = pos + t.size();
                size_t right_len = off + len - right_off;
                if (right_len == 0) {
                    break;
                }
                if ((attr & token_attr::rstrip) != 0) {
                    while (right_len > 0 && is_space(text[right_off])) {
                        ++right_off;
                        --right_len;
                    }
                }
                off = right_off;
                len = right_len;
            }
        }
        frags.swap(next);
    }
    return frags;
}

void push_if(std::vector<TokenId>& out, TokenId id) {
    if (id != kNoToken) {
        out.push_back(id);
    }
}

std::string escape_spaces(std::string_view s) {
    std::string out;
    out.reserve(s.size() + s.size() / 4);
    for (const char c : s) {
        if (c == ' ') {
            out += "\xE2\x96\x81";
        } else {
            out += c;
        }
    }
    return out;
}

} // namespace

Tokenizer::Tokenizer(std::unique_ptr<detail::Vocab> vocab) noexcept : vocab_(std::move(vocab)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

base::Result<Tokenizer> Tokenizer::from_gguf(const GgufFile& file) {
    auto vocab = detail::load_vocab(file);
    if (!vocab) {
        return vocab.error();
    }
    return Tokenizer(std::move(*vocab));
}

TokenizerKind Tokenizer::kind() const noexcept {
    return vocab_->kind;
}
std::string_view Tokenizer::model_name() const noexcept {
    return vocab_->model;
}
std::string_view Tokenizer::pre_name() const noexcept {
    return vocab_->pre;
}
uint32_t Tokenizer::vocab_size() const noexcept {
    return static_cast<uint32_t>(vocab_->text.size());
}
TokenId Tokenizer::bos() const noexcept {
    return vocab_->bos;
}
TokenId Tokenizer::eos() const noexcept {
    return vocab_->eos;
}
TokenId Tokenizer::eot() const noexcept {
    return vocab_->eot;
}
TokenId Tokenizer::eom() const noexcept {
    return vocab_->eom;
}
TokenId Tokenizer::unk() const noexcept {
    return vocab_->unk;
}
TokenId Tokenizer::sep() const noexcept {
    return vocab_->sep;
}
TokenId Tokenizer::pad() const noexcept {
    return vocab_->pad;
}
TokenId Tokenizer::newline() const noexcept {
    return vocab_->linefeed;
}
bool Tokenizer::add_bos() const noexcept {
    return vocab_->add_bos;
}
bool Tokenizer::add_eos() const noexcept {
    return vocab_->add_eos;
}

bool Tokenizer::is_eog(TokenId id) const noexcept {
    return vocab_->eog.contains(id);
}

uint32_t Tokenizer::attributes(TokenId id) const noexcept {
    return vocab_->valid(id) ? vocab_->attrs[static_cast<size_t>(id)] : 0;
}

std::string_view Tokenizer::token_text(TokenId id) const noexcept {
    return vocab_->valid(id) ? std::string_view(vocab_->text[static_cast<size_t>(id)])
                             : std::string_view();
}

float Tokenizer::score(TokenId id) const noexcept {
    return vocab_->valid(id) ? vocab_->scores[static_cast<size_t>(id)] : 0.0F;
}

std::optional<TokenId> Tokenizer::find(std::string_view text) const noexcept {
    const TokenId id = vocab_->find(text);
    return id == kNoToken ? std::nullopt : std::optional<TokenId>(id);
}

std::vector<TokenId> Tokenizer::tokenize(std::string_view text, TokenizeOptions options) const {
    const Vocab& v = *vocab_;
    std::vector<TokenId> out;
    const std::vector<Fragment> frags = partition(v, text, options.parse_special);
    const bool special = options.add_special;
    switch (v.kind) {
    case TokenizerKind::spm: {
        bool prev_special = true; // the text's start gets the leading space too
        if (special && v.add_bos) {
            push_if(out, v.bos);
        }
        for (const Fragment& f : frags) {
            if (f.token != kNoToken) {
                out.push_back(f.token);
                prev_special = true;
                continue;
            }
            std::string piece = (v.add_space_prefix && prev_special) ? " " : "";
            piece.append(text.substr(f.offset, f.length));
            detail::tokenize_spm(v, escape_spaces(piece), out);
            prev_special = false;
        }
        if (special && v.add_eos) {
            push_if(out, v.eos);
        }
        break;
    }
    case TokenizerKind::bpe:
        if (special && v.add_bos) {
            push_if(out, v.bos);
        }
        for (const Fragment& f : frags) {
            if (f.token != kNoToken) {
                out.push_back(f.token);
            } else if (v.escape_whitespaces) {
                detail::tokenize_bpe(v, escape_spaces(text.substr(f.offset, f.length)), out);
            } else {
                detail::tokenize_bpe(v, text.substr(f.offset, f.length), out);
            }
        }
        if (special && v.add_eos) {
            push_if(out, v.eos);
        }
        break;
    case TokenizerKind::wpm:
        if (special) {
            push_if(out, v.bos);
        }
        for (const Fragment& f : frags) {
            if (f.token != kNoToken) {
                out.push_back(f.token);
            } else {
                detail::tokenize_wpm(v, text.substr(f.offset, f.length), out);
            }
        }
        if (special) {
            push_if(out, v.sep);
        }
        break;
    }
    return out;
}

std::string_view Tokenizer::piece(TokenId id, bool special) const noexcept {
    const Vocab& v = *vocab_;
    if (!v.valid(id)) {
        return {};
    }
    if (!special &&
        (v.attrs[static_cast<size_t>(id)] & (token_attr::unknown | token_attr::control)) != 0) {
        return {};
    }
    return v.pieces[static_cast<size_t>(id)];
}

namespace {

// llama.cpp's clean-up of detokenized text for vocabularies with clean_spaces, done in place in
// three passes: no space before ?!., ; " ' " loses both spaces; " 's", " 'm", " 're", " 've"
// lose the space. (The in-place buffer matters: pass two blanks the character it skips.)
void clean_spaces(std::string& s) {
    const size_t n1 = s.size();
    size_t total = n1 > 0 ? 1 : 0;
    for (size_t i = 1; i < n1; ++i) {
        const char x = s[i];
        if (s[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) {
            --total;
        }
        s[total++] = x;
    }
    const size_t n2 = total;
    total = n2 > 0 ? 1 : 0;
    for (size_t i = 1; i < n2; ++i) {
        const char x = s[i];
        if (x == '\'' && i + 1 < n2 && s[i - 1] == ' ' && s[i + 1] == ' ') {
            --total;
            s[++i] = '\0';
        }
        s[total++] = x;
    }
    const size_t n3 = total;
    total = n3 > 0 ? 1 : 0;
    for (size_t i = 1; i < n3; ++i) {
        const char x = s[i];
        if (s[i - 1] == ' ' && x == '\'' && i + 1 < n3) {
            const char x1 = s[i + 1];
            if (x1 == 's' || x1 == 'm') {
                --total;
            } else if (x1 != 't' && x1 != 'd' && i + 2 < n3) {
                const char x2 = s[i + 2];
                if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) {
                    --total;
                }
            }
        }
        s[total++] = x;
    }
    s.resize(total);
}

} // namespace

base::Result<std::string> Tokenizer::detokenize(std::span<const TokenId> ids,
                                                DetokenizeOptions options) const {
    const Vocab& v = *vocab_;
    for (const TokenId id : ids) {
        if (!v.valid(id)) {
            return base::fail(errc::invalid_argument, "token id " + std::to_string(id) +
                                                          " is outside the vocabulary of " +
                                                          std::to_string(v.text.size()));
        }
    }
    bool remove_space = v.add_space_prefix;
    if (options.remove_special && v.add_bos && !ids.empty() && ids.front() == v.bos) {
        remove_space = false;
        ids = ids.subspan(1);
    }
    if (options.remove_special && v.add_eos && !ids.empty() && ids.back() == v.eos) {
        ids = ids.first(ids.size() - 1);
    }
    std::string text;
    for (const TokenId id : ids) {
        std::string_view p = piece(id, options.unparse_special);
        if (remove_space && !p.empty() && p.front() == ' ') {
            p.remove_prefix(1);
        }
        remove_space = false;
        text.append(p);
    }
    if (v.clean_spaces) {
        clean_spaces(text);
    }
    return text;
}

} // namespace agentd::inference
