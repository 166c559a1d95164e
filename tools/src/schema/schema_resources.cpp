#include "schema/schema_resources.h"

#include "schema/json_util.h"

#include <utility>

namespace agentd::tools::schema {
namespace {

bool has_scheme(std::string_view s) {
    const std::size_t colon = s.find(':');
    if (colon == std::string_view::npos || colon == 0) {
        return false;
    }
    const std::size_t delim = s.find_first_of("/?#");
    if (delim != std::string_view::npos && delim < colon) {
        return false;
    }
    for (std::size_t i = 0; i < colon; ++i) {
        const char c = s[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!alpha && (i == 0 || !((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))) {
            return false;
        }
    }
    return true;
}

/// The part of `base` up to the end of its authority ("https://h:1"), or "" when it has none.
std::string_view scheme_and_authority(std::string_view base) {
    const std::size_t colon = base.find(':');
    if (colon == std::string_view::npos) {
        return {};
    }
    if (base.substr(colon + 1, 2) != "//") {
        return base.substr(0, colon + 1);
    }
    const std::size_t end = base.find_first_of("/?#", colon + 3);
    return end == std::string_view::npos ? base : base.substr(0, end);
}

bool valid_anchor(std::string_view name) {
    if (name.empty()) {
        return false;
    }
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        const bool other = (c >= '0' && c <= '9') || c == '-' || c == '.';
        if (!alpha && (i == 0 || !other)) {
            return false;
        }
    }
    return true;
}

std::string strip_fragment(std::string_view uri) {
    return std::string(uri.substr(0, uri.find('#')));
}

} // namespace

std::string resolve_uri(std::string_view base, std::string_view ref) {
    if (has_scheme(ref) || base.empty()) {
        return std::string(ref);
    }
    if (ref.empty()) {
        return std::string(base);
    }
    if (ref.rfind("//", 0) == 0) {
        const std::size_t colon = base.find(':');
        return std::string(base.substr(0, colon + 1)) + std::string(ref);
    }
    const std::string_view origin = scheme_and_authority(base);
    if (ref.front() == '/') {
        return std::string(origin) + std::string(ref);
    }
    if (ref.front() == '?') {
        return std::string(base.substr(0, base.find('?'))) + std::string(ref);
    }
    while (ref.rfind("./", 0) == 0) {
        ref.remove_prefix(2);
    }
    std::string_view path_part = base.substr(0, base.find_first_of("?#"));
    const std::size_t slash = path_part.rfind('/');
    if (slash == std::string_view::npos || slash < origin.size()) {
        // No path yet: "https://h" + "x" → "https://h/x"; "a.json" + "b.json" → "b.json".
        return origin.empty() ? std::string(ref) : std::string(origin) + "/" + std::string(ref);
    }
    return std::string(path_part.substr(0, slash + 1)) + std::string(ref);
}

void SchemaResources::scan(const nlohmann::json& document, std::vector<std::string>& problems) {
    struct Frame {
        const nlohmann::json* value;
        std::string pointer;
        std::string base;
    };
    resources_[""] = "";
    std::vector<Frame> stack{{&document, "", ""}};
    while (!stack.empty()) {
        Frame f = std::move(stack.back());
        stack.pop_back();
        if (!f.value->is_object()) {
            base_of_[f.pointer] = f.base;
            continue;
        }
        const auto& s = *f.value;
        if (const auto id = s.find("$id"); id != s.end()) {
            if (!id->is_string()) {
                problems.push_back(f.pointer + "/$id: must be a string");
            } else {
                const auto& text = id->get_ref<const std::string&>();
                if (!text.empty() && text.front() == '#') {
                    // draft-07 plain-name fragment: an anchor.
                    anchors_[f.base + text] = f.pointer;
                } else {
                    const std::size_t hash = text.find('#');
                    if (hash != std::string::npos && hash + 1 != text.size()) {
                        problems.push_back(f.pointer + "/$id: must not contain a fragment");
                    }
                    f.base = resolve_uri(f.base, strip_fragment(text));
                    resources_.emplace(f.base, f.pointer);
                }
            }
        }
        for (const char* key : {"$anchor", "$dynamicAnchor"}) {
            const auto a = s.find(key);
            if (a == s.end()) {
                continue;
            }
            if (!a->is_string() || !valid_anchor(a->get_ref<const std::string&>())) {
                problems.push_back(f.pointer + "/" + key +
                                   ": must be a name matching ^[A-Za-z_][-A-Za-z0-9._]*$");
                continue;
            }
            anchors_.emplace(f.base + "#" + a->get<std::string>(), f.pointer);
        }
        base_of_[f.pointer] = f.base;
        for_each_subschema(s, [&](std::string_view keyword, std::string_view name,
                                  std::size_t index, const nlohmann::json& child) {
            stack.push_back({&child, child_pointer(f.pointer, keyword, name, index), f.base});
        });
    }
}

std::string SchemaResources::base_at(std::string_view pointer) const {
    while (true) {
        if (const auto it = base_of_.find(std::string(pointer)); it != base_of_.end()) {
            return it->second;
        }
        const std::size_t slash = pointer.rfind('/');
        if (slash == std::string_view::npos) {
            return {};
        }
        pointer = pointer.substr(0, slash);
    }
}

SchemaResources::Target SchemaResources::resolve(std::string_view base,
                                                 std::string_view ref) const {
    const std::size_t hash = ref.find('#');
    const std::string_view uri_part = ref.substr(0, hash);
    const std::string_view fragment =
        hash == std::string_view::npos ? std::string_view{} : ref.substr(hash + 1);
    const std::string target_uri =
        uri_part.empty() ? std::string(base) : resolve_uri(base, uri_part);
    const auto resource = resources_.find(target_uri);
    if (resource == resources_.end()) {
        if (has_scheme(target_uri)) {
            return {{},
                    "refers to " + target_uri +
                        ", which is not part of this document (remote references are not "
                        "supported)"};
        }
        return {{}, "refers to \"" + target_uri + "\", which no $id in this document defines"};
    }
    const auto decoded = percent_decode(fragment);
    if (!decoded) {
        return {{}, "has a malformed percent escape in its fragment"};
    }
    if (decoded->empty()) {
        return {resource->second, {}};
    }
    if (decoded->front() == '/') {
        const auto tokens = pointer_split(*decoded);
        if (!tokens) {
            return {{}, "has a malformed JSON pointer (\"~\" must be followed by 0 or 1)"};
        }
        std::string pointer = resource->second;
        for (const auto& t : *tokens) {
            pointer_append(pointer, t);
        }
        return {std::move(pointer), {}};
    }
    const auto anchor = anchors_.find(target_uri + "#" + *decoded);
    if (anchor == anchors_.end()) {
        return {{}, "refers to anchor \"" + *decoded + "\", which is not defined"};
    }
    return {anchor->second, {}};
}

const nlohmann::json* navigate(const nlohmann::json& document, std::string_view pointer) {
    const auto tokens = pointer_split(pointer);
    if (!tokens) {
        return nullptr;
    }
    const nlohmann::json* v = &document;
    for (const auto& t : *tokens) {
        if (v->is_object()) {
            const auto it = v->find(t);
            if (it == v->end()) {
                return nullptr;
            }
            v = &*it;
        } else if (v->is_array()) {
            if (t.empty() || t.size() > 9 || (t.size() > 1 && t.front() == '0') ||
                t.find_first_not_of("0123456789") != std::string::npos) {
                return nullptr;
            }
            const std::size_t i = std::stoul(t);
            if (i >= v->size()) {
                return nullptr;
            }
            v = &(*v)[i];
        } else {
            return nullptr;
        }
    }
    return v;
}

} // namespace agentd::tools::schema
