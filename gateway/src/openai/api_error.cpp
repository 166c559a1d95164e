#include "openai/api_error.h"

#include "agentd/inference/errc.h"
#include "agentd/inference/value_json.h"

#include <stdexcept>

namespace agentd::gateway::openai {

void throw_exception_from_error(const ApiError& e, const boost::source_location&) {
    throw std::runtime_error(e.message);
}

ApiError invalid_request(std::string message, std::string param, std::string code) {
    ApiError e;
    e.message = std::move(message);
    e.param = std::move(param);
    e.code = std::move(code);
    return e;
}

ApiError no_model() {
    ApiError e;
    e.status = 503;
    e.type = "server_error";
    e.code = "model_not_loaded";
    e.message = "no model is loaded: start agentd with --model FILE.gguf";
    return e;
}

ApiError from_error(const base::Error& error, std::string param) {
    using inference::errc;
    ApiError e;
    e.message = error.what();
    e.param = std::move(param);
    if (error.code.category() != inference::error_category()) {
        e.status = 500;
        e.type = "server_error";
        return e;
    }
    switch (static_cast<errc>(error.code.value())) {
    case errc::invalid_argument:
    case errc::invalid_json:
    case errc::invalid_schema:
    case errc::template_error:
        e.status = 400;
        e.type = "invalid_request_error";
        break;
    case errc::context_overflow:
        e.status = 400;
        e.type = "invalid_request_error";
        e.code = "context_length_exceeded";
        break;
    case errc::overloaded:
        e.status = 503;
        e.type = "server_error";
        e.code = "overloaded";
        break;
    case errc::cancelled:
        e.status = 503;
        e.type = "server_error";
        e.code = "cancelled";
        break;
    case errc::kv_cache_full:
    case errc::device_oom:
        e.status = 503;
        e.type = "server_error";
        e.code = "insufficient_resources";
        break;
    default:
        e.status = 500;
        e.type = "server_error";
        break;
    }
    return e;
}

std::string error_body(const ApiError& e) {
    std::string out = R"({"error":{"message":)";
    inference::append_json_string(out, e.message);
    out.append(R"(,"type":)");
    inference::append_json_string(out, e.type);
    out.append(R"(,"param":)");
    if (e.param.empty()) {
        out.append("null");
    } else {
        inference::append_json_string(out, e.param);
    }
    out.append(R"(,"code":)");
    if (e.code.empty()) {
        out.append("null");
    } else {
        inference::append_json_string(out, e.code);
    }
    out.append("}}");
    return out;
}

http::Response error_response(const ApiError& e) {
    return http::Response::json(e.status, error_body(e));
}

} // namespace agentd::gateway::openai
