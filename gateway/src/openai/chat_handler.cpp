#include "openai/chat_request.h"
#include "openai/handlers.h"

namespace agentd::gateway::openai {

ApiResult<void> check_model(const ModelService& service, const std::string& model) {
    if (model.empty() || model == service.model_id()) {
        return {};
    }
    ApiError e;
    e.status = 404;
    e.type = "invalid_request_error";
    e.code = "model_not_found";
    e.param = "model";
    e.message = "The model '" + model + "' does not exist; this server serves '" +
                service.model_id() + "' (GET /v1/models)";
    return e;
}

void handle_chat(const std::shared_ptr<OpenAiModule>& module, const http::Request& request,
                 const http::ResponseWriterPtr& writer) {
    if (module->agent_chat && module->agent_chat(request, writer)) {
        return; // the model name is an agent's
    }
    const ModelService& svc = *module->model;
    auto answer = [&]() -> ApiResult<void> {
        AGENTD_OPENAI_TRY(body, parse_body(request.body, module->limits));
        AGENTD_OPENAI_TRY(
            chat, parse_chat_request(*body, module->limits, svc.scheduler().model_info().n_vocab));
        if (auto ok = check_model(svc, chat->common.model); !ok) {
            return ok.error();
        }
        AGENTD_OPENAI_TRY(prepared, svc.prepare_chat(*chat));
        prepared->request.cache_namespace = svc.cache_namespace(request.principal.tenant);
        CallOptions options;
        options.kind = CallOptions::Kind::chat;
        options.stream = chat->common.stream;
        options.include_usage = chat->common.include_usage;
        options.logprobs = chat->logprobs;
        options.top_logprobs = chat->top_logprobs;
        options.model = svc.model_id();
        options.tool_format = prepared->tool_format;
        options.special_pieces = prepared->request.render_special;
        run_completion(module, writer, std::move(options), std::move(prepared->request));
        return {};
    }();
    if (!answer) {
        writer->respond(error_response(answer.error()));
    }
}

} // namespace agentd::gateway::openai
