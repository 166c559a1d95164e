#include "template/pystr.h"

#include "value/utf8.h"

#include <algorithm>

namespace agentd::inference::jinja::py {

bool is_space(char32_t c) {
    if (c < 0x80) {
        return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
    }
    return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
           c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

namespace {

bool in_chars(char32_t c, std::string_view chars) {
    std::size_t i = 0;
    while (i < chars.size()) {
        if (utf8::decode(chars, i) == c) {
            return true;
        }
    }
    return false;
}

bool strip_match(char32_t c, const std::optional<std::string_view>& chars) {
    return chars ? in_chars(c, *chars) : is_space(c);
}

// Simple case mapping for the scripts chat content commonly uses; other code points map to
// themselves (a documented divergence from Python's full Unicode tables).
char32_t to_upper(char32_t c) {
    if (c >= 'a' && c <= 'z') {
        return c - 32;
    }
    if ((c >= 0xE0 && c <= 0xFE && c != 0xF7) || (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) ||
        (c >= 0x430 && c <= 0x44F)) {
        return c - 32;
    }
    if (c >= 0x450 && c <= 0x45F) {
        return c - 80;
    }
    if (c >= 0x100 && c <= 0x17F && (c & 1) == 1 && c != 0x131 && c != 0x138 && c != 0x149) {
        return c - 1;
    }
    return c;
}

char32_t to_lower(char32_t c) {
    if (c >= 'A' && c <= 'Z') {
        return c + 32;
    }
    if ((c >= 0xC0 && c <= 0xDE && c != 0xD7) || (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) ||
        (c >= 0x410 && c <= 0x42F)) {
        return c + 32;
    }
    if (c >= 0x400 && c <= 0x40F) {
        return c + 80;
    }
    if (c >= 0x100 && c <= 0x17F && (c & 1) == 0 && c != 0x130 && c != 0x138) {
        return c + 1;
    }
    return c;
}

bool is_cased(char32_t c) {
    return to_upper(c) != c || to_lower(c) != c || c == 0xDF;
}

template <class F>
std::string map_chars(std::string_view s, F f) {
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        char32_t c = utf8::decode(s, i);
        if (c == 0xDF && f(c) == 0x53) {
            out += "SS"; // German sharp s upper-cases to two letters, as in Python
            continue;
        }
        utf8::append(out, f(c));
    }
    return out;
}

} // namespace

std::string strip(std::string_view s, bool left, bool right,
                  std::optional<std::string_view> chars) {
    std::size_t begin = 0;
    std::size_t end = s.size();
    if (left) {
        std::size_t i = 0;
        while (i < s.size()) {
            std::size_t at = i;
            if (!strip_match(utf8::decode(s, i), chars)) {
                i = at;
                break;
            }
        }
        begin = i;
    }
    if (right) {
        // Walk forward remembering where the last non-stripped code point ended.
        std::size_t i = begin;
        std::size_t last = begin;
        while (i < s.size()) {
            char32_t c = utf8::decode(s, i);
            if (!strip_match(c, chars)) {
                last = i;
            }
        }
        end = last;
    }
    return std::string(s.substr(begin, end - begin));
}

std::vector<std::string> split(std::string_view s, std::string_view sep, std::int64_t maxsplit) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (maxsplit < 0 || static_cast<std::int64_t>(out.size()) < maxsplit) {
        auto k = s.find(sep, pos);
        if (k == std::string_view::npos) {
            break;
        }
        out.emplace_back(s.substr(pos, k - pos));
        pos = k + sep.size();
    }
    out.emplace_back(s.substr(pos));
    return out;
}

std::vector<std::string> rsplit(std::string_view s, std::string_view sep, std::int64_t maxsplit) {
    std::vector<std::string> out;
    std::size_t end = s.size();
    while (maxsplit < 0 || static_cast<std::int64_t>(out.size()) < maxsplit) {
        if (end < sep.size()) {
            break;
        }
        auto k = s.rfind(sep, end - sep.size());
        if (k == std::string_view::npos) {
            break;
        }
        out.emplace_back(s.substr(k + sep.size(), end - k - sep.size()));
        end = k;
    }
    out.emplace_back(s.substr(0, end));
    std::reverse(out.begin(), out.end());
    return out;
}

std::vector<std::string> split_whitespace(std::string_view s, std::int64_t maxsplit) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < s.size()) {
        std::size_t at = i;
        if (is_space(utf8::decode(s, i))) {
            continue;
        }
        if (maxsplit >= 0 && static_cast<std::int64_t>(out.size()) == maxsplit) {
            out.emplace_back(s.substr(at)); // the remainder keeps its trailing whitespace
            return out;
        }
        std::size_t end = i;
        while (i < s.size()) {
            std::size_t before = i;
            if (is_space(utf8::decode(s, i))) {
                i = before;
                break;
            }
            end = i;
        }
        out.emplace_back(s.substr(at, end - at));
    }
    return out;
}

std::vector<std::size_t> code_point_offsets(std::string_view s) {
    std::vector<std::size_t> out;
    out.reserve(s.size() + 1);
    std::size_t i = 0;
    while (i < s.size()) {
        out.push_back(i);
        utf8::decode(s, i);
    }
    out.push_back(s.size());
    return out;
}

bool is_ascii(std::string_view s) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

std::vector<std::size_t> slice_indices(std::size_t n, std::optional<std::int64_t> start,
                                       std::optional<std::int64_t> stop, std::int64_t step) {
    auto len = static_cast<std::int64_t>(n);
    auto clamp = [&](std::int64_t v, std::int64_t lo, std::int64_t hi) {
        if (v < 0) {
            v += len;
        }
        return std::clamp(v, lo, hi);
    };
    std::vector<std::size_t> out;
    if (step > 0) {
        std::int64_t b = start ? clamp(*start, 0, len) : 0;
        std::int64_t e = stop ? clamp(*stop, 0, len) : len;
        for (std::int64_t i = b; i < e; i += step) {
            out.push_back(static_cast<std::size_t>(i));
        }
    } else {
        std::int64_t b = start ? clamp(*start, -1, len - 1) : len - 1;
        std::int64_t e = stop ? clamp(*stop, -1, len - 1) : -1;
        for (std::int64_t i = b; i > e; i += step) {
            out.push_back(static_cast<std::size_t>(i));
        }
    }
    return out;
}

std::string slice(std::string_view s, std::optional<std::int64_t> start,
                  std::optional<std::int64_t> stop, std::int64_t step) {
    if (is_ascii(s)) {
        std::string out;
        for (std::size_t i : slice_indices(s.size(), start, stop, step)) {
            out.push_back(s[i]);
        }
        return out;
    }
    auto offs = code_point_offsets(s);
    std::string out;
    for (std::size_t i : slice_indices(offs.size() - 1, start, stop, step)) {
        out.append(s.substr(offs[i], offs[i + 1] - offs[i]));
    }
    return out;
}

std::string upper(std::string_view s) {
    return map_chars(s, to_upper);
}
std::string lower(std::string_view s) {
    return map_chars(s, to_lower);
}

std::string title(std::string_view s) {
    std::string out;
    bool prev_cased = false;
    std::size_t i = 0;
    while (i < s.size()) {
        char32_t c = utf8::decode(s, i);
        char32_t m = prev_cased ? to_lower(c) : to_upper(c);
        utf8::append(out, m);
        prev_cased = is_cased(c);
    }
    return out;
}

std::string capitalize(std::string_view s) {
    std::string out;
    std::size_t i = 0;
    bool first = true;
    while (i < s.size()) {
        char32_t c = utf8::decode(s, i);
        utf8::append(out, first ? to_upper(c) : to_lower(c));
        first = false;
    }
    return out;
}

bool is_lower(std::string_view s) {
    bool cased = false;
    std::size_t i = 0;
    while (i < s.size()) {
        char32_t c = utf8::decode(s, i);
        if (to_lower(c) != c) {
            return false; // an upper-case letter
        }
        cased = cased || to_upper(c) != c;
    }
    return cased;
}

bool is_upper(std::string_view s) {
    bool cased = false;
    std::size_t i = 0;
    while (i < s.size()) {
        char32_t c = utf8::decode(s, i);
        if (to_upper(c) != c) {
            return false;
        }
        cased = cased || to_lower(c) != c;
    }
    return cased;
}

std::optional<std::string> replace(std::string_view s, std::string_view from, std::string_view to,
                                   std::int64_t count, std::size_t limit) {
    std::string out;
    std::int64_t done = 0;
    if (from.empty()) {
        auto offs = code_point_offsets(s);
        for (std::size_t k = 0; k + 1 <= offs.size(); ++k) {
            if (count < 0 || done < count) {
                out += to;
                ++done;
            }
            if (k + 1 < offs.size()) {
                out.append(s.substr(offs[k], offs[k + 1] - offs[k]));
            }
            if (out.size() > limit) {
                return std::nullopt;
            }
        }
        return out;
    }
    std::size_t pos = 0;
    while (count < 0 || done < count) {
        auto k = s.find(from, pos);
        if (k == std::string_view::npos) {
            break;
        }
        out.append(s.substr(pos, k - pos));
        out.append(to);
        pos = k + from.size();
        ++done;
        if (out.size() > limit) {
            return std::nullopt;
        }
    }
    out.append(s.substr(pos));
    if (out.size() > limit) {
        return std::nullopt;
    }
    return out;
}

} // namespace agentd::inference::jinja::py
