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
    case errc::task_not_found:
        return "task not found";
    case errc::task_not_cancelable:
        return "task not cancelable";
    case errc::push_not_supported:
        return "push notifications not supported";
    case errc::unsupported_operation:
        return "unsupported operation";
    case errc::content_type_not_supported:
        return "content type not supported";
    case errc::invalid_agent_response:
        return "invalid agent response";
    case errc::extended_card_not_configured:
        return "extended agent card not configured";
    case errc::extension_support_required:
        return "extension support required";
    case errc::version_not_supported:
        return "protocol version not supported";
    }
    return "unknown protocols error";
}

} // namespace

const boost::system::error_category& error_category() noexcept {
    static const base::EnumErrorCategory<errc> category("agentd.protocols", &describe);
    return category;
}

} // namespace agentd::protocols
