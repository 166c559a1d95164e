#pragma once
/// Tokenizers built from a GGUF file's `tokenizer.ggml.*` metadata, reproducing llama.cpp's
/// tokenization token for token.
///
/// Kinds: SentencePiece-style BPE with scores and byte fallback (`llama`), byte-level BPE with
/// the pre-tokenizer named by `tokenizer.ggml.pre` (`gpt2`; also `gemma4`'s SentencePiece-style
/// BPE) and WordPiece (`bert`). Special and control tokens written in the text are recognised
/// unless `parse_special` is off; BOS/EOS/SEP are added as the vocabulary asks when
/// `add_special` is on. See docs/TOKENIZERS.md for the exact rules and what is not supported.
///
/// Ownership: a Tokenizer copies what it needs from the GgufFile and does not refer to it
/// afterwards. Thread affinity: immutable after `from_gguf`; every const member function may be
/// called from any number of threads at once. Errors: building one fails with
/// errc::invalid_model (malformed tokenizer metadata, naming the key) or errc::unsupported (a
/// tokenizer or pre-tokenizer kind we do not implement, naming it). Tokenizing never fails: any
/// byte string is accepted (invalid UTF-8 is handled as llama.cpp does).

#include "agentd/base/result.h"
#include "agentd/inference/errc.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::inference {

class GgufFile;

namespace detail {
struct Vocab;
}

/// A token id: an index into the vocabulary.
using TokenId = int32_t;

/// "No such token" (e.g. a vocabulary without an EOT token).
inline constexpr TokenId kNoToken = -1;

/// The tokenization algorithm of a vocabulary.
enum class TokenizerKind {
    spm, ///< SentencePiece BPE over scores (`tokenizer.ggml.model` = "llama")
    bpe, ///< merge-ranked BPE with a regex pre-tokenizer ("gpt2", "gemma4")
    wpm, ///< WordPiece ("bert")
};

/// Per-token attribute bits (the same values llama.cpp uses).
namespace token_attr {
inline constexpr uint32_t unknown = 1U << 0;
inline constexpr uint32_t unused = 1U << 1;
inline constexpr uint32_t normal = 1U << 2;
inline constexpr uint32_t control = 1U << 3;
inline constexpr uint32_t user_defined = 1U << 4;
inline constexpr uint32_t byte = 1U << 5;
inline constexpr uint32_t lstrip = 1U << 7;
inline constexpr uint32_t rstrip = 1U << 8;
} // namespace token_attr

struct TokenizeOptions {
    /// Add BOS / EOS / SEP as the vocabulary asks (llama.cpp's `add_special`).
    bool add_special = true;
    /// Text spelling a control or unknown-type token (e.g. "<s>") becomes that token; when false
    /// such text is tokenized literally. User-defined tokens are always recognised.
    bool parse_special = true;
};

struct DetokenizeOptions {
    /// Drop a leading BOS and a trailing EOS that the vocabulary would have added.
    bool remove_special = false;
    /// Render control tokens as their text (otherwise they produce nothing).
    bool unparse_special = false;
};

/// A vocabulary and its tokenizer. Immutable; see the header comment.
class Tokenizer {
public:
    /// Builds the tokenizer described by `file`'s metadata.
    [[nodiscard]] static base::Result<Tokenizer> from_gguf(const GgufFile& file);

    Tokenizer(Tokenizer&&) noexcept;
    Tokenizer& operator=(Tokenizer&&) noexcept;
    Tokenizer(const Tokenizer&) = delete;
    Tokenizer& operator=(const Tokenizer&) = delete;
    ~Tokenizer();

    [[nodiscard]] TokenizerKind kind() const noexcept;
    /// `tokenizer.ggml.model` ("llama", "gpt2", "bert", "gemma4").
    [[nodiscard]] std::string_view model_name() const noexcept;
    /// The pre-tokenizer in use ("default" when the file names none; "" for spm/wpm).
    [[nodiscard]] std::string_view pre_name() const noexcept;
    [[nodiscard]] uint32_t vocab_size() const noexcept;

    /// Special tokens; kNoToken when the vocabulary has none.
    [[nodiscard]] TokenId bos() const noexcept;
    [[nodiscard]] TokenId eos() const noexcept;
    [[nodiscard]] TokenId eot() const noexcept;
    [[nodiscard]] TokenId eom() const noexcept;
    [[nodiscard]] TokenId unk() const noexcept;
    [[nodiscard]] TokenId sep() const noexcept;
    [[nodiscard]] TokenId pad() const noexcept;
    [[nodiscard]] TokenId newline() const noexcept;
    /// Whether `tokenize(..., add_special)` adds BOS / EOS.
    [[nodiscard]] bool add_bos() const noexcept;
    [[nodiscard]] bool add_eos() const noexcept;

    /// True for every token that ends generation (EOS, EOT, EOM and the end tokens llama.cpp
    /// recognises by their text, e.g. "<|im_end|>").
    [[nodiscard]] bool is_eog(TokenId id) const noexcept;
    /// Attribute bits (token_attr::*) of `id`; 0 when out of range.
    [[nodiscard]] uint32_t attributes(TokenId id) const noexcept;
    /// The vocabulary string of `id` ("▁Hello", "Ġworld", "<0x0A>"); empty when out of range.
    [[nodiscard]] std::string_view token_text(TokenId id) const noexcept;
    [[nodiscard]] float score(TokenId id) const noexcept;
    /// The id whose vocabulary string is exactly `text`.
    [[nodiscard]] std::optional<TokenId> find(std::string_view text) const noexcept;

    /// Token ids of `text` (any bytes).
    [[nodiscard]] std::vector<TokenId> tokenize(std::string_view text,
                                                TokenizeOptions options = {}) const;

    /// The bytes `id` stands for: byte-level tokens decoded, SentencePiece's "▁" as a space, byte
    /// tokens as their byte. Control and unknown-type tokens give their text only when `special`
    /// is set, else "". May be a partial UTF-8 character. Empty for an out-of-range id.
    [[nodiscard]] std::string_view piece(TokenId id, bool special = false) const noexcept;

    /// The text of a token sequence, as llama.cpp's detokenize (leading-space removal and, for
    /// vocabularies that ask for it, clean-up of spaces before punctuation). Fails with
    /// errc::invalid_argument naming the first out-of-range id.
    [[nodiscard]] base::Result<std::string> detokenize(std::span<const TokenId> ids,
                                                       DetokenizeOptions options = {}) const;

private:
    explicit Tokenizer(std::unique_ptr<detail::Vocab> vocab) noexcept;
    std::unique_ptr<detail::Vocab> vocab_;
};

/// Turns a stream of generated tokens into text without ever emitting part of a UTF-8
/// character: bytes of an incomplete character are held until the token that completes them;
/// bytes that can never form a valid character come out as U+FFFD. The output is always valid
/// UTF-8. One per sequence; not thread-safe; borrows the Tokenizer, which must outlive it.
class StreamDecoder {
public:
    /// `special`: render control tokens as their text.
    explicit StreamDecoder(const Tokenizer& tokenizer, bool special = false) noexcept;

    /// Appends `id`'s piece and returns the text that became complete (possibly empty). An
    /// out-of-range id contributes nothing.
    [[nodiscard]] std::string push(TokenId id);
    /// Ends the stream: any held incomplete bytes come out as U+FFFD.
    [[nodiscard]] std::string flush();

private:
    const Tokenizer* tokenizer_;
    bool special_;
    std::string pending_; // bytes of an incomplete trailing character
};

} // namespace agentd::inference
