#include "schema/json_util.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>

namespace agentd::tools::schema {
namespace {

int type_rank(const nlohmann::json& v) {
    switch (v.type()) {
    case nlohmann::json::value_t::null:
        return 0;
    case nlohmann::json::value_t::boolean:
        return 1;
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
        return 2;
    case nlohmann::json::value_t::string:
        return 3;
    case nlohmann::json::value_t::array:
        return 4;
    case nlohmann::json::value_t::object:
        return 5;
    default:
        return 6; // binary / discarded never come from the parser
    }
}

template <class T>
int three_way(const T& a, const T& b) {
    return a < b ? -1 : (b < a ? 1 : 0);
}

} // namespace

long double json_number(const nlohmann::json& v) {
    switch (v.type()) {
    case nlohmann::json::value_t::number_integer:
        return static_cast<long double>(v.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned:
        return static_cast<long double>(v.get<std::uint64_t>());
    case nlohmann::json::value_t::number_float:
        return static_cast<long double>(v.get<double>());
    default:
        return 0;
    }
}

int json_compare(const nlohmann::json& a, const nlohmann::json& b) {
    const int ra = type_rank(a);
    const int rb = type_rank(b);
    if (ra != rb) {
        return three_way(ra, rb);
    }
    switch (ra) {
    case 0:
        return 0;
    case 1:
        return three_way(a.get<bool>(), b.get<bool>());
    case 2: {
        if (a.is_number_integer() && b.is_number_integer() && !a.is_number_unsigned() &&
            !b.is_number_unsigned()) {
            return three_way(a.get<std::int64_t>(), b.get<std::int64_t>());
        }
        return three_way(json_number(a), json_number(b));
    }
    case 3:
        return three_way(a.get_ref<const std::string&>(), b.get_ref<const std::string&>());
    case 4: {
        const auto& x = a.get_ref<const nlohmann::json::array_t&>();
        const auto& y = b.get_ref<const nlohmann::json::array_t&>();
        for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
            if (const int c = json_compare(x[i], y[i]); c != 0) {
                return c;
            }
        }
        return three_way(x.size(), y.size());
    }
    case 5: {
        // object_t is a std::map: both iterate in key order.
        const auto& x = a.get_ref<const nlohmann::json::object_t&>();
        const auto& y = b.get_ref<const nlohmann::json::object_t&>();
        auto i = x.begin();
        auto j = y.begin();
        for (; i != x.end() && j != y.end(); ++i, ++j) {
            if (const int c = three_way(i->first, j->first); c != 0) {
                return c;
            }
            if (const int c = json_compare(i->second, j->second); c != 0) {
                return c;
            }
        }
        return three_way(x.size(), y.size());
    }
    default:
        return 0;
    }
}

bool json_is_integral(const nlohmann::json& v) {
    if (v.is_number_integer()) {
        return true;
    }
    if (v.is_number_float()) {
        const double d = v.get<double>();
        return std::isfinite(d) && std::trunc(d) == d;
    }
    return false;
}

const char* json_type_name(const nlohmann::json& v) {
    switch (v.type()) {
    case nlohmann::json::value_t::null:
        return "null";
    case nlohmann::json::value_t::boolean:
        return "boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
        return "integer";
    case nlohmann::json::value_t::number_float:
        return json_is_integral(v) ? "integer" : "number";
    case nlohmann::json::value_t::string:
        return "string";
    case nlohmann::json::value_t::array:
        return "array";
    case nlohmann::json::value_t::object:
        return "object";
    default:
        return "unknown";
    }
}

std::optional<std::size_t> json_non_negative_integer(const nlohmann::json& v) {
    if (v.is_number_unsigned()) {
        return static_cast<std::size_t>(v.get<std::uint64_t>());
    }
    if (v.is_number_integer()) {
        const auto i = v.get<std::int64_t>();
        return i < 0 ? std::nullopt : std::optional<std::size_t>(static_cast<std::size_t>(i));
    }
    if (v.is_number_float() && json_is_integral(v)) {
        const double d = v.get<double>();
        if (d < 0) {
            return std::nullopt;
        }
        // Bounds beyond size_t are effectively infinite for lengths and counts.
        return d >= 1.8e19 ? SIZE_MAX : static_cast<std::size_t>(d);
    }
    return std::nullopt;
}

std::size_t utf8_length(std::string_view s) {
    std::size_t n = 0;
    for (const char c : s) {
        if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) {
            ++n;
        }
    }
    return n;
}

void pointer_append(std::string& pointer, std::string_view token) {
    pointer.push_back('/');
    for (const char c : token) {
        if (c == '~') {
            pointer += "~0";
        } else if (c == '/') {
            pointer += "~1";
        } else {
            pointer.push_back(c);
        }
    }
}

void pointer_append(std::string& pointer, std::size_t index) {
    pointer.push_back('/');
    pointer += std::to_string(index);
}

std::optional<std::vector<std::string>> pointer_split(std::string_view pointer) {
    std::vector<std::string> tokens;
    if (pointer.empty()) {
        return tokens;
    }
    if (pointer.front() != '/') {
        return std::nullopt;
    }
    std::string token;
    for (std::size_t i = 1; i <= pointer.size(); ++i) {
        if (i == pointer.size() || pointer[i] == '/') {
            tokens.push_back(std::move(token));
            token.clear();
            continue;
        }
        if (pointer[i] == '~') {
            if (i + 1 >= pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1')) {
                return std::nullopt;
            }
            token.push_back(pointer[i + 1] == '0' ? '~' : '/');
            ++i;
            continue;
        }
        token.push_back(pointer[i]);
    }
    return tokens;
}

std::optional<std::string> percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    };
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out.push_back(s[i]);
            continue;
        }
        if (i + 2 >= s.size()) {
            return std::nullopt;
        }
        const int hi = hex(s[i + 1]);
        const int lo = hex(s[i + 2]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return out;
}

std::string json_excerpt(const nlohmann::json& v, std::size_t max) {
    std::string text = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (text.size() > max) {
        std::size_t cut = max;
        // Never cut inside a UTF-8 sequence.
        while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0U) == 0x80U) {
            --cut;
        }
        text.resize(cut);
        text += "…";
    }
    return text;
}

JsonShape json_shape(const nlohmann::json& v, std::size_t limit) {
    struct Frame {
        const nlohmann::json* value;
        std::size_t depth;
    };
    std::vector<Frame> stack{{&v, 0}};
    JsonShape shape;
    while (!stack.empty()) {
        const Frame f = stack.back();
        stack.pop_back();
        ++shape.values;
        if (!f.value->is_structured()) {
            continue;
        }
        const std::size_t d = f.depth + 1;
        if (d > limit) {
            shape.depth = limit + 1;
            return shape;
        }
        shape.depth = std::max(shape.depth, d);
        for (const auto& child : *f.value) {
            stack.push_back({&child, d});
        }
    }
    return shape;
}

} // namespace agentd::tools::schema
