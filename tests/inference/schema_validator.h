#pragma once
// A small JSON Schema validator for the keywords agentd's grammars support, used by the tests
// to check that every string a grammar generates validates.

#include "agentd/inference/value.h"

#include <cmath>
#include <regex>
#include <string>

namespace agentd::inference::schema_test {

// ---- a small validator for the keywords the grammar supports ---------------------------------

inline bool validate(const Value& v, const Value& s, const Value& root);

inline const Value* resolve(const Value& root, const std::string& ref) {
    const Value* cur = &root;
    std::size_t pos = 1;
    while (pos < ref.size()) {
        std::size_t next = ref.find('/', pos + 1);
        std::string key =
            ref.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
        cur = cur->find(key);
        if (cur == nullptr) {
            return nullptr;
        }
        pos = next == std::string::npos ? ref.size() : next;
    }
    return cur;
}

inline bool type_ok(const Value& v, const std::string& t) {
    if (t == "object") {
        return v.is_object();
    }
    if (t == "array") {
        return v.is_array();
    }
    if (t == "string") {
        return v.is_string();
    }
    if (t == "integer") {
        return v.is_int() || (v.is_double() && std::floor(v.as_double()) == v.as_double());
    }
    if (t == "number") {
        return v.is_number();
    }
    if (t == "boolean") {
        return v.is_bool();
    }
    return t == "null" && v.is_null();
}

inline bool validate(const Value& v, const Value& s, const Value& root) {
    if (s.is_bool()) {
        return s.as_bool();
    }
    if (const Value* r = s.find("$ref")) {
        const Value* target = resolve(root, r->as_string());
        return target != nullptr && validate(v, *target, root);
    }
    if (const Value* c = s.find("const")) {
        return v == *c;
    }
    if (const Value* e = s.find("enum")) {
        bool any = false;
        for (const auto& x : e->as_array()) {
            any = any || v == x;
        }
        return any;
    }
    for (const char* key : {"anyOf", "oneOf"}) {
        if (const Value* list = s.find(key)) {
            bool any = false;
            for (const auto& x : list->as_array()) {
                any = any || validate(v, x, root);
            }
            return any;
        }
    }
    if (const Value* t = s.find("type")) {
        bool ok = false;
        if (t->is_string()) {
            ok = type_ok(v, t->as_string());
        } else {
            for (const auto& x : t->as_array()) {
                ok = ok || type_ok(v, x.as_string());
            }
        }
        if (const Value* n = s.find("nullable"); n && n->as_bool() && v.is_null()) {
            ok = true;
        }
        if (!ok) {
            return false;
        }
    }
    if (v.is_object()) {
        const Value* props = s.find("properties");
        if (const Value* req = s.find("required")) {
            for (const auto& k : req->as_array()) {
                if (v.find(k.as_string()) == nullptr) {
                    return false;
                }
            }
        }
        const Value* ap = s.find("additionalProperties");
        for (const auto& [k, x] : v.as_object()) {
            const Value* ps = props ? props->find(k) : nullptr;
            if (ps != nullptr) {
                if (!validate(x, *ps, root)) {
                    return false;
                }
            } else if (ap != nullptr) {
                if (!validate(x, *ap, root)) {
                    return false;
                }
            } else if (props != nullptr) {
                return false; // strict mode: undeclared keys are not allowed
            }
        }
    }
    if (v.is_array()) {
        const auto& a = v.as_array();
        if (const Value* m = s.find("minItems");
            m && static_cast<double>(a.size()) < m->as_double()) {
            return false;
        }
        if (const Value* m = s.find("maxItems");
            m && static_cast<double>(a.size()) > m->as_double()) {
            return false;
        }
        std::size_t k = 0;
        if (const Value* p = s.find("prefixItems")) {
            for (; k < p->as_array().size() && k < a.size(); ++k) {
                if (!validate(a[k], p->as_array()[k], root)) {
                    return false;
                }
            }
        }
        if (const Value* items = s.find("items")) {
            for (; k < a.size(); ++k) {
                if (!validate(a[k], *items, root)) {
                    return false;
                }
            }
        }
    }
    if (v.is_string()) {
        std::size_t len = 0;
        for (unsigned char c : v.as_string()) {
            len += (c & 0xC0) != 0x80;
        }
        if (const Value* m = s.find("minLength"); m && static_cast<double>(len) < m->as_double()) {
            return false;
        }
        if (const Value* m = s.find("maxLength"); m && static_cast<double>(len) > m->as_double()) {
            return false;
        }
        if (const Value* p = s.find("pattern")) {
            if (!std::regex_search(v.as_string(),
                                   std::regex(p->as_string(), std::regex::ECMAScript))) {
                return false;
            }
        }
    }
    if (v.is_number()) {
        double d = v.as_double();
        if (const Value* m = s.find("minimum"); m && d < m->as_double()) {
            return false;
        }
        if (const Value* m = s.find("maximum"); m && d > m->as_double()) {
            return false;
        }
        if (const Value* m = s.find("exclusiveMinimum"); m && d <= m->as_double()) {
            return false;
        }
        if (const Value* m = s.find("exclusiveMaximum"); m && d >= m->as_double()) {
            return false;
        }
    }
    return true;
}

} // namespace agentd::inference::schema_test
