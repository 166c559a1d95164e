#pragma once
/// OpenAI-shaped errors: `{"error": {"message", "type", "param", "code"}}` with the HTTP status
/// OpenAI uses for the same condition (400 invalid_request_error, 404 model_not_found, 503 when
/// no model is loaded or the queue is full, 500 for engine failures).
///
/// Plain values; thread affinity: none. `ApiResult<T>` carries either a value or an ApiError.

#include "agentd/base/result.h"

#include "http/handler.h"

#include <boost/system/result.hpp>

#include <string>
#include <string_view>

namespace agentd::gateway::openai {

struct ApiError {
    unsigned status = 400;
    std::string type = "invalid_request_error";
    std::string message;
    std::string param; ///< the offending request field ("" → null)
    std::string code;  ///< machine-readable code ("" → null)
};

/// boost::system::result's hook for value() on an error (a bug on the request path).
[[noreturn]] void throw_exception_from_error(const ApiError& e, const boost::source_location&);

template <class T>
using ApiResult = boost::system::result<T, ApiError>;

/// 400 invalid_request_error about `param`.
[[nodiscard]] ApiError invalid_request(std::string message, std::string param = {},
                                       std::string code = {});
/// 503: the server has no model loaded.
[[nodiscard]] ApiError no_model();
/// Maps an inference error (errc) to the status and type a client expects.
[[nodiscard]] ApiError from_error(const base::Error& error, std::string param = {});

/// The JSON body of `e`.
[[nodiscard]] std::string error_body(const ApiError& e);
[[nodiscard]] http::Response error_response(const ApiError& e);

} // namespace agentd::gateway::openai
