// JSON Schema -> grammar: strings (length, pattern, format), integers (exact ranges) and
// numbers. The rest of the compiler is in json_schema.cpp.

#include "grammar/json_schema.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

namespace agentd::inference::grammar {
namespace {

std::string u64(std::uint64_t v) {
    return std::to_string(v);
}

std::uint64_t pow10(int d) {
    std::uint64_t v = 1;
    for (int i = 0; i < d; ++i) {
        v *= 10;
    }
    return v;
}

int digits_of(std::uint64_t v) {
    return static_cast<int>(u64(v).size());
}

// Decimal strings of equal length a <= b: every string between them.
ExprId same_length(Builder& b, const std::string& lo, const std::string& hi) {
    if (lo.empty()) {
        return b.empty();
    }
    if (lo == hi) {
        return b.bytes(lo);
    }
    const CodePointSet any_digit = CodePointSet::of({{'0', '9'}});
    auto digit_range = [&](char a, char z) {
        return b.chars(CodePointSet::of({{char32_t(a), char32_t(z)}}));
    };
    if (lo.size() == 1) {
        return digit_range(lo[0], hi[0]);
    }
    std::string lo_rest = lo.substr(1);
    std::string hi_rest = hi.substr(1);
    if (lo[0] == hi[0]) {
        return b.seq({b.bytes(std::string(1, lo[0])), same_length(b, lo_rest, hi_rest)});
    }
    const auto n = static_cast<std::int32_t>(lo.size() - 1);
    bool lo_zeros = lo_rest.find_first_not_of('0') == std::string::npos;
    bool hi_nines = hi_rest.find_first_not_of('9') == std::string::npos;
    std::vector<ExprId> alts;
    char mid_lo = lo_zeros ? lo[0] : static_cast<char>(lo[0] + 1);
    char mid_hi = hi_nines ? hi[0] : static_cast<char>(hi[0] - 1);
    if (!lo_zeros) {
        alts.push_back(b.seq({b.bytes(std::string(1, lo[0])),
                              same_length(b, lo_rest, std::string(lo_rest.size(), '9'))}));
    }
    if (mid_lo <= mid_hi) {
        alts.push_back(b.seq({digit_range(mid_lo, mid_hi), b.repeat(b.chars(any_digit), n, n)}));
    }
    if (!hi_nines) {
        alts.push_back(b.seq({b.bytes(std::string(1, hi[0])),
                              same_length(b, std::string(hi_rest.size(), '0'), hi_rest)}));
    }
    return b.alt(std::move(alts));
}

// Decimal integers without leading zeros in [lo, hi] (hi unset: unbounded).
ExprId unsigned_range(Builder& b, std::uint64_t lo, std::optional<std::uint64_t> hi) {
    std::vector<ExprId> alts;
    int d_lo = digits_of(lo);
    int d_hi = hi ? digits_of(*hi) : d_lo;
    for (int d = d_lo; d <= d_hi; ++d) {
        std::uint64_t a = d == d_lo ? lo : pow10(d - 1);
        std::uint64_t z = (hi && d == d_hi) ? *hi : pow10(d) - 1;
        if (a <= z) {
            alts.push_back(same_length(b, u64(a), u64(z)));
        }
    }
    if (!hi && d_lo < 19) {
        // Every number with more digits than lo.
        alts.push_back(b.seq({b.chars(CodePointSet::of({{'1', '9'}})),
                              b.repeat(b.chars(CodePointSet::of({{'0', '9'}})), d_lo, 18)}));
    }
    return b.alt(std::move(alts));
}

} // namespace

ExprId JsonSchemaCompiler::string_schema(const Value& s, const std::string& path) {
    const Value* pattern = s.find("pattern");
    const Value* format = s.find("format");
    const Value* min_len = s.find("minLength");
    const Value* max_len = s.find("maxLength");
    if (pattern == nullptr && format == nullptr && min_len == nullptr && max_len == nullptr) {
        return string();
    }
    std::optional<std::string> regex;
    if (pattern != nullptr) {
        if (!pattern->is_string()) {
            fail(path + "/pattern", "pattern must be a string");
        }
        regex = pattern->as_string();
    } else if (format != nullptr && format->is_string()) {
        static const std::map<std::string, std::string> kFormats = {
            {"date", R"(^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$)"},
            {"time",
             R"(^([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$)"},
            {"date-time",
             R"(^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$)"},
            {"uuid",
             R"(^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$)"},
            {"email",
             R"(^[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]{1,63}(\.[A-Za-z0-9\-]{1,63}){1,8}$)"},
            {"ipv4",
             R"(^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$)"},
            {"hostname",
             R"(^[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?){0,8}$)"},
            {"uri", R"(^[A-Za-z][A-Za-z0-9+.\-]*:[^\s"\\<>]{1,2000}$)"},
        };
        auto it = kFormats.find(format->as_string());
        if (it != kFormats.end()) {
            regex = it->second;
        }
    }
    if (regex) {
        if (min_len != nullptr || max_len != nullptr) {
            fail(path, "unsupported: minLength/maxLength together with pattern or format");
        }
        auto content = regex_to_json_string_content(b_, *regex);
        if (!content) {
            fail(path, content.error().message);
        }
        return b_.seq({b_.bytes("\""), *content, b_.bytes("\"")});
    }
    auto length = [&](const Value* v, const char* key) -> std::int32_t {
        if (v == nullptr) {
            return -1;
        }
        if (!v->is_number() || v->as_double() < 0 || v->as_double() > 4096) {
            fail(path + "/" + key, std::string(key) + " must be an integer in [0, 4096]");
        }
        return static_cast<std::int32_t>(v->as_double());
    };
    std::int32_t lo = std::max(0, length(min_len, "minLength"));
    std::int32_t hi = length(max_len, "maxLength");
    if (hi >= 0 && hi < lo) {
        fail(path, "minLength is larger than maxLength");
    }
    ExprId ch = json_char(b_, CodePointSet::of({{0, 0x10FFFF}}));
    return b_.seq({b_.bytes("\""), b_.repeat(ch, lo, hi), b_.bytes("\"")});
}

ExprId JsonSchemaCompiler::integer(const Value& s, const std::string& path) {
    std::optional<std::int64_t> lo;
    std::optional<std::int64_t> hi;
    constexpr double kLimit = 9.0e18;
    auto bound = [&](const char* key, bool lower, bool exclusive) {
        const Value* v = s.find(key);
        if (v == nullptr || v->is_bool()) {
            return;
        }
        if (!v->is_number() || std::fabs(v->as_double()) > kLimit) {
            fail(path + "/" + key, std::string(key) + " must be a number within +-9e18");
        }
        double d = v->as_double();
        std::int64_t b = lower ? static_cast<std::int64_t>(std::ceil(d))
                               : static_cast<std::int64_t>(std::floor(d));
        if (exclusive && static_cast<double>(b) == d) {
            b += lower ? 1 : -1;
        }
        if (lower) {
            lo = lo ? std::max(*lo, b) : b;
        } else {
            hi = hi ? std::min(*hi, b) : b;
        }
    };
    bound("minimum", true, false);
    bound("exclusiveMinimum", true, true);
    bound("maximum", false, false);
    bound("exclusiveMaximum", false, true);
    if (!lo && !hi) {
        if (integer_rule_ < 0) {
            integer_rule_ = b_.add_rule("json-integer", Inline::never);
            b_.define(integer_rule_,
                      b_.seq({b_.optional(b_.bytes("-")), unsigned_range(b_, 0, std::nullopt)}));
        }
        return b_.ref(integer_rule_);
    }
    if (lo && hi && *lo > *hi) {
        fail(path, "the integer range is empty");
    }
    std::vector<ExprId> alts;
    if (!hi || *hi >= 0) {
        std::uint64_t a = lo && *lo > 0 ? static_cast<std::uint64_t>(*lo) : 0;
        alts.push_back(unsigned_range(
            b_, a,
            hi ? std::optional<std::uint64_t>(static_cast<std::uint64_t>(*hi)) : std::nullopt));
    }
    if (!lo || *lo < 0) {
        std::uint64_t mag_lo = hi && *hi < 0 ? static_cast<std::uint64_t>(-*hi) : 1;
        std::optional<std::uint64_t> mag_hi;
        if (lo) {
            mag_hi = static_cast<std::uint64_t>(-*lo);
        }
        alts.push_back(b_.seq({b_.bytes("-"), unsigned_range(b_, mag_lo, mag_hi)}));
    }
    return b_.alt(std::move(alts));
}

ExprId JsonSchemaCompiler::number(const Value& s, const std::string& path) {
    (void)path;
    // Numeric bounds on non-integers are enforced for the sign only (documented). Digits are
    // bounded (20 integer, 20 fraction, 2 exponent) so every number stays a finite double.
    bool non_negative = false;
    bool negative = false;
    for (const char* key : {"minimum", "exclusiveMinimum"}) {
        if (const Value* v = s.find(key); v != nullptr && v->is_number() && v->as_double() >= 0) {
            non_negative = true;
        }
    }
    for (const char* key : {"maximum", "exclusiveMaximum"}) {
        if (const Value* v = s.find(key); v != nullptr && v->is_number() && v->as_double() < 0) {
            negative = true;
        }
    }
    ExprId digit = b_.chars(CodePointSet::of({{'0', '9'}}));
    auto body = [&]() {
        ExprId int_part = unsigned_range(b_, 0, std::nullopt);
        ExprId frac = b_.optional(b_.seq({b_.bytes("."), b_.repeat(digit, 1, 20)}));
        ExprId exp =
            b_.optional(b_.seq({b_.chars(CodePointSet::of({{'E', 'E'}, {'e', 'e'}})),
                                b_.optional(b_.chars(CodePointSet::of({{'+', '+'}, {'-', '-'}}))),
                                b_.repeat(digit, 1, 2)}));
        return b_.seq({int_part, frac, exp});
    };
    if (non_negative) {
        return body();
    }
    if (negative) {
        return b_.seq({b_.bytes("-"), body()});
    }
    if (number_rule_ < 0) {
        number_rule_ = b_.add_rule("json-number", Inline::never);
        b_.define(number_rule_, b_.seq({b_.optional(b_.bytes("-")), body()}));
    }
    return b_.ref(number_rule_);
}

} // namespace agentd::inference::grammar
