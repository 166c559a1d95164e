#include "schema/regex.h"

#include "agentd/tools/errc.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <array>
#include <utility>

namespace agentd::tools::schema {
namespace {

struct CodeDeleter {
    void operator()(pcre2_code* p) const noexcept { pcre2_code_free(p); }
};
struct CompileContextDeleter {
    void operator()(pcre2_compile_context* p) const noexcept { pcre2_compile_context_free(p); }
};
struct MatchContextDeleter {
    void operator()(pcre2_match_context* p) const noexcept { pcre2_match_context_free(p); }
};
struct MatchDataDeleter {
    void operator()(pcre2_match_data* p) const noexcept { pcre2_match_data_free(p); }
};

// ECMA-262 behaviour where PCRE2 offers it: `$` only at the very end, \uHHHH and \u{H...}
// escapes, `[]` / `[^]` classes, backreferences to unset groups match the empty string. No UCP:
// ECMA's \d, \w and \b are ASCII-only.
constexpr std::uint32_t compile_options = PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_BSUX |
                                          PCRE2_ALLOW_EMPTY_CLASS | PCRE2_MATCH_UNSET_BACKREF |
                                          PCRE2_NEVER_BACKSLASH_C;
constexpr std::uint32_t extra_options = PCRE2_EXTRA_ALT_BSUX;
constexpr std::uint32_t parens_nest_limit = 64;
// Backtracking memory per match: the JIT stack (per thread, grown on demand) and the
// interpreter's heap frames. Enough for repeated groups over ~100 KiB subjects.
constexpr std::size_t jit_stack_start = 32 * 1024;
constexpr std::size_t jit_stack_max = 8 * 1024 * 1024;
constexpr std::uint32_t heap_limit_kib = 32 * 1024;

struct JitStackDeleter {
    void operator()(pcre2_jit_stack* p) const noexcept { pcre2_jit_stack_free(p); }
};

// A JIT stack may be used by one thread at a time, so each thread gets its own; PCRE2 asks for
// it through this callback at match time.
pcre2_jit_stack* thread_jit_stack(void* /*unused*/) {
    thread_local std::unique_ptr<pcre2_jit_stack, JitStackDeleter> stack(
        pcre2_jit_stack_create(jit_stack_start, jit_stack_max, nullptr));
    return stack.get(); // nullptr → PCRE2 falls back to its small default stack
}

} // namespace

struct Regex::Handles {
    std::unique_ptr<pcre2_code, CodeDeleter> code;
    std::unique_ptr<pcre2_match_context, MatchContextDeleter> match_context;
};

Regex::Regex(std::string source, std::unique_ptr<Handles> handles)
    : source_(std::move(source)), handles_(std::move(handles)) {}

Regex::~Regex() = default;

base::Result<std::unique_ptr<Regex>> Regex::compile(std::string_view pattern,
                                                    const RegexLimits& limits) {
    if (pattern.size() > limits.max_pattern_length) {
        return base::fail(errc::invalid_schema, "pattern is " + std::to_string(pattern.size()) +
                                                    " bytes long; the limit is " +
                                                    std::to_string(limits.max_pattern_length));
    }
    std::unique_ptr<pcre2_compile_context, CompileContextDeleter> ccontext(
        pcre2_compile_context_create(nullptr));
    if (!ccontext) {
        return base::fail(errc::invalid_schema, "out of memory compiling pattern");
    }
    pcre2_set_max_pattern_length(ccontext.get(), limits.max_pattern_length);
    pcre2_set_parens_nest_limit(ccontext.get(), parens_nest_limit);
    pcre2_set_newline(ccontext.get(), PCRE2_NEWLINE_ANYCRLF);
    pcre2_set_compile_extra_options(ccontext.get(), extra_options);

    int error_code = 0;
    PCRE2_SIZE error_offset = 0;
    std::unique_ptr<pcre2_code, CodeDeleter> code(
        pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), compile_options,
                      &error_code, &error_offset, ccontext.get()));
    if (!code) {
        std::array<PCRE2_UCHAR, 256> buffer{};
        pcre2_get_error_message(error_code, buffer.data(), buffer.size());
        return base::fail(errc::invalid_schema, "invalid regular expression at offset " +
                                                    std::to_string(error_offset) + ": " +
                                                    reinterpret_cast<const char*>(buffer.data()));
    }
    // JIT is an optimisation only; the interpreter honours the same match limit.
    (void)pcre2_jit_compile(code.get(), PCRE2_JIT_COMPLETE);

    auto handles = std::make_unique<Handles>();
    handles->code = std::move(code);
    handles->match_context.reset(pcre2_match_context_create(nullptr));
    if (!handles->match_context) {
        return base::fail(errc::invalid_schema, "out of memory compiling pattern");
    }
    pcre2_set_match_limit(handles->match_context.get(), limits.match_limit);
    pcre2_set_depth_limit(handles->match_context.get(), limits.depth_limit);
    pcre2_set_heap_limit(handles->match_context.get(), heap_limit_kib);
    pcre2_jit_stack_assign(handles->match_context.get(), &thread_jit_stack, nullptr);
    return std::unique_ptr<Regex>(new Regex(std::string(pattern), std::move(handles)));
}

Regex::Match Regex::search(std::string_view subject) const {
    std::unique_ptr<pcre2_match_data, MatchDataDeleter> data(
        pcre2_match_data_create_from_pattern(handles_->code.get(), nullptr));
    if (!data) {
        return Match::limit_exceeded;
    }
    const int rc = pcre2_match(handles_->code.get(), reinterpret_cast<PCRE2_SPTR>(subject.data()),
                               subject.size(), 0, 0, data.get(), handles_->match_context.get());
    if (rc >= 0) {
        return Match::yes;
    }
    if (rc == PCRE2_ERROR_NOMATCH) {
        return Match::no;
    }
    if (rc <= PCRE2_ERROR_UTF8_ERR1 && rc >= PCRE2_ERROR_UTF8_ERR21) {
        return Match::bad_subject;
    }
    // MATCHLIMIT, DEPTHLIMIT, HEAPLIMIT, JIT_STACKLIMIT, NOMEMORY: the pattern is too expensive
    // for this subject.
    return Match::limit_exceeded;
}

} // namespace agentd::tools::schema
