#pragma once
/// Regex pre-tokenization of byte-level BPE vocabularies (llama.cpp's unicode_regex_split): a
/// list of patterns applied one after the other, each splitting every piece the previous one
/// produced into its matches and the text between them.
///
/// Patterns that use Unicode classes (\p{L}, \p{N}, \p{P}, \p{M}, \p{S}) run over a collapsed
/// copy of the text with one byte per code point (its ASCII self, or a byte standing for its
/// class), as llama.cpp does; the others run over the text itself in UTF-8 mode. Both use PCRE2
/// with JIT. Immutable after `create`; `split` is thread-safe (per-thread match state).

#include "agentd/base/result.h"

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::inference::detail {

/// How a `tokenizer.ggml.pre` name configures the tokenizer.
struct PreTokenizerSpec {
    std::span<const std::string_view> names;
    std::span<const std::string_view> patterns;
    bool clean_spaces = true;
    bool ignore_merges = false;
    bool add_bos = false; // forces add_bos before the file's own add_bos_token key
    bool add_sep = false;
    bool no_bos = false; // the vocabulary has no BOS token
    bool escape_whitespaces = false;
    bool byte_encode = true;
};

/// The spec for `name` ("" and "default" give the default patterns), or nullptr when llama.cpp
/// knows no such pre-tokenizer. `unsupported` is set (and nullptr returned) for names llama.cpp
/// handles with custom code we do not implement.
const PreTokenizerSpec* find_pre_tokenizer_spec(std::string_view name, bool& unsupported);

class PreTokenizer {
public:
    /// Compiles `patterns`; errc::unsupported naming the pattern when PCRE2 rejects it or it
    /// mixes Unicode classes with non-ASCII characters.
    [[nodiscard]] static base::Result<std::unique_ptr<PreTokenizer>>
    create(std::span<const std::string_view> patterns);

    PreTokenizer(const PreTokenizer&) = delete;
    PreTokenizer& operator=(const PreTokenizer&) = delete;
    ~PreTokenizer();

    /// Appends the words of `text`, each re-encoded from its code points (invalid UTF-8 bytes
    /// became U+FFFD) and, with `byte_encode`, mapped byte by byte to GPT-2's characters.
    void split(std::string_view text, bool byte_encode, std::vector<std::string>& words) const;

private:
    struct Pattern;
    PreTokenizer() = default;
    std::vector<Pattern> patterns_;
    bool need_collapsed_ = false;
    bool need_utf8_ = false;
};

} // namespace agentd::inference::detail
