#include "agentd/tools/errc.h"

namespace agentd::tools {
namespace {

const char* describe(errc e) noexcept {
    switch (e) {
    case errc::invalid_argument:
        return "invalid argument";
    case errc::not_found:
        return "tool not found";
    case errc::conflict:
        return "tool already exists";
    case errc::validation_failed:
        return "arguments do not match the input schema";
    case errc::timeout:
        return "tool timed out";
    case errc::upstream_error:
        return "tool endpoint failed";
    case errc::forbidden:
        return "forbidden";
    }
    return "unknown tools error";
}

} // namespace

const boost::system::error_category& error_category() noexcept {
    static const base::EnumErrorCategory<errc> category("agentd.tools", &describe);
    return category;
}

} // namespace agentd::tools
