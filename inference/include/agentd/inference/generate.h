#pragma once
/// A simple synchronous generation loop over an Engine (the CLI and tests use it; the server
/// drives Engine::step from its scheduler instead).
///
/// Thread affinity: the Engine's thread. Errors: as Engine::step (e.g. context_overflow when the
/// prompt does not fit, invalid_argument for an empty prompt).

#include "agentd/base/result.h"
#include "agentd/inference/engine.h"
#include "agentd/inference/sampling.h"

#include <functional>
#include <span>
#include <vector>

namespace agentd::inference {

enum class FinishReason {
    length,  ///< max_tokens generated
    eog,     ///< an end-of-generation token
    stopped, ///< on_token returned false
    context, ///< the context is full
};

/// Sampling parameters for greedy decoding (temperature 0).
[[nodiscard]] inline SamplingParams greedy_sampling() {
    SamplingParams p;
    p.temperature = 0.0f;
    return p;
}

struct GenerateOptions {
    std::int32_t max_tokens = 16;
    SamplingParams sampling = greedy_sampling(); ///< greedy unless the caller sets a temperature
    bool stop_at_eog = true;
};

struct GenerateResult {
    std::vector<TokenId> tokens; ///< generated tokens (an end token is not included)
    FinishReason finish = FinishReason::length;
    double prefill_seconds = 0.0;
    double decode_seconds = 0.0;
};

/// Generates after `prompt` in a fresh sequence (removed afterwards). `on_token` sees each token
/// as it is produced and may return false to stop.
[[nodiscard]] base::Result<GenerateResult>
generate(Engine& engine, std::span<const TokenId> prompt, const GenerateOptions& options,
         const std::function<bool(TokenId)>& on_token = {});

} // namespace agentd::inference
