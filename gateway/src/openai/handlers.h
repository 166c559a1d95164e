#pragma once
/// The request handlers of the OpenAI-compatible routes. Each runs on the blocking pool (JSON
/// parsing, template rendering, tokenizing and grammar compilation are CPU work that must not
/// hold an I/O thread), answers errors at once and hands valid requests to the scheduler.
///
/// Thread affinity: any thread of the blocking pool. Errors: answered in OpenAI's error shape;
/// nothing is thrown.

#include "http/handler.h"
#include "openai/openai_module.h"

#include <memory>

namespace agentd::gateway::openai {

void handle_chat(const std::shared_ptr<OpenAiModule>& module, const http::Request& request,
                 const http::ResponseWriterPtr& writer);
void handle_completions(const std::shared_ptr<OpenAiModule>& module, const http::Request& request,
                        const http::ResponseWriterPtr& writer);
void handle_embeddings(const std::shared_ptr<OpenAiModule>& module, const http::Request& request,
                       const http::ResponseWriterPtr& writer);

/// 404 unless `model` is empty or names the served model.
[[nodiscard]] ApiResult<void> check_model(const ModelService& service, const std::string& model);

} // namespace agentd::gateway::openai
