#pragma once
/// The per-sequence pipeline between logits and chat deltas, for the scheduler: sampler, an
/// optional grammar (from the first token, or lazily once a trigger text appears), stop
/// strings, max_tokens, and the reasoning/tool-call parser.
///
///   auto d = SequenceDecoder::create(config, n_vocab);      // per request
///   token = d->sample(logits).token;                         // per step (mask applied)
///   auto u = d->accept(token, piece, tokenizer.is_eog(token)); // deltas + finish reason
///
/// `piece` is the token's detokenized text (control tokens rendered as text when the tool-call
/// format uses them, e.g. "[TOOL_CALLS]"). The end-of-generation token's own piece is not
/// shown. Ownership: owns its Sampler and GrammarMatcher; shares the CompiledGrammar. Thread
/// affinity: one thread at a time (the engine thread). Errors: create() validates the sampling
/// parameters (errc::invalid_argument); a tool call the model left broken is reported in
/// Update::error with finish reason `stop`.

#include "agentd/base/result.h"
#include "agentd/inference/grammar.h"
#include "agentd/inference/sampling.h"
#include "agentd/inference/tool_calls.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::inference {

struct SequenceDecoderConfig {
    SamplingParams sampling;
    std::int32_t max_tokens = -1;             ///< -1: no limit (the context bounds it)
    std::vector<std::string> stop;            ///< stop strings
    std::shared_ptr<CompiledGrammar> grammar; ///< optional constraint
    /// Empty: the grammar applies from the first token. Otherwise it applies from the first
    /// occurrence of one of these texts in the output (tool_choice "auto" with strict tools).
    std::vector<std::string> grammar_triggers;
    ToolCallParserOptions parser; ///< format none: everything is content
};

enum class FinishReason : std::uint8_t {
    none,       ///< still generating
    stop,       ///< end-of-generation token, stop string, or the grammar completed
    length,     ///< max_tokens
    tool_calls, ///< ended with one or more parsed tool calls
    cancelled,  ///< ended by the caller (finish())
};

class SequenceDecoder {
public:
    [[nodiscard]] static base::Result<SequenceDecoder> create(SequenceDecoderConfig config,
                                                              std::int32_t n_vocab);
    SequenceDecoder(SequenceDecoder&&) noexcept;
    SequenceDecoder& operator=(SequenceDecoder&&) noexcept;
    ~SequenceDecoder();

    /// Picks the next token (the grammar mask applied while the grammar is active).
    [[nodiscard]] SampledToken sample(std::span<const float> logits);

    struct Update {
        std::vector<ChatDelta> deltas;
        FinishReason finish = FinishReason::none;
        std::optional<std::string> error; ///< a broken or unfinished tool call
    };

    /// Records the token that was appended to the sequence.
    [[nodiscard]] Update accept(std::int32_t token, std::string_view piece, bool end_of_generation);
    /// Ends the sequence early (cancellation, full context): flushes held text.
    [[nodiscard]] Update finish(FinishReason reason);

    [[nodiscard]] std::int32_t generated() const noexcept { return generated_; }
    [[nodiscard]] bool grammar_active() const noexcept { return matcher_ != nullptr; }
    [[nodiscard]] const ToolCallParser& parser() const noexcept { return parser_; }

private:
    SequenceDecoder(SequenceDecoderConfig config, Sampler sampler);
    void close(Update& u, FinishReason reason);
    void check_triggers(std::string_view piece);

    SequenceDecoderConfig config_;
    Sampler sampler_;
    StopMatcher stop_;
    ToolCallParser parser_;
    std::unique_ptr<GrammarMatcher> matcher_;
    std::vector<std::uint32_t> mask_;
    std::string recent_; ///< output tail searched for triggers (lazy grammar)
    std::int32_t generated_ = 0;
    bool done_ = false;
};

} // namespace agentd::inference
