#pragma once
/// Reading and validating OpenAI request bodies: the body as a bounded JSON object, typed field
/// accessors that name the field in their errors, and the parameters chat and text completions
/// share (model, sampling, max_tokens, stop, stream, ...).
///
/// Thread affinity: none. Errors: every accessor returns an ApiError (400, `param` set) for a
/// field of the wrong type or out of range; JSON null counts as absent, as OpenAI treats it.

#include "agentd/inference/sampling.h"
#include "agentd/inference/value.h"

#include "openai/api_error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// Binds `var` to the ApiResult of `expr`, returning its error from the enclosing function.
#define AGENTD_OPENAI_TRY(var, expr)                                                               \
    auto var = (expr);                                                                             \
    if (!var) {                                                                                    \
        return var.error();                                                                        \
    }

namespace agentd::gateway::openai {

/// Limits on what one request may ask for.
struct RequestLimits {
    std::size_t max_body_bytes = 8u << 20;
    std::size_t max_stop = 4;
    std::size_t max_stop_bytes = 256;
    std::size_t max_logit_bias = 1024;
    std::size_t max_messages = 4096;
    std::size_t max_tools = 128;
    std::size_t max_embedding_inputs = 2048;
};

/// Parses the body as one JSON object (strict, depth- and size-limited).
[[nodiscard]] ApiResult<inference::Value> parse_body(std::string_view body,
                                                     const RequestLimits& limits);

/// Typed, validated access to an object's fields.
class Fields {
public:
    Fields(const inference::Value& object, std::string prefix = {})
        : object_(object), prefix_(std::move(prefix)) {}

    /// The field, or nullptr when absent or null.
    [[nodiscard]] const inference::Value* get(std::string_view key) const;
    /// "prefix.key" for error messages.
    [[nodiscard]] std::string path(std::string_view key) const;

    [[nodiscard]] ApiResult<std::optional<std::string>> string(std::string_view key,
                                                               std::size_t max_bytes) const;
    [[nodiscard]] ApiResult<std::optional<bool>> boolean(std::string_view key) const;
    [[nodiscard]] ApiResult<std::optional<double>> number(std::string_view key, double min,
                                                          double max) const;
    [[nodiscard]] ApiResult<std::optional<std::int64_t>>
    integer(std::string_view key, std::int64_t min, std::int64_t max) const;

private:
    const inference::Value& object_;
    std::string prefix_;
};

/// What chat and text completions share.
struct CommonParams {
    std::string model;
    inference::SamplingParams sampling;
    std::int32_t max_tokens = -1; ///< -1: not given
    std::vector<std::string> stop;
    bool stream = false;
    bool include_usage = false; ///< stream_options.include_usage
    bool ignore_eos = false;    ///< vLLM extension
    int priority = 0;           ///< vLLM extension (larger runs first here)
};

/// Reads model, temperature, top_p, top_k, min_p, presence/frequency/repetition penalties,
/// seed, logit_bias, max_tokens / max_completion_tokens, stop, n (must be 1), stream,
/// stream_options, ignore_eos and priority.
[[nodiscard]] ApiResult<CommonParams> parse_common(const Fields& body, const RequestLimits& limits,
                                                   std::int32_t n_vocab);

} // namespace agentd::gateway::openai
