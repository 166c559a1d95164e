#include "agentd/inference/generate.h"

#include "agentd/inference/errc.h"

#include <chrono>

namespace agentd::inference {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// Removes the sequence on every exit path.
class SeqGuard {
public:
    SeqGuard(Engine& e, SeqId id) : engine_(e), id_(id) {}
    ~SeqGuard() { engine_.remove_sequence(id_); }
    SeqGuard(const SeqGuard&) = delete;
    SeqGuard& operator=(const SeqGuard&) = delete;

private:
    Engine& engine_;
    SeqId id_;
};

} // namespace

base::Result<GenerateResult> generate(Engine& engine, std::span<const TokenId> prompt,
                                      const GenerateOptions& options,
                                      const std::function<bool(TokenId)>& on_token) {
    if (prompt.empty()) {
        return base::fail(errc::invalid_argument, "the prompt has no tokens");
    }
    if (options.max_tokens < 0) {
        return base::fail(errc::invalid_argument, "max_tokens must not be negative");
    }
    if (prompt.size() > static_cast<std::size_t>(engine.n_ctx())) {
        return base::fail(errc::context_overflow,
                          "the prompt has " + std::to_string(prompt.size()) +
                              " tokens; the context holds " + std::to_string(engine.n_ctx()));
    }
    // A sequence id outside the range callers use.
    SeqId seq = 0xFFFF'FFFF'0000'0000ull;
    while (!engine.add_sequence(seq)) {
        ++seq;
    }
    SeqGuard guard(engine, seq);
    GenerateResult result;
    auto created = Sampler::create(options.sampling, engine.info().n_vocab);
    if (!created) {
        return created.error();
    }
    Sampler& sampler = *created;
    const Tokenizer& tok = engine.tokenizer();

    auto t0 = std::chrono::steady_clock::now();
    BatchEntry entry{seq, prompt, 0, OutputKind::logits_last};
    auto out = engine.step(std::span(&entry, 1));
    if (!out) {
        return out.error();
    }
    result.prefill_seconds = seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    std::int32_t pos = static_cast<std::int32_t>(prompt.size());
    for (std::int32_t i = 0; i < options.max_tokens; ++i) {
        const TokenId next = sampler.sample(out->logits_row(0)).token;
        sampler.accept(next);
        if (options.stop_at_eog && tok.is_eog(next)) {
            result.finish = FinishReason::eog;
            break;
        }
        result.tokens.push_back(next);
        if (on_token && !on_token(next)) {
            result.finish = FinishReason::stopped;
            break;
        }
        if (i + 1 == options.max_tokens) {
            break;
        }
        if (pos >= engine.n_ctx()) {
            result.finish = FinishReason::context;
            break;
        }
        BatchEntry step{seq, std::span(&result.tokens.back(), 1), pos, OutputKind::logits_last};
        out = engine.step(std::span(&step, 1));
        if (!out) {
            return out.error();
        }
        ++pos;
    }
    result.decode_seconds = seconds_since(t0);
    return result;
}

} // namespace agentd::inference
