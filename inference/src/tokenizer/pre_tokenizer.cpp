#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/pre_tokenizer.h"

#include "agentd/base/check.h"
#include "agentd/inference/errc.h"

#include "tokenizer/unicode.h"

#include <pcre2.h>

#include <algorithm>
#include <array>
#include <utility>

namespace agentd::inference::detail {
namespace {

// Stand-in bytes of the collapsed text for non-ASCII code points.
constexpr char kOther = '\xD0';
constexpr char kNumber = '\xD1';
constexpr char kLetter = '\xD2';
constexpr char kPunct = '\xD3';
constexpr char kMark = '\xD4';
constexpr char kSymbol = '\xD5';
constexpr char kSpace = '\x0B'; // non-ASCII white space: a character \s matches

struct UnicodeClass {
    std::string_view name;
    char stand_in;
    std::string_view ascii; // the ASCII members, as class syntax
};

// \p{Lu} and friends collapse to all letters, as in llama.cpp.
constexpr std::array<UnicodeClass, 10> kClasses{{
    {"\\p{N}", kNumber, "0-9"},
    {"\\p{L}", kLetter, "A-Za-z"},
    {"\\p{P}", kPunct, "!-#%-*,-/:-;?-@\\[-\\]_\\{\\}"},
    {"\\p{M}", kMark, ""},
    {"\\p{S}", kSymbol, "\\$\\+<->\\^`\\|"},
    {"\\p{Lu}", kLetter, "A-Za-z"},
    {"\\p{Ll}", kLetter, "A-Za-z"},
    {"\\p{Lt}", kLetter, "A-Za-z"},
    {"\\p{Lm}", kLetter, "A-Za-z"},
    {"\\p{Lo}", kLetter, "A-Za-z"},
}};

bool uses_unicode_classes(std::string_view pattern) {
    return std::any_of(kClasses.begin(), kClasses.end(), [&](const UnicodeClass& c) {
        return pattern.find(c.name) != std::string_view::npos;
    });
}

// Rewrites \p{X} into a class over the collapsed alphabet (brackets added outside a class).
std::string collapse_pattern(std::string_view p) {
    std::string out;
    bool inside = false;
    for (size_t i = 0; i < p.size(); ++i) {
        if (p[i] == '[' && (i == 0 || p[i - 1] != '\\')) {
            out += '[';
            inside = true;
            continue;
        }
        if (inside && p[i] == ']' && p[i - 1] != '\\') {
            out += ']';
            inside = false;
            continue;
        }
        if (p.compare(i, 3, "\\p{") == 0) {
            const size_t close = p.find('}', i + 3);
            if (close != std::string_view::npos) {
                const std::string_view name = p.substr(i, close - i + 1);
                const auto* cls =
                    std::find_if(kClasses.begin(), kClasses.end(),
                                 [&](const UnicodeClass& c) { return c.name == name; });
                if (cls != kClasses.end()) {
                    out += inside ? "" : "[";
                    out += cls->stand_in;
                    out += cls->ascii;
                    out += inside ? "" : "]";
                    i = close;
                    continue;
                }
            }
        }
        out += p[i];
    }
    return out;
}

char collapse(uint32_t cp) {
    if (cp < 0x80) {
        return static_cast<char>(cp);
    }
    if (cp_is_whitespace(cp)) {
        return kSpace;
    }
    switch (cp_category(cp)) {
    case CpCategory::number:
        return kNumber;
    case CpCategory::letter:
        return kLetter;
    case CpCategory::punctuation:
        return kPunct;
    case CpCategory::mark:
        return kMark;
    case CpCategory::symbol:
        return kSymbol;
    default:
        return kOther;
    }
}

// Per-thread PCRE2 match state: match data, a JIT stack that can grow for long inputs, and a
// match context that hands the stack to JIT code.
struct MatchState {
    pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
    pcre2_jit_stack* stack = pcre2_jit_stack_create(32 * 1024, 64 * 1024 * 1024, nullptr);
    pcre2_match_context* context = pcre2_match_context_create(nullptr);
    MatchState() {
        AGENTD_CHECK(data != nullptr && context != nullptr, "PCRE2 match state allocation");
        if (stack != nullptr) {
            pcre2_jit_stack_assign(context, nullptr, stack);
        }
    }
    MatchState(const MatchState&) = delete;
    MatchState& operator=(const MatchState&) = delete;
    ~MatchState() {
        pcre2_match_context_free(context);
        pcre2_jit_stack_free(stack);
        pcre2_match_data_free(data);
    }
};

MatchState& match_state() {
    thread_local MatchState state;
    return state;
}

} // namespace

struct PreTokenizer::Pattern {
    pcre2_code* code = nullptr;
    bool collapsed = false;

    Pattern() = default;
    Pattern(Pattern&& o) noexcept : code(std::exchange(o.code, nullptr)), collapsed(o.collapsed) {}
    Pattern& operator=(Pattern&&) = delete;
    Pattern(const Pattern&) = delete;
    Pattern& operator=(const Pattern&) = delete;
    ~Pattern() { pcre2_code_free(code); }
};

PreTokenizer::~PreTokenizer() = default;

base::Result<std::unique_ptr<PreTokenizer>>
PreTokenizer::create(std::span<const std::string_view> patterns) {
    std::unique_ptr<PreTokenizer> pre(new PreTokenizer());
    pre->patterns_.reserve(patterns.size());
    for (const std::string_view source : patterns) {
        Pattern p;
        p.collapsed = uses_unicode_classes(source);
        std::string compiled(source);
        uint32_t options = PCRE2_DOLLAR_ENDONLY | PCRE2_NO_AUTO_CAPTURE;
        if (p.collapsed) {
            if (std::any_of(source.begin(), source.end(),
                            [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
                return base::fail(errc::unsupported,
                                  "pre-tokenizer pattern mixes Unicode classes and non-ASCII "
                                  "characters: " +
                                      std::string(source));
            }
            compiled = collapse_pattern(source);
        } else {
            options |= PCRE2_UTF;
        }
        int err = 0;
        PCRE2_SIZE err_offset = 0;
        p.code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(compiled.data()), compiled.size(),
                               options, &err, &err_offset, nullptr);
        if (p.code == nullptr) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(err, msg, sizeof(msg));
            return base::fail(errc::unsupported,
                              "pre-tokenizer pattern does not compile at offset " +
                                  std::to_string(err_offset) + " (" +
                                  reinterpret_cast<const char*>(msg) + "): " + std::string(source));
        }
        // JIT is an optimisation: without it (e.g. no executable memory) the interpreter runs.
        pcre2_jit_compile(p.code, PCRE2_JIT_COMPLETE);
        pre->need_collapsed_ = pre->need_collapsed_ || p.collapsed;
        pre->need_utf8_ = pre->need_utf8_ || !p.collapsed;
        pre->patterns_.push_back(std::move(p));
    }
    return pre;
}

namespace {

// Finds the next match at or after `from` in subject[0, n). Returns false when there is none or
// PCRE2 gives up (limits); the caller then keeps the rest of the piece whole.
bool next_match(const pcre2_code* code, const char* subject, size_t n, size_t from,
                uint32_t extra_options, size_t& begin, size_t& end) {
    MatchState& st = match_state();
    const auto* s = reinterpret_cast<PCRE2_SPTR>(subject);
    int rc = pcre2_match(code, s, n, from, extra_options, st.data, st.context);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
        rc = pcre2_match(code, s, n, from, extra_options | PCRE2_NO_JIT, st.data, st.context);
    }
    if (rc < 0) {
        return false;
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(st.data);
    begin = ov[0];
    end = ov[1];
    return end >= begin && end <= n;
}

} // namespace

void PreTokenizer::split(std::string_view text, bool byte_encode,
                         std::vector<std::string>& words) const {
    const std::vector<uint32_t> cpts = utf8_decode(text);
    std::string collapsed;
    std::string utf8;
    std::vector<size_t> byte_at; // code point index -> byte offset in utf8 (size n + 1)
    if (need_collapsed_) {
        collapsed.resize(cpts.size());
        std::transform(cpts.begin(), cpts.end(), collapsed.begin(), collapse);
    }
    if (need_utf8_) {
        utf8.reserve(text.size());
        byte_at.reserve(cpts.size() + 1);
        for (const uint32_t cp : cpts) {
            byte_at.push_back(utf8.size());
            // Non-ASCII white space becomes \v as in llama.cpp; surrogates (accepted by the
            // decoder) become U+FFFD, same length, so that the subject is valid UTF-8.
            uint32_t c = cp;
            if (cp >= 0x80 && cp_is_whitespace(cp)) {
                c = 0x0B;
            } else if (cp >= 0xD800 && cp <= 0xDFFF) {
                c = kReplacementChar;
            }
            utf8_append(utf8, c);
        }
        byte_at.push_back(utf8.size());
    }

    std::vector<size_t> pieces{cpts.size()};
    std::vector<size_t> next;
    for (const Pattern& p : patterns_) {
        next.clear();
        size_t start = 0;
        for (const size_t len : pieces) {
            // Subject of this piece and the mapping of its byte offsets to code points.
            const char* subject =
                p.collapsed ? collapsed.data() + start : utf8.data() + byte_at[start];
            const size_t n = p.collapsed ? len : byte_at[start + len] - byte_at[start];
            const auto to_cp = [&](size_t byte) -> size_t {
                if (p.collapsed) {
                    return byte;
                }
                const auto first = byte_at.begin() + static_cast<std::ptrdiff_t>(start);
                const auto last = first + static_cast<std::ptrdiff_t>(len) + 1;
                return static_cast<size_t>(std::lower_bound(first, last, byte_at[start] + byte) -
                                           first);
            };
            size_t prev = 0; // code points of this piece already emitted
            size_t from = 0; // byte offset to search from
            size_t b = 0;
            size_t e = 0;
            const uint32_t opts = p.collapsed ? 0 : PCRE2_NO_UTF_CHECK;
            while (from <= n && next_match(p.code, subject, n, from, opts, b, e)) {
                if (e == b) {
                    // An empty match: retry anchored and non-empty here, else step one code
                    // point (regex_iterator's rule).
                    if (!next_match(p.code, subject, n, b,
                                    opts | PCRE2_ANCHORED | PCRE2_NOTEMPTY_ATSTART, b, e)) {
                        from = b + ((b < n && !p.collapsed) ? utf8_len(subject[b]) : 1);
                        continue;
                    }
                }
                const size_t cb = to_cp(b);
                const size_t ce = to_cp(e);
                if (cb > prev) {
                    next.push_back(cb - prev);
                }
                next.push_back(ce - cb);
                prev = ce;
                from = e;
            }
            if (prev < len) {
                next.push_back(len - prev);
            }
            start += len;
        }
        pieces.swap(next);
    }

    size_t start = 0;
    std::string word;
    for (const size_t len : pieces) {
        word.clear();
        for (size_t i = start; i < start + len; ++i) {
            utf8_append(word, cpts[i]);
        }
        start += len;
        if (!byte_encode) {
            words.push_back(word);
            continue;
        }
        std::string encoded;
        encoded.reserve(word.size() * 2);
        for (const char c : word) {
            encoded += gpt2_byte_to_text(static_cast<uint8_t>(c));
        }
        words.push_back(std::move(encoded));
    }
}

} // namespace agentd::inference::detail
