#include "agentd/gateway/errc.h"

namespace agentd::gateway {
namespace {

const char* describe(errc e) noexcept {
    switch (e) {
    case errc::invalid_config:
        return "invalid configuration";
    case errc::unauthorized:
        return "unauthorized";
    case errc::forbidden:
        return "forbidden";
    case errc::not_found:
        return "not found";
    case errc::payload_too_large:
        return "payload too large";
    case errc::unavailable:
        return "service unavailable";
    }
    return "unknown gateway error";
}

} // namespace

const boost::system::error_category& error_category() noexcept {
    static const base::EnumErrorCategory<errc> category("agentd.gateway", &describe);
    return category;
}

} // namespace agentd::gateway
