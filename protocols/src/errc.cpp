#include "agentd/protocols/errc.h"

namespace agentd::protocols {
namespace {

const char* describe(errc e) noexcept {
    switch (e) {
    case errc::parse_error:
        return "parse error";
    case errc::invalid_request:
        return "invalid request";
    case errc::method_not_found:
        return "method not found";
    case errc::invalid_params:
        return "invalid params";
    case errc::internal_error:
        return "internal error";
    case errc::unsupported_version:
        return "unsupported protocol version";
    case errc::resource_not_found:
        return "resource not found";
    case errc::missing_client_capability:
        return "missing required client capability";
    case errc::header_mismatch:
        return "header mismatch";
    case errc::busy:
        return "server busy";
    case errc::cancelled:
        return "cancelled";
    }
    return "unknown protocols error";
}

} // namespace

const boost::system::error_category& error_category() noexcept {
    static const base::EnumErrorCategory<errc> category("agentd.protocols", &describe);
    return category;
}

} // namespace agentd::protocols
