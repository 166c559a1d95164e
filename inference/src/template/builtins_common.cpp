// Helpers shared by the builtin filters, tests, methods and globals.

#include "template/interpreter.h"
#include "value/utf8.h"

namespace agentd::inference::jinja {

const JVal* kwarg(CallArgs& args, std::string_view name) {
    for (auto& [k, v] : args.keyword) {
        if (k == name) {
            return &v;
        }
    }
    return nullptr;
}

const JVal* arg(CallArgs& args, std::size_t i, std::string_view name) {
    if (i < args.positional.size()) {
        return &args.positional[i];
    }
    return kwarg(args, name);
}

std::vector<JVal> iterate(Interpreter& in, const JVal& v) {
    if (v.is_list()) {
        return v.list()->items;
    }
    if (v.is_dict()) {
        if (v.dict()->is_namespace) {
            in.fail("'Namespace' object is not iterable");
        }
        std::vector<JVal> keys;
        keys.reserve(v.dict()->items.size());
        for (const auto& [k, e] : v.dict()->items) {
            keys.emplace_back(k);
        }
        return keys;
    }
    if (v.is_string()) {
        std::vector<JVal> chars;
        const std::string& s = v.str();
        std::size_t i = 0;
        while (i < s.size()) {
            std::size_t start = i;
            utf8::decode(s, i);
            chars.emplace_back(s.substr(start, i - start));
        }
        return chars;
    }
    if (v.is_undefined()) {
        return {};
    }
    in.fail("'" + std::string(type_name(v)) + "' object is not iterable");
}

std::int64_t to_int(Interpreter& in, const JVal& v, std::string_view what) {
    if (v.is_int() || v.is_bool()) {
        return v.int_value();
    }
    in.fail(std::string(what) + " must be an integer, not " + type_name(v));
}

} // namespace agentd::inference::jinja
