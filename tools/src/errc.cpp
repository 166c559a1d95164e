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
    case errc::invalid_schema:
        return "invalid JSON Schema";
    case errc::dns_failure:
        return "host name did not resolve";
    case errc::connection_refused:
        return "connection refused";
    case errc::connection_failed:
        return "connection failed";
    case errc::tls_error:
        return "TLS failure";
    case errc::response_too_large:
        return "response too large";
    case errc::bad_response:
        return "malformed response";
    case errc::cancelled:
        return "cancelled";
    case errc::busy:
        return "too many concurrent requests";
    case errc::storage_failed:
        return "tool store failure";
    case errc::limit_exceeded:
        return "limit exceeded";
    }
    return "unknown tools error";
}

} // namespace

const boost::system::error_category& error_category() noexcept {
    static const base::EnumErrorCategory<errc> category("agentd.tools", &describe);
    return category;
}

} // namespace agentd::tools
