#include "routes/json_body.h"

#include <stdexcept>
#include <string>

namespace agentd::gateway::routes {
namespace {

struct TooDeep : std::runtime_error {
    TooDeep() : std::runtime_error("too deep") {}
};

} // namespace

std::optional<nlohmann::json> read_json_body(const http::Request& request,
                                             http::ResponseWriter& writer) {
    using json = nlohmann::json;
    const auto type = request.header("Content-Type");
    const std::string_view media = type ? type->substr(0, type->find(';')) : std::string_view{};
    if (media.find("json") == std::string_view::npos) {
        writer.respond(http::Response::error(
            415, "unsupported_media_type",
            "the request body must be JSON (Content-Type: application/json)"));
        return std::nullopt;
    }
    const json::parser_callback_t limit_depth = [](int depth, json::parse_event_t, json&) {
        if (depth > kMaxBodyDepth) {
            throw TooDeep();
        }
        return true;
    };
    try {
        return json::parse(request.body, limit_depth);
    } catch (const TooDeep&) {
        writer.respond(http::Response::error(400, "invalid_json",
                                             "the request body is nested deeper than " +
                                                 std::to_string(kMaxBodyDepth) + " levels"));
    } catch (const json::exception& e) {
        std::string what = e.what();
        if (const auto close = what.find("] "); close != std::string::npos) {
            what = what.substr(close + 2); // drop "[json.exception.parse_error.101] "
        }
        writer.respond(http::Response::error(400, "invalid_json",
                                             "the request body is not valid JSON: " + what));
    }
    return std::nullopt;
}

http::Response json_response(unsigned status, const nlohmann::json& body) {
    return http::Response::json(
        status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

} // namespace agentd::gateway::routes
