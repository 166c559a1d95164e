#pragma once
/// Error codes of the inference module (STYLE.md 2.3). Values are stable: append, never reorder.

#include "agentd/base/result.h"

namespace agentd::inference {

enum class errc {
    invalid_model = 1, // 0 means success for error_code
    unsupported,
    invalid_argument,
    context_overflow,
    kv_cache_full,
    cancelled,
    device_oom,
    io_error,
    // Chat layer (templates, JSON, grammars, tool calls).
    invalid_json,   // malformed JSON text or a JSON limit exceeded
    template_error, // a chat template failed to parse or render (incl. raise_exception)
    invalid_schema, // a JSON Schema or grammar that cannot be compiled
    // Serving layer (scheduler).
    overloaded, // the scheduler's waiting queue is full; retry later
};

/// The "agentd.inference" error category. Thread-safe.
const boost::system::error_category& error_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

} // namespace agentd::inference

AGENTD_DECLARE_ERRC(agentd::inference::errc);
