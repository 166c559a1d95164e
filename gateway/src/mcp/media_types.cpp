#include "mcp/media_types.h"

#include "http/text.h"

#include <cstdlib>
#include <string>

namespace agentd::gateway::mcp {
namespace {

using http::iequals;
using http::trim_ows;

// Splits "type/subtype;p=v;q=0.5" into the range and its q-value (1 when absent or malformed,
// 0 when "q=0" in any spelling).
std::string_view range_and_q(std::string_view item, double& q) {
    q = 1.0;
    const auto semi = item.find(';');
    std::string_view range = trim_ows(item.substr(0, semi));
    std::string_view params =
        semi == std::string_view::npos ? std::string_view() : item.substr(semi + 1);
    while (!params.empty()) {
        const auto next = params.find(';');
        std::string_view param = trim_ows(params.substr(0, next));
        params = next == std::string_view::npos ? std::string_view() : params.substr(next + 1);
        const auto eq = param.find('=');
        if (eq != std::string_view::npos && iequals(trim_ows(param.substr(0, eq)), "q")) {
            const std::string value(trim_ows(param.substr(eq + 1)));
            char* end = nullptr;
            const double parsed = std::strtod(value.c_str(), &end);
            if (end != value.c_str() && *end == '\0' && parsed >= 0.0 && parsed <= 1.0) {
                q = parsed;
            }
        }
    }
    return range;
}

} // namespace

bool accepts(std::string_view accept, std::string_view type) {
    const auto slash = type.find('/');
    const std::string_view major = type.substr(0, slash);
    while (!accept.empty()) {
        const auto comma = accept.find(',');
        const std::string_view item = accept.substr(0, comma);
        accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
        double q = 1.0;
        const std::string_view range = range_and_q(item, q);
        if (q <= 0.0) {
            continue;
        }
        const auto rslash = range.find('/');
        if (rslash == std::string_view::npos) {
            continue;
        }
        const std::string_view rmajor = range.substr(0, rslash);
        const std::string_view rminor = range.substr(rslash + 1);
        if ((rmajor == "*" && rminor == "*") || (iequals(rmajor, major) && rminor == "*") ||
            iequals(range, type)) {
            return true;
        }
    }
    return false;
}

bool is_json_content_type(std::string_view content_type) {
    const auto semi = content_type.find(';');
    if (!iequals(trim_ows(content_type.substr(0, semi)), "application/json")) {
        return false;
    }
    std::string_view params =
        semi == std::string_view::npos ? std::string_view() : content_type.substr(semi + 1);
    while (!params.empty()) {
        const auto next = params.find(';');
        std::string_view param = trim_ows(params.substr(0, next));
        params = next == std::string_view::npos ? std::string_view() : params.substr(next + 1);
        const auto eq = param.find('=');
        if (eq != std::string_view::npos && iequals(trim_ows(param.substr(0, eq)), "charset")) {
            std::string_view value = trim_ows(param.substr(eq + 1));
            if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
                value = value.substr(1, value.size() - 2);
            }
            if (!iequals(value, "utf-8") && !iequals(value, "utf8")) {
                return false;
            }
        }
    }
    return true;
}

} // namespace agentd::gateway::mcp
