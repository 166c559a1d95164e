#include "schema/formats.h"

#include <arpa/inet.h>
#include <array>
#include <cstring>
#include <string>

namespace agentd::tools::schema {
namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/// Parses exactly `n` digits at `s[pos]`.
bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
    if (pos + n > s.size()) {
        return false;
    }
    out = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (!is_digit(s[pos + i])) {
            return false;
        }
        out = out * 10 + (s[pos + i] - '0');
    }
    return true;
}

bool check_date(std::string_view s) {
    int y = 0;
    int m = 0;
    int d = 0;
    if (s.size() != 10 || !digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, m) ||
        s[7] != '-' || !digits(s, 8, 2, d)) {
        return false;
    }
    static constexpr std::array<int, 12> days{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1) {
        return false;
    }
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    const int max_day = m == 2 && leap ? 29 : days[static_cast<std::size_t>(m - 1)];
    return d <= max_day;
}

// RFC 3339 full-time: HH:MM:SS[.frac](Z|+HH:MM|-HH:MM); a leap second only at 23:59:60 UTC.
bool check_time(std::string_view s) {
    int h = 0;
    int mi = 0;
    int sec = 0;
    if (!digits(s, 0, 2, h) || s.size() < 9 || s[2] != ':' || !digits(s, 3, 2, mi) || s[5] != ':' ||
        !digits(s, 6, 2, sec)) {
        return false;
    }
    std::size_t pos = 8;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        const std::size_t start = pos;
        while (pos < s.size() && is_digit(s[pos])) {
            ++pos;
        }
        if (pos == start) {
            return false;
        }
    }
    if (pos >= s.size()) {
        return false;
    }
    int off_h = 0;
    int off_m = 0;
    int sign = 0;
    if (s[pos] == 'Z' || s[pos] == 'z') {
        if (pos + 1 != s.size()) {
            return false;
        }
    } else if (s[pos] == '+' || s[pos] == '-') {
        sign = s[pos] == '+' ? 1 : -1;
        if (s.size() != pos + 6 || !digits(s, pos + 1, 2, off_h) || s[pos + 3] != ':' ||
            !digits(s, pos + 4, 2, off_m) || off_h > 23 || off_m > 59) {
            return false;
        }
    } else {
        return false;
    }
    if (h > 23 || mi > 59 || sec > 60) {
        return false;
    }
    if (sec == 60) {
        const int utc_minutes = ((h * 60 + mi - sign * (off_h * 60 + off_m)) % 1440 + 1440) % 1440;
        return utc_minutes == 23 * 60 + 59;
    }
    return true;
}

bool check_date_time(std::string_view s) {
    if (s.size() < 20 || (s[10] != 'T' && s[10] != 't')) {
        return false;
    }
    return check_date(s.substr(0, 10)) && check_time(s.substr(11));
}

bool check_uuid(std::string_view s) {
    if (s.size() != 36) {
        return false;
    }
    for (std::size_t i = 0; i < s.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex(s[i])) {
            return false;
        }
    }
    return true;
}

bool check_ipv4(std::string_view s) {
    int parts = 0;
    std::size_t pos = 0;
    while (parts < 4) {
        const std::size_t start = pos;
        int value = 0;
        while (pos < s.size() && is_digit(s[pos]) && pos - start < 3) {
            value = value * 10 + (s[pos] - '0');
            ++pos;
        }
        const std::size_t len = pos - start;
        if (len == 0 || value > 255 || (len > 1 && s[start] == '0')) {
            return false;
        }
        ++parts;
        if (parts < 4) {
            if (pos >= s.size() || s[pos] != '.') {
                return false;
            }
            ++pos;
        }
    }
    return pos == s.size();
}

bool check_ipv6(std::string_view s) {
    if (s.empty() || s.size() > 45) {
        return false;
    }
    std::string copy(s);
    std::array<unsigned char, 16> out{};
    return inet_pton(AF_INET6, copy.c_str(), out.data()) == 1;
}

bool check_hostname(std::string_view s, bool allow_unicode) {
    if (s.empty() || s.size() > 253) {
        return false;
    }
    std::size_t label = 0;
    char prev = '.';
    for (const char c : s) {
        if (c == '.') {
            if (label == 0 || prev == '-') {
                return false;
            }
            label = 0;
            prev = c;
            continue;
        }
        const bool ok = is_alpha(c) || is_digit(c) || c == '-' ||
                        (allow_unicode && static_cast<unsigned char>(c) >= 0x80);
        if (!ok || (label == 0 && c == '-') || ++label > 63) {
            return false;
        }
        prev = c;
    }
    return label > 0 && prev != '-';
}

bool check_email(std::string_view s, bool allow_unicode) {
    const std::size_t at = s.rfind('@');
    if (at == std::string_view::npos || at == 0 || at + 1 >= s.size() || s.size() > 254) {
        return false;
    }
    const std::string_view local = s.substr(0, at);
    const std::string_view domain = s.substr(at + 1);
    if (local.size() >= 2 && local.front() == '"' && local.back() == '"') {
        for (std::size_t i = 1; i + 1 < local.size(); ++i) {
            const auto c = static_cast<unsigned char>(local[i]);
            if (c < 0x20 || c == 0x7F || (c == '"' && local[i - 1] != '\\')) {
                return false;
            }
        }
    } else {
        if (local.size() > 64 || local.front() == '.' || local.back() == '.') {
            return false;
        }
        static constexpr std::string_view atext_specials = "!#$%&'*+-/=?^_`{|}~";
        char prev = 0;
        for (const char c : local) {
            const bool ok = is_alpha(c) || is_digit(c) || c == '.' ||
                            atext_specials.find(c) != std::string_view::npos ||
                            (allow_unicode && static_cast<unsigned char>(c) >= 0x80);
            if (!ok || (c == '.' && prev == '.')) {
                return false;
            }
            prev = c;
        }
    }
    if (domain.front() == '[' && domain.back() == ']') {
        const std::string_view literal = domain.substr(1, domain.size() - 2);
        if (literal.rfind("IPv6:", 0) == 0) {
            return check_ipv6(literal.substr(5));
        }
        return check_ipv4(literal);
    }
    return check_hostname(domain, allow_unicode);
}

// RFC 3986 URI / URI-reference: a syntax check of the characters, percent escapes and scheme.
bool check_uri(std::string_view s, bool require_scheme) {
    static constexpr std::string_view allowed = "-._~!$&'()*+,;=:@/?#[]";
    std::size_t hashes = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '%') {
            if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) {
                return false;
            }
            i += 2;
            continue;
        }
        if (c == '#' && ++hashes > 1) {
            return false;
        }
        if (!is_alpha(c) && !is_digit(c) && allowed.find(c) == std::string_view::npos) {
            return false;
        }
    }
    const std::size_t colon = s.find(':');
    const std::size_t first_delim = s.find_first_of("/?#");
    const bool has_scheme = colon != std::string_view::npos && colon > 0 &&
                            (first_delim == std::string_view::npos || colon < first_delim);
    if (has_scheme) {
        if (!is_alpha(s[0])) {
            return false;
        }
        for (std::size_t i = 1; i < colon; ++i) {
            if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '+' && s[i] != '-' && s[i] != '.') {
                return false;
            }
        }
        // "scheme://" needs an authority with at most one '@' and a bracketed IPv6 host only.
        const std::string_view rest = s.substr(colon + 1);
        if (rest.rfind("//", 0) == 0) {
            const std::string_view authority = rest.substr(2, rest.find_first_of("/?#", 2) - 2);
            if (authority.find('@') != authority.rfind('@')) {
                return false;
            }
        }
        return true;
    }
    return !require_scheme;
}

} // namespace

Format parse_format(std::string_view name) {
    if (name == "email") {
        return Format::email;
    }
    if (name == "idn-email") {
        return Format::idn_email;
    }
    if (name == "uri" || name == "iri") {
        return Format::uri;
    }
    if (name == "uri-reference" || name == "iri-reference") {
        return Format::uri_reference;
    }
    if (name == "date-time") {
        return Format::date_time;
    }
    if (name == "date") {
        return Format::date;
    }
    if (name == "time") {
        return Format::time;
    }
    if (name == "uuid") {
        return Format::uuid;
    }
    if (name == "ipv4") {
        return Format::ipv4;
    }
    if (name == "ipv6") {
        return Format::ipv6;
    }
    if (name == "hostname") {
        return Format::hostname;
    }
    if (name == "idn-hostname") {
        return Format::idn_hostname;
    }
    if (name == "regex") {
        return Format::regex;
    }
    return Format::none;
}

bool check_format(Format format, std::string_view value) {
    switch (format) {
    case Format::none:
    case Format::regex: // checked by the validator, which owns the regex engine
        return true;
    case Format::email:
        return check_email(value, false);
    case Format::idn_email:
        return check_email(value, true);
    case Format::uri:
        return check_uri(value, true);
    case Format::uri_reference:
        return check_uri(value, false);
    case Format::date_time:
        return check_date_time(value);
    case Format::date:
        return check_date(value);
    case Format::time:
        return check_time(value);
    case Format::uuid:
        return check_uuid(value);
    case Format::ipv4:
        return check_ipv4(value);
    case Format::ipv6:
        return check_ipv6(value);
    case Format::hostname:
        return check_hostname(value, false);
    case Format::idn_hostname:
        return check_hostname(value, true);
    }
    return true;
}

const char* format_noun(Format format) {
    switch (format) {
    case Format::none:
        return "value";
    case Format::email:
    case Format::idn_email:
        return "email address";
    case Format::uri:
        return "URI";
    case Format::uri_reference:
        return "URI reference";
    case Format::date_time:
        return "RFC 3339 date-time";
    case Format::date:
        return "RFC 3339 full-date";
    case Format::time:
        return "RFC 3339 full-time";
    case Format::uuid:
        return "UUID";
    case Format::ipv4:
        return "IPv4 address";
    case Format::ipv6:
        return "IPv6 address";
    case Format::hostname:
    case Format::idn_hostname:
        return "host name";
    case Format::regex:
        return "regular expression";
    }
    return "value";
}

} // namespace agentd::tools::schema
