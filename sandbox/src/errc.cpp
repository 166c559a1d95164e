#include "agentd/sandbox/errc.h"

namespace agentd::sandbox {
namespace {

const char* describe(errc e) noexcept {
    switch (e) {
    case errc::invalid_argument:
        return "invalid sandbox request";
    case errc::unavailable:
        return "required isolation layer unavailable";
    case errc::spawn_failed:
        return "could not start the sandboxed process";
    case errc::io_error:
        return "I/O error";
    case errc::limit_exceeded:
        return "a sandbox limit was exceeded";
    case errc::busy:
        return "too many sandbox runs are waiting";
    case errc::not_found:
        return "no such workspace or file";
    case errc::cancelled:
        return "the run was cancelled";
    }
    return "unknown sandbox error";
}

} // namespace

const boost::system::error_category& error_category() noexcept {
    static const base::EnumErrorCategory<errc> category("agentd.sandbox", &describe);
    return category;
}

} // namespace agentd::sandbox
