// The JSON call-object parser, argument values, names and built-in calls of the tool-call parser.

#include "agentd/inference/value_json.h"

#include "toolcall/parser_impl.h"

namespace agentd::inference {

using namespace toolcall;

ToolCallParser::Impl::Step ToolCallParser::Impl::read_name_until(std::string_view delim,
                                                                 bool validate) {
    auto k = buf.find(delim);
    if (k == std::string::npos) {
        if (buf.size() > 512) {
            return Step::mismatch;
        }
        std::string_view part = buf;
        part = part.substr(0, part.size() - partial_suffix(buf, delim));
        while (!part.empty() && is_ws(part.front())) {
            part.remove_prefix(1);
        }
        if (validate && !part.empty() && !valid_function_name(part)) {
            return Step::mismatch;
        }
        return Step::need_more;
    }
    std::string_view n = std::string_view(buf).substr(0, k);
    while (!n.empty() && is_ws(n.back())) {
        n.remove_suffix(1);
    }
    while (!n.empty() && is_ws(n.front())) {
        n.remove_prefix(1);
    }
    if (n.empty() || n.size() > 512 || (validate && !valid_function_name(n))) {
        return Step::mismatch;
    }
    name = std::string(n);
    consume(k + delim.size());
    return Step::progressed;
}

ToolCallParser::Impl::Step ToolCallParser::Impl::read_args_value() {
    std::string fragment;
    Step result = Step::need_more;
    std::size_t i = 0;
    if (!scan.started()) {
        while (i < buf.size() && is_ws(buf[i])) {
            ++i;
        }
    }
    for (; i < buf.size(); ++i) {
        auto r = scan.feed(buf[i]);
        if (r == JsonScanner::Result::error) {
            consume(i);
            emit_args(std::move(fragment));
            return Step::mismatch;
        }
        if (r == JsonScanner::Result::ended_before) {
            result = Step::progressed;
            break;
        }
        fragment.push_back(buf[i]);
        if (r == JsonScanner::Result::done) {
            ++i;
            result = Step::progressed;
            break;
        }
    }
    consume(i);
    emit_args(std::move(fragment));
    return result;
}

ToolCallParser::Impl::Step ToolCallParser::Impl::step_object() {
    CallObject& o = obj;
    std::string fragment;
    auto flush = [&]() {
        if (!fragment.empty()) {
            emit_args(std::move(fragment));
            fragment.clear();
        }
    };
    std::size_t i = 0;
    Step result = Step::need_more;
    while (i < buf.size()) {
        char c = buf[i];
        if (o.st == CallObject::St::value) {
            if (!o.scan.started()) {
                if (is_ws(c)) {
                    ++i;
                    continue;
                }
                o.args_string = o.args_value && c == '"';
            }
            auto r = o.scan.feed(c);
            if (r == JsonScanner::Result::error) {
                result = Step::mismatch;
                break;
            }
            if (r != JsonScanner::Result::ended_before) {
                if (o.args_value && !o.args_string) {
                    fragment.push_back(c);
                } else {
                    o.raw.push_back(c);
                }
                ++i;
            }
            if (r == JsonScanner::Result::done || r == JsonScanner::Result::ended_before) {
                flush();
                if (!finish_value()) {
                    result = Step::mismatch;
                    break;
                }
                o.st = CallObject::St::after_value;
            }
            continue;
        }
        if (is_ws(c) && o.st != CallObject::St::key) {
            ++i;
            continue;
        }
        if (o.st == CallObject::St::open) {
            if (c != '{') {
                result = Step::mismatch;
                break;
            }
            o.st = CallObject::St::key_or_close;
        } else if (o.st == CallObject::St::key_or_close) {
            if (c == '}') {
                ++i;
                o.st = CallObject::St::done;
                break;
            }
            if (c != '"') {
                result = Step::mismatch;
                break;
            }
            o.raw.assign(1, '"');
            o.scan.reset();
            o.scan.feed('"');
            o.st = CallObject::St::key;
        } else if (o.st == CallObject::St::key) {
            o.raw.push_back(c);
            if (o.scan.feed(c) == JsonScanner::Result::done) {
                auto k = parse_json(o.raw);
                if (!k || !k->is_string()) {
                    result = Step::mismatch;
                    break;
                }
                o.key = k->as_string();
                o.st = CallObject::St::colon;
            }
        } else if (o.st == CallObject::St::colon) {
            if (c != ':') {
                result = Step::mismatch;
                break;
            }
            o.st = CallObject::St::value;
            o.scan.reset();
            o.raw.clear();
            o.args_value = o.key == "arguments" || o.key == "parameters";
            o.args_string = false;
            o.have_args = o.have_args || o.args_value;
        } else if (o.st == CallObject::St::after_value) {
            if (c == ',') {
                o.st = CallObject::St::key_or_close;
            } else if (c == '}') {
                ++i;
                o.st = CallObject::St::done;
                break;
            } else {
                result = Step::mismatch;
                break;
            }
        }
        ++i;
    }
    consume(i);
    flush();
    if (o.st == CallObject::St::done) {
        if (!begun) {
            return Step::mismatch; // an object without a name is not a call
        }
        end_call();
        return Step::progressed;
    }
    return result == Step::mismatch ? Step::mismatch : (i > 0 ? Step::progressed : Step::need_more);
}

bool ToolCallParser::Impl::finish_value() {
    CallObject& o = obj;
    if (o.args_value) {
        if (o.args_string) {
            auto v = parse_json(o.raw);
            if (!v || !v->is_string()) {
                return false;
            }
            emit_args(v->as_string());
        }
        return true;
    }
    if (o.key == "name" || o.key == "id") {
        auto v = parse_json(o.raw);
        if (!v || !v->is_string()) {
            return false;
        }
        if (o.key == "id") {
            id = v->as_string();
            if (begun) {
                calls_.back().id = id;
            }
            return true;
        }
        if (begun || !valid_function_name(v->as_string())) {
            return false;
        }
        begin_call(v->as_string(), id);
    }
    return true;
}

void ToolCallParser::Impl::finish_builtin() {
    std::string text = buf;
    buf.clear();
    while (!text.empty() && is_ws(text.back())) {
        text.pop_back();
    }
    auto k = text.find(".call(");
    std::string fn = k == std::string::npos ? "" : text.substr(0, k);
    if (valid_function_name(fn) && text.back() == ')') {
        std::string inner = text.substr(k + 6, text.size() - k - 7);
        Object args;
        std::size_t i = 0;
        bool ok = true;
        while (ok && i < inner.size()) {
            while (i < inner.size() && (is_ws(inner[i]) || inner[i] == ',')) {
                ++i;
            }
            if (i >= inner.size()) {
                break;
            }
            auto eq = inner.find('=', i);
            if (eq == std::string::npos) {
                ok = false;
                break;
            }
            std::string key = inner.substr(i, eq - i);
            while (!key.empty() && is_ws(key.back())) {
                key.pop_back();
            }
            auto v = parse_json_prefix(std::string_view(inner).substr(eq + 1));
            if (!v || key.empty()) {
                ok = false;
                break;
            }
            args.set(key, std::move(v->value));
            i = eq + 1 + v->consumed;
        }
        if (ok) {
            begin_call(fn, {});
            emit_args(to_json(Value(std::move(args)), JsonWriteOptions::python()));
            end_call();
            return;
        }
    }
    begin_call("python", {});
    emit_args(to_json(Value(Object{{"code", Value(text)}}), JsonWriteOptions::python()));
    end_call();
}

} // namespace agentd::inference
