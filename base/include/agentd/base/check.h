#pragma once
/// Invariant checks (STYLE.md 2.3).
///
/// AGENTD_CHECK(cond, msg) is always on; AGENTD_ASSERT(cond, msg) only in debug builds. Both
/// print file, line, the condition and the message to stderr and abort. They are for bugs and
/// broken invariants only, never for anything an input can trigger: input errors are values.
/// Each use carries its reason as the message.

#include <cstdio>
#include <cstdlib>

namespace agentd::base::detail {

[[noreturn]] inline void check_failed(const char* file, int line, const char* cond,
                                      const char* msg) noexcept {
    std::fprintf(stderr, "agentd: check failed at %s:%d: %s (%s)\n", file, line, cond, msg);
    std::fflush(stderr);
    std::abort();
}

} // namespace agentd::base::detail

#define AGENTD_CHECK(cond, msg)                                                                    \
    do {                                                                                           \
        if (!(cond)) [[unlikely]] {                                                                \
            ::agentd::base::detail::check_failed(__FILE__, __LINE__, #cond, msg);                  \
        }                                                                                          \
    } while (false)

#if defined(AGENTD_DEBUG) || !defined(NDEBUG)
#define AGENTD_ASSERT(cond, msg) AGENTD_CHECK(cond, msg)
#else
#define AGENTD_ASSERT(cond, msg)                                                                   \
    do {                                                                                           \
        (void)sizeof(cond);                                                                        \
    } while (false)
#endif

/// Marks code that must never run (e.g. after an exhaustive switch).
#define AGENTD_UNREACHABLE(msg)                                                                    \
    ::agentd::base::detail::check_failed(__FILE__, __LINE__, "unreachable", msg)
