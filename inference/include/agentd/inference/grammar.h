#pragma once
/// Grammar-constrained decoding: JSON Schema (or GBNF text) -> grammar -> per-step token mask.
///
/// Pipeline:
///  - `Grammar` is vocabulary-independent: a recursive transition network (one byte-level NFA per
///    rule, calls for recursive or shared rules), compiled from a JSON Schema (Value) or GBNF.
///  - `GrammarVocabulary` is built once per model from the token byte strings: a token trie plus
///    the special and end-of-sequence tokens.
///  - `CompiledGrammar` binds a grammar to a vocabulary and caches, per automaton state, the
///    tokens that are accepted whatever the surrounding stack is, plus the trie positions where
///    the current rule may end (only those need the stack). It is shared by every sequence that
///    uses the same grammar.
///  - `GrammarMatcher` tracks one sequence: accept_token() advances, fill_next_token_bitmask()
///    writes the allowed tokens (end-of-sequence only when the grammar is complete).
///
/// Tokens that span grammar elements are handled byte by byte (a token like `",` ends a string
/// and starts the separator), including tokens that end inside a UTF-8 character.
///
/// Ownership: Grammar and GrammarVocabulary are immutable and shared (shared_ptr); a
/// CompiledGrammar's cache is guarded by a mutex, so sequences on different threads may share
/// it; a GrammarMatcher belongs to one sequence and one thread at a time.
/// Errors: construction returns errc::invalid_schema naming the unsupported keyword, bad
/// reference or limit; accept_token() returns false for a token the grammar does not allow.

#include "agentd/base/result.h"
#include "agentd/inference/value.h"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::inference {

class Tokenizer;

namespace grammar {
struct Program;
class Builder;
class MaskCache;
class Tables;
} // namespace grammar

struct JsonSchemaOptions {
    /// Whitespace allowed between JSON tokens: up to this many of space, tab, newline, CR per
    /// gap; 0 produces compact JSON only.
    int max_whitespace = 20;
    /// Objects whose schema does not say `additionalProperties` accept no other keys (OpenAI
    /// strict mode; JSON Schema's own default would let the model add arbitrary keys).
    bool strict = true;
};

class Grammar {
public:
    /// A grammar for the instances of `schema` (JSON Schema draft 2020-12 subset, see
    /// docs/CHAT.md). Errors: errc::invalid_schema with the JSON pointer and the reason.
    [[nodiscard]] static base::Result<Grammar>
    from_json_schema(const Value& schema, const JsonSchemaOptions& options = {});
    /// Any JSON value (object_only: any JSON object), for response_format json_object.
    [[nodiscard]] static Grammar any_json(bool object_only, const JsonSchemaOptions& options = {});
    /// GBNF text (llama.cpp's grammar format: `root ::= ...`, literals, [classes], groups,
    /// * + ? {m,n}, and `<text>` for a special token). Errors: errc::invalid_schema with the
    /// line and column.
    [[nodiscard]] static base::Result<Grammar> from_gbnf(std::string_view text);

    /// Number of automaton states (for limits and diagnostics).
    [[nodiscard]] std::size_t state_count() const;

    /// Internal: wraps a compiled program (used by the tool-call grammars).
    explicit Grammar(std::shared_ptr<const grammar::Program> program)
        : program_(std::move(program)) {}
    [[nodiscard]] const grammar::Program& program() const { return *program_; }
    [[nodiscard]] const std::shared_ptr<const grammar::Program>& shared_program() const {
        return program_;
    }

private:
    std::shared_ptr<const grammar::Program> program_;
};

/// The token set of a model, as the grammar layer needs it.
class GrammarVocabulary {
public:
    /// token_bytes[i] are the bytes token i adds to the output text (after byte-level decoding;
    /// empty for tokens that add nothing). special[i] marks control tokens: they are never
    /// allowed as text, only where a grammar names them. eos are the tokens that end a
    /// sequence (allowed only when the grammar is complete).
    [[nodiscard]] static std::shared_ptr<const GrammarVocabulary>
    build(std::vector<std::string> token_bytes, std::vector<bool> special,
          std::vector<std::int32_t> eos);

    /// The vocabulary of a model's tokenizer: token bytes as generated (byte-level BPE decoded,
    /// SentencePiece "▁" as space, byte tokens as their byte), control/unknown/unused tokens
    /// as special (their text kept for grammars that name them), end-of-generation tokens as eos.
    [[nodiscard]] static std::shared_ptr<const GrammarVocabulary>
    from_tokenizer(const Tokenizer& tokenizer);

    [[nodiscard]] std::int32_t size() const noexcept {
        return static_cast<std::int32_t>(token_bytes_.size());
    }
    [[nodiscard]] const std::string& bytes(std::int32_t id) const {
        return token_bytes_[static_cast<std::size_t>(id)];
    }
    [[nodiscard]] bool is_special(std::int32_t id) const {
        return special_[static_cast<std::size_t>(id)];
    }
    [[nodiscard]] bool is_eos(std::int32_t id) const;
    [[nodiscard]] const std::vector<std::int32_t>& eos() const noexcept { return eos_; }
    /// A token whose bytes are exactly `text` (special tokens first), or -1.
    [[nodiscard]] std::int32_t find(std::string_view text) const;

    /// The trie over non-special tokens, in depth-first preorder: node 0 is the root (empty
    /// prefix); the children of n are n+1, end(n+1), ... up to end(n).
    struct TrieNode {
        std::uint8_t byte = 0;
        std::int32_t end = 0;         ///< one past the last node of this subtree
        std::int32_t first_token = 0; ///< tokens ending here: ids[first_token, last_token)
        std::int32_t last_token = 0;
    };
    [[nodiscard]] const std::vector<TrieNode>& trie() const noexcept { return trie_; }
    [[nodiscard]] const std::vector<std::int32_t>& trie_tokens() const noexcept {
        return trie_tokens_;
    }

private:
    std::vector<std::string> token_bytes_;
    std::vector<bool> special_;
    std::vector<std::int32_t> eos_;
    std::vector<TrieNode> trie_;
    std::vector<std::int32_t> trie_tokens_;
};

/// A grammar bound to a vocabulary, with the shared token-mask cache.
class CompiledGrammar {
public:
    [[nodiscard]] static base::Result<std::shared_ptr<CompiledGrammar>>
    create(const Grammar& grammar, std::shared_ptr<const GrammarVocabulary> vocab);
    ~CompiledGrammar();

    [[nodiscard]] const GrammarVocabulary& vocab() const noexcept { return *vocab_; }
    [[nodiscard]] const grammar::Program& program() const noexcept { return *program_; }
    /// States whose token masks are cached so far, and the bytes they use.
    [[nodiscard]] std::size_t cached_states() const;
    [[nodiscard]] std::size_t cache_bytes() const;

    /// Internal (matcher): the cache.
    [[nodiscard]] grammar::MaskCache& cache() const noexcept { return *cache_; }
    /// Internal: vocabulary id of program token index i, or -1.
    [[nodiscard]] std::int32_t token_id(std::int32_t index) const {
        return token_ids_[static_cast<std::size_t>(index)];
    }

private:
    CompiledGrammar() = default;
    std::shared_ptr<const grammar::Program> program_;
    std::shared_ptr<const GrammarVocabulary> vocab_;
    std::vector<std::int32_t> token_ids_;
    std::unique_ptr<grammar::MaskCache> cache_;
};

/// One sequence's position in a grammar.
class GrammarMatcher {
public:
    explicit GrammarMatcher(std::shared_ptr<CompiledGrammar> grammar);
    GrammarMatcher(GrammarMatcher&&) noexcept;
    GrammarMatcher& operator=(GrammarMatcher&&) noexcept;
    ~GrammarMatcher();

    /// Advances by one sampled token. Returns false (and stays put) when the token is not
    /// allowed; an end-of-sequence token is allowed only when is_complete().
    bool accept_token(std::int32_t token);
    /// Advances by raw text (e.g. a forced prefix). Returns false (and stays put) if rejected.
    bool accept_text(std::string_view text);

    /// Writes the allowed next tokens into `mask` (ceil(n_vocab / 32) words, bit i = token i).
    void fill_next_token_bitmask(std::span<std::uint32_t> mask);
    [[nodiscard]] std::size_t mask_words() const;

    /// The grammar could end here (end-of-sequence tokens are allowed).
    [[nodiscard]] bool is_complete() const;
    /// An end-of-sequence token was accepted.
    [[nodiscard]] bool is_terminated() const noexcept { return terminated_; }
    /// Nothing but end-of-sequence can follow (the output is fully determined).
    [[nodiscard]] bool only_end_allowed() const;
    /// Undoes the last `n` accepted tokens (n <= tokens accepted since the last compaction).
    bool rollback(std::size_t n);

    /// Test hook: whether `token` would be accepted, decided by stepping the automaton byte by
    /// byte without the mask cache (the reference the cached masks are checked against).
    [[nodiscard]] bool allows_for_test(std::int32_t token);

private:
    void compact_if_large();
    std::int32_t advance_bytes(std::int32_t set, std::string_view bytes);

    std::shared_ptr<CompiledGrammar> grammar_;
    std::unique_ptr<grammar::Tables> tables_;
    std::vector<std::int32_t> history_; // set ids; back() is the current set
    bool terminated_ = false;
};

} // namespace agentd::inference
