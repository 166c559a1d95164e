#include "a2a/json_read.h"

#include <charconv>
#include <limits>

namespace agentd::protocols::a2a::detail {

using nlohmann::json;

void invalid(std::string_view path, std::string_view what) {
    std::string message(path);
    if (!message.empty()) {
        message += ": ";
    }
    message += what;
    throw Invalid{std::move(message)};
}

std::string join_path(std::string_view path, std::string_view key) {
    if (path.empty()) {
        return std::string(key);
    }
    std::string out(path);
    out += '.';
    out += key;
    return out;
}

std::string index_path(std::string_view path, std::size_t index) {
    std::string out(path);
    out += '[';
    out += std::to_string(index);
    out += ']';
    return out;
}

const json& require_object(const json& value, std::string_view path) {
    if (!value.is_object()) {
        invalid(path, std::string("must be an object, not ") + value.type_name());
    }
    return value;
}

const json* find(const json& object, std::string_view camel, std::string_view snake) {
    auto it = object.find(camel);
    if (it == object.end() && !snake.empty()) {
        it = object.find(snake);
    }
    if (it == object.end() || it->is_null()) {
        return nullptr;
    }
    return &*it;
}

std::optional<std::string> opt_string(const json& object, std::string_view path,
                                      std::string_view camel, std::string_view snake,
                                      std::size_t max_bytes) {
    const json* v = find(object, camel, snake);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (!v->is_string()) {
        invalid(join_path(path, camel), std::string("must be a string, not ") + v->type_name());
    }
    const auto& s = v->get_ref<const std::string&>();
    if (max_bytes != 0 && s.size() > max_bytes) {
        invalid(join_path(path, camel), "is too long (" + std::to_string(s.size()) +
                                            " bytes, at most " + std::to_string(max_bytes) + ")");
    }
    return s;
}

std::string req_string(const json& object, std::string_view path, std::string_view camel,
                       std::string_view snake, std::size_t max_bytes) {
    auto s = opt_string(object, path, camel, snake, max_bytes);
    if (!s) {
        invalid(join_path(path, camel), "is required");
    }
    if (s->empty()) {
        invalid(join_path(path, camel), "must not be empty");
    }
    return std::move(*s);
}

std::optional<bool> opt_bool(const json& object, std::string_view path, std::string_view camel,
                             std::string_view snake) {
    const json* v = find(object, camel, snake);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (!v->is_boolean()) {
        invalid(join_path(path, camel), std::string("must be a boolean, not ") + v->type_name());
    }
    return v->get<bool>();
}

std::optional<std::int32_t> opt_int32(const json& object, std::string_view path,
                                      std::string_view camel, std::string_view snake) {
    const json* v = find(object, camel, snake);
    if (v == nullptr) {
        return std::nullopt;
    }
    constexpr auto lo = std::numeric_limits<std::int32_t>::min();
    constexpr auto hi = std::numeric_limits<std::int32_t>::max();
    if (v->is_number_integer()) {
        if (v->is_number_unsigned()) {
            const auto u = v->get<std::uint64_t>();
            if (u <= static_cast<std::uint64_t>(hi)) {
                return static_cast<std::int32_t>(u);
            }
        } else {
            const auto i = v->get<std::int64_t>();
            if (i >= lo && i <= hi) {
                return static_cast<std::int32_t>(i);
            }
        }
        invalid(join_path(path, camel), "is out of the int32 range");
    }
    if (v->is_string()) {
        const auto& s = v->get_ref<const std::string&>();
        std::int32_t out = 0;
        const auto* end = s.data() + s.size();
        const auto r = std::from_chars(s.data(), end, out);
        if (r.ec == std::errc() && r.ptr == end && !s.empty()) {
            return out;
        }
    }
    invalid(join_path(path, camel), "must be an integer");
}

std::vector<std::string> opt_strings(const json& object, std::string_view path,
                                     std::string_view camel, std::string_view snake) {
    std::vector<std::string> out;
    const json* v = opt_array(object, path, camel, snake);
    if (v == nullptr) {
        return out;
    }
    const std::string base = join_path(path, camel);
    out.reserve(v->size());
    for (std::size_t i = 0; i < v->size(); ++i) {
        const json& item = (*v)[i];
        if (!item.is_string()) {
            invalid(index_path(base, i), "must be a string");
        }
        if (item.get_ref<const std::string&>().size() > 4096) {
            invalid(index_path(base, i), "is too long");
        }
        out.push_back(item.get<std::string>());
    }
    return out;
}

const json* opt_object(const json& object, std::string_view path, std::string_view camel,
                       std::string_view snake) {
    const json* v = find(object, camel, snake);
    if (v != nullptr && !v->is_object()) {
        invalid(join_path(path, camel), std::string("must be an object, not ") + v->type_name());
    }
    return v;
}

const json* opt_array(const json& object, std::string_view path, std::string_view camel,
                      std::string_view snake, std::size_t max_items) {
    const json* v = find(object, camel, snake);
    if (v == nullptr) {
        return nullptr;
    }
    if (!v->is_array()) {
        invalid(join_path(path, camel), std::string("must be an array, not ") + v->type_name());
    }
    if (v->size() > max_items) {
        invalid(join_path(path, camel),
                "has too many items (at most " + std::to_string(max_items) + ")");
    }
    return v;
}

} // namespace agentd::protocols::a2a::detail
