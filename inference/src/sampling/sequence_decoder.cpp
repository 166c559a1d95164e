#include "agentd/inference/errc.h"
#include "agentd/inference/sampling_sequence.h"

#include <algorithm>

namespace agentd::inference {

base::Result<SequenceDecoder> SequenceDecoder::create(SequenceDecoderConfig config,
                                                      std::int32_t n_vocab) {
    auto sampler = Sampler::create(config.sampling, n_vocab);
    if (!sampler) {
        return sampler.error();
    }
    if (config.grammar && config.grammar->vocab().size() != n_vocab) {
        return base::Error(errc::invalid_argument,
                           "the grammar was compiled for a vocabulary of a different size");
    }
    return SequenceDecoder(std::move(config), std::move(*sampler));
}

SequenceDecoder::SequenceDecoder(SequenceDecoderConfig config, Sampler sampler)
    : config_(std::move(config)), sampler_(std::move(sampler)), stop_(config_.stop),
      parser_(config_.parser) {
    if (config_.grammar && config_.grammar_triggers.empty()) {
        matcher_ = std::make_unique<GrammarMatcher>(config_.grammar);
    }
}

SequenceDecoder::SequenceDecoder(SequenceDecoder&&) noexcept = default;
SequenceDecoder& SequenceDecoder::operator=(SequenceDecoder&&) noexcept = default;
SequenceDecoder::~SequenceDecoder() = default;

SampledToken SequenceDecoder::sample(std::span<const float> logits) {
    if (!matcher_) {
        return sampler_.sample(logits);
    }
    mask_.resize(matcher_->mask_words());
    matcher_->fill_next_token_bitmask(mask_);
    return sampler_.sample(logits, mask_);
}

// Lazy grammar: once a trigger appears in the output, the rest of the output (from the
// trigger on) must follow the grammar.
void SequenceDecoder::check_triggers(std::string_view piece) {
    std::size_t longest = 0;
    for (const auto& t : config_.grammar_triggers) {
        longest = std::max(longest, t.size());
    }
    recent_.append(piece);
    std::size_t best = std::string::npos;
    for (const auto& t : config_.grammar_triggers) {
        best = std::min(best, recent_.find(t));
    }
    if (best == std::string::npos) {
        if (recent_.size() > longest) {
            recent_.erase(0, recent_.size() - longest);
        }
        return;
    }
    auto m = std::make_unique<GrammarMatcher>(config_.grammar);
    if (m->accept_text(std::string_view(recent_).substr(best))) {
        matcher_ = std::move(m);
    }
    config_.grammar_triggers.clear(); // a trigger the grammar rejects is not retried
    recent_.clear();
}

SequenceDecoder::Update SequenceDecoder::accept(std::int32_t token, std::string_view piece,
                                                bool end_of_generation) {
    Update u;
    if (done_) {
        u.finish = FinishReason::stop;
        return u;
    }
    sampler_.accept(token);
    ++generated_;
    bool grammar_done = false;
    if (matcher_) {
        // The mask only offers allowed tokens; a caller that appends something else (a forced
        // token) is followed when possible.
        if (matcher_->accept_token(token)) {
            grammar_done = matcher_->is_terminated();
        }
    }
    if (end_of_generation || grammar_done) {
        close(u, FinishReason::stop);
        return u;
    }
    if (!matcher_ && config_.grammar && !config_.grammar_triggers.empty()) {
        check_triggers(piece);
    }
    auto visible = stop_.feed(piece);
    auto deltas = parser_.feed(visible.text);
    u.deltas.insert(u.deltas.end(), std::make_move_iterator(deltas.begin()),
                    std::make_move_iterator(deltas.end()));
    if (visible.stopped) {
        close(u, FinishReason::stop);
    } else if (config_.max_tokens >= 0 && generated_ >= config_.max_tokens) {
        close(u, FinishReason::length);
    }
    return u;
}

SequenceDecoder::Update SequenceDecoder::finish(FinishReason reason) {
    Update u;
    if (!done_) {
        close(u, reason);
    } else {
        u.finish = reason;
    }
    return u;
}

void SequenceDecoder::close(Update& u, FinishReason reason) {
    done_ = true;
    auto held = parser_.feed(stop_.finish());
    u.deltas.insert(u.deltas.end(), std::make_move_iterator(held.begin()),
                    std::make_move_iterator(held.end()));
    auto rest = parser_.finish();
    if (rest) {
        u.deltas.insert(u.deltas.end(), std::make_move_iterator(rest->begin()),
                        std::make_move_iterator(rest->end()));
    } else {
        u.error = rest.error().what();
    }
    u.finish = reason;
    if (reason == FinishReason::stop && !parser_.tool_calls().empty() && !u.error) {
        u.finish = FinishReason::tool_calls;
    }
}

} // namespace agentd::inference
