#include "openai/handlers.h"

namespace agentd::gateway::openai {

using inference::Value;

namespace {

/// The prompt of /v1/completions: a string, or token ids; arrays of one prompt are accepted
/// (several prompts in one request are not).
ApiResult<std::vector<inference::TokenId>> prompt_tokens(const ModelService& svc,
                                                         const Fields& body) {
    const Value* prompt = body.get("prompt");
    if (prompt == nullptr) {
        return invalid_request("'prompt' is required", "prompt");
    }
    const Value* one = prompt;
    if (prompt->is_array() && !prompt->as_array().empty() &&
        (prompt->as_array()[0].is_string() || prompt->as_array()[0].is_array())) {
        if (prompt->as_array().size() != 1) {
            return invalid_request("only one prompt per request is supported", "prompt");
        }
        one = &prompt->as_array()[0];
    }
    if (one->is_string()) {
        if (one->as_string().empty()) {
            return invalid_request("'prompt' must not be empty", "prompt");
        }
        return svc.tokenize(one->as_string());
    }
    if (one->is_array() && !one->as_array().empty()) {
        std::vector<inference::TokenId> ids;
        const auto n_vocab = svc.scheduler().model_info().n_vocab;
        for (const auto& t : one->as_array()) {
            if (!t.is_int() || t.as_int() < 0 || t.as_int() >= n_vocab) {
                return invalid_request("'prompt' token ids must be integers below " +
                                           std::to_string(n_vocab),
                                       "prompt");
            }
            ids.push_back(static_cast<inference::TokenId>(t.as_int()));
        }
        return ids;
    }
    return invalid_request("'prompt' must be a string or an array of token ids", "prompt");
}

} // namespace

void handle_completions(const std::shared_ptr<OpenAiModule>& module, const http::Request& request,
                        const http::ResponseWriterPtr& writer) {
    const ModelService& svc = *module->model;
    auto answer = [&]() -> ApiResult<void> {
        AGENTD_OPENAI_TRY(body, parse_body(request.body, module->limits));
        Fields f(*body);
        AGENTD_OPENAI_TRY(common,
                          parse_common(f, module->limits, svc.scheduler().model_info().n_vocab));
        if (auto ok = check_model(svc, common->model); !ok) {
            return ok.error();
        }
        AGENTD_OPENAI_TRY(echo, f.boolean("echo"));
        if (echo->value_or(false)) {
            return invalid_request("'echo' is not supported", "echo");
        }
        AGENTD_OPENAI_TRY(suffix, f.string("suffix", 1u << 20));
        if (suffix->has_value() && !(*suffix)->empty()) {
            return invalid_request("'suffix' is not supported", "suffix");
        }
        AGENTD_OPENAI_TRY(best_of, f.integer("best_of", 1, 1));
        (void)best_of;
        AGENTD_OPENAI_TRY(logprobs, f.integer("logprobs", 0, 20));
        AGENTD_OPENAI_TRY(prompt, prompt_tokens(svc, f));
        inference::GenerationRequest gen;
        gen.prompt = std::move(*prompt);
        svc.apply_common(*common, gen);
        if (common->max_tokens < 0 && gen.decoder.max_tokens < 0) {
            gen.decoder.max_tokens = 16; // OpenAI's default for /v1/completions
        }
        if (logprobs->has_value()) {
            gen.decoder.sampling.logprobs = true;
            gen.decoder.sampling.top_logprobs = static_cast<std::int32_t>(**logprobs);
        }
        gen.cache_namespace = svc.cache_namespace(request.principal.tenant);
        CallOptions options;
        options.kind = CallOptions::Kind::text;
        options.stream = common->stream;
        options.include_usage = common->include_usage;
        options.logprobs = logprobs->has_value();
        options.top_logprobs = static_cast<int>(logprobs->value_or(0));
        options.model = svc.model_id();
        run_completion(module, writer, std::move(options), std::move(gen));
        return {};
    }();
    if (!answer) {
        writer->respond(error_response(answer.error()));
    }
}

} // namespace agentd::gateway::openai
