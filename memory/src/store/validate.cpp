#include "store/validate.h"

#include "agentd/memory/errc.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <random>

namespace agentd::memory::store {
namespace {

base::Error bad(std::string_view field, const std::string& what) {
    return base::Error(errc::invalid_argument, std::string(field) + ": " + what);
}

} // namespace

bool valid_utf8(std::string_view s) noexcept {
    std::size_t i = 0;
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    while (i < s.size()) {
        const unsigned char c = p[i];
        std::size_t len = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + len > s.size()) {
            return false;
        }
        for (std::size_t j = 1; j < len; ++j) {
            if ((p[i + j] & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (p[i + j] & 0x3F);
        }
        const bool overlong =
            (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
        if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += len;
    }
    return true;
}

base::Result<void> check_name(const Limits& l, std::string_view field, std::string_view name) {
    if (name.size() > l.max_id_bytes) {
        return bad(field, "longer than " + std::to_string(l.max_id_bytes) + " bytes");
    }
    if (std::any_of(name.begin(), name.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
        return bad(field, "contains control characters");
    }
    if (!valid_utf8(name)) {
        return bad(field, "is not valid UTF-8");
    }
    return {};
}

base::Result<void> check_id(const Limits& l, std::string_view field, std::string_view id) {
    if (id.empty()) {
        return bad(field, "must not be empty");
    }
    return check_name(l, field, id);
}

base::Result<void> check_tenant(const Limits& l, std::string_view tenant) {
    if (tenant.empty()) {
        return bad("tenant", "must not be empty");
    }
    if (tenant.size() > l.max_tenant_bytes) {
        return bad("tenant", "longer than " + std::to_string(l.max_tenant_bytes) + " bytes");
    }
    return check_name(l, "tenant", tenant);
}

base::Result<void> check_text(std::string_view field, std::string_view text,
                              std::size_t max_bytes) {
    if (text.size() > max_bytes) {
        return bad(field, "longer than " + std::to_string(max_bytes) + " bytes");
    }
    if (!valid_utf8(text)) {
        return bad(field, "is not valid UTF-8");
    }
    return {};
}

base::Result<void> check_json(const Limits& l, std::string_view field, std::string_view json,
                              bool object_only) {
    if (json.size() > l.max_json_bytes) {
        return bad(field, "JSON larger than " + std::to_string(l.max_json_bytes) + " bytes");
    }
    // Depth first, without recursion: the parser below recurses once per level.
    std::size_t depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < json.size(); ++i) {
        const char c = json[i];
        if (in_string) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > l.max_json_depth) {
                return bad(field, "JSON nested deeper than " + std::to_string(l.max_json_depth));
            }
        } else if (c == '}' || c == ']') {
            depth = depth == 0 ? 0 : depth - 1;
        }
    }
    if (!nlohmann::json::accept(json)) {
        return bad(field, "is not valid JSON");
    }
    if (object_only) {
        const auto first = json.find_first_not_of(" \t\r\n");
        if (first == std::string_view::npos || json[first] != '{') {
            return bad(field, "must be a JSON object");
        }
    }
    return {};
}

std::string new_uuid() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::uint64_t hi = rng();
    std::uint64_t lo = rng();
    hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL; // version 4
    lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL; // variant 10
    static const char* hex = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (int i = 0; i < 32; ++i) {
        const std::uint64_t word = i < 16 ? hi : lo;
        const int shift = 60 - 4 * (i % 16);
        out.push_back(hex[(word >> shift) & 0xF]);
        if (i == 7 || i == 11 || i == 15 || i == 19) {
            out.push_back('-');
        }
    }
    return out;
}

std::string encode_cursor(std::int64_t number, std::string_view text) {
    const std::string raw = std::to_string(number) + ":" + std::string(text);
    static const char* hex = "0123456789abcdef";
    std::string out;
    out.reserve(raw.size() * 2);
    for (unsigned char c : raw) {
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 0xF]);
    }
    return out;
}

base::Result<Cursor> decode_cursor(std::string_view cursor) {
    auto invalid = [] {
        return base::fail(errc::invalid_argument, "cursor: not a cursor this store issued");
    };
    if (cursor.size() % 2 != 0 || cursor.size() > 4096) {
        return invalid();
    }
    std::string raw;
    raw.reserve(cursor.size() / 2);
    for (std::size_t i = 0; i < cursor.size(); i += 2) {
        unsigned v = 0;
        auto [p, ec] = std::from_chars(cursor.data() + i, cursor.data() + i + 2, v, 16);
        if (ec != std::errc() || p != cursor.data() + i + 2) {
            return invalid();
        }
        raw.push_back(static_cast<char>(v));
    }
    const auto colon = raw.find(':');
    if (colon == std::string::npos) {
        return invalid();
    }
    Cursor c;
    auto [p, ec] = std::from_chars(raw.data(), raw.data() + colon, c.number);
    if (ec != std::errc() || p != raw.data() + colon) {
        return invalid();
    }
    c.text = raw.substr(colon + 1);
    return c;
}

std::size_t page_limit(const Limits& l, std::size_t requested) noexcept {
    if (requested == 0) {
        requested = 100;
    }
    return std::min(requested, l.max_page);
}

} // namespace agentd::memory::store
