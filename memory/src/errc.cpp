#include "agentd/memory/errc.h"

namespace agentd::memory {
namespace {

const char* describe(errc e) noexcept {
    switch (e) {
    case errc::invalid_argument:
        return "invalid argument";
    case errc::not_found:
        return "not found";
    case errc::conflict:
        return "already exists";
    case errc::busy:
        return "database busy";
    case errc::corrupt:
        return "database corrupt";
    case errc::io_error:
        return "database I/O error";
    case errc::schema_too_new:
        return "database schema is newer than this agentd";
    case errc::read_only:
        return "database is read-only";
    case errc::disk_full:
        return "database or disk is full";
    case errc::shutting_down:
        return "database is shutting down";
    case errc::queue_full:
        return "database write queue is full";
    case errc::budget_exceeded:
        return "token budget exceeded";
    case errc::internal:
        return "internal database error";
    }
    return "unknown memory error";
}

} // namespace

const boost::system::error_category& error_category() noexcept {
    static const base::EnumErrorCategory<errc> category("agentd.memory", &describe);
    return category;
}

} // namespace agentd::memory
