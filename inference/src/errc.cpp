#include "agentd/inference/errc.h"

namespace agentd::inference {
namespace {

const char* describe(errc e) noexcept {
    switch (e) {
    case errc::invalid_model:
        return "invalid or corrupt model file";
    case errc::unsupported:
        return "unsupported model feature";
    case errc::invalid_argument:
        return "invalid argument";
    case errc::context_overflow:
        return "prompt does not fit the context";
    case errc::kv_cache_full:
        return "KV cache is full";
    case errc::cancelled:
        return "cancelled";
    case errc::device_oom:
        return "out of device memory";
    case errc::io_error:
        return "I/O error";
    case errc::invalid_json:
        return "invalid JSON";
    case errc::template_error:
        return "chat template error";
    case errc::invalid_schema:
        return "invalid JSON schema or grammar";
    case errc::overloaded:
        return "too many requests are waiting";
    }
    return "unknown inference error";
}

} // namespace

const boost::system::error_category& error_category() noexcept {
    static const base::EnumErrorCategory<errc> category("agentd.inference", &describe);
    return category;
}

} // namespace agentd::inference
