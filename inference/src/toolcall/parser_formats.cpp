// Per-format stages of the tool-call parser (see parser.cpp for the overall flow).

#include "toolcall/parser_impl.h"

namespace agentd::inference {

using namespace toolcall;

ToolCallParser::Impl::Step ToolCallParser::Impl::step_call() {
    if (stage >= 40 && stage < 60) {
        bool closing = stage == 44 || stage == 45 || stage == 46 || stage == 47 || stage == 52 ||
                       stage == 53 || stage == 54;
        return closing ? step_deepseek_close() : step_deepseek_open();
    }
    switch (stage / 10) {
    case 0:
        return step_hermes();
    case 1:
        return step_llama();
    case 2:
        return step_mistral();
    case 3:
        return step_mistral_v11();
    case 6:
        return step_phi();
    default:
        return Step::mismatch;
    }
}

// hermes: <tool_call> {object} </tool_call>
ToolCallParser::Impl::Step ToolCallParser::Impl::step_hermes() {
    switch (stage) {
    case 0:
        skip_ws();
        if (buf.empty()) {
            return Step::need_more;
        }
        stage = 1;
        return Step::progressed;
    case 1: {
        Step s = step_object();
        if (s == Step::progressed && obj.st == CallObject::St::done) {
            stage = 2;
        }
        return s;
    }
    case 2: {
        skip_ws();
        Step s = expect(kHermesEnd);
        if (s == Step::need_more) {
            return s;
        }
        to_content_after_call();
        return Step::progressed; // a missing </tool_call> is tolerated
    }
    default:
        return Step::mismatch;
    }
}

// llama3_json: <|python_tag|> {object} | builtin.call(...) ; or a bare object at the start
ToolCallParser::Impl::Step ToolCallParser::Impl::step_llama() {
    switch (stage) {
    case 10:
        skip_ws();
        if (buf.empty()) {
            return Step::need_more;
        }
        stage = buf[0] == '{' ? 11 : 12;
        return Step::progressed;
    case 11: {
        Step s = step_object();
        if (s == Step::progressed && obj.st == CallObject::St::done) {
            stage = 13;
        }
        return s;
    }
    case 12:
        // Built-in tool call or code: collected until the end of the output.
        if (buf.size() > opt.max_buffer_bytes) {
            return Step::mismatch;
        }
        return Step::need_more;
    case 13: {
        std::size_t n = 0;
        while (n < buf.size() && (is_ws(buf[n]) || buf[n] == ';')) {
            ++n;
        }
        consume(n);
        if (buf.empty()) {
            return Step::need_more;
        }
        if (buf[0] == '{') {
            obj = CallObject();
            stage = 11;
            return Step::progressed;
        }
        to_content_after_call();
        return Step::progressed;
    }
    default:
        return Step::mismatch;
    }
}

// mistral: [TOOL_CALLS] [ {object}, ... ]
ToolCallParser::Impl::Step ToolCallParser::Impl::step_mistral() {
    switch (stage) {
    case 20:
        skip_ws();
        if (buf.empty()) {
            return Step::need_more;
        }
        if (buf[0] == '[') {
            consume(1);
            list = true;
            stage = 21;
        } else if (buf[0] == '{') {
            stage = 22;
        } else {
            return Step::mismatch;
        }
        return Step::progressed;
    case 21:
        skip_ws();
        if (buf.empty()) {
            return Step::need_more;
        }
        if (buf[0] == ']') {
            consume(1);
            to_content_after_call();
            return Step::progressed;
        }
        if (buf[0] != '{') {
            return Step::mismatch;
        }
        obj = CallObject();
        stage = 22;
        return Step::progressed;
    case 22: {
        Step s = step_object();
        if (s == Step::progressed && obj.st == CallObject::St::done) {
            stage = 23;
        }
        return s;
    }
    case 23:
        skip_ws();
        if (!list) {
            to_content_after_call();
            return Step::progressed;
        }
        if (buf.empty()) {
            return Step::need_more;
        }
        if (buf[0] == ',') {
            consume(1);
            stage = 21;
            return Step::progressed;
        }
        if (buf[0] == ']') {
            consume(1);
        }
        to_content_after_call();
        return Step::progressed;
    default:
        return Step::mismatch;
    }
}

// mistral_v11: [TOOL_CALLS] name [ARGS] {arguments}
ToolCallParser::Impl::Step ToolCallParser::Impl::step_mistral_v11() {
    switch (stage) {
    case 30: {
        Step s = read_name_until(kMistralArgs, false);
        if (s != Step::progressed) {
            return s;
        }
        std::string fn = name;
        std::string call_id;
        if (auto k = fn.find("[CALL_ID]"); k != std::string::npos) {
            call_id = fn.substr(k + 9);
            fn = fn.substr(0, k);
        }
        if (!valid_function_name(fn)) {
            return Step::mismatch;
        }
        begin_call(fn, call_id);
        stage = 31;
        return Step::progressed;
    }
    case 31: {
        Step s = read_args_value();
        if (s == Step::progressed) {
            end_call();
            to_content_after_call();
        }
        return s;
    }
    default:
        return Step::mismatch;
    }
}

// deepseek_v3 / v3.1, up to the arguments: [<｜tool▁calls▁begin｜>] <｜tool▁call▁begin｜>
// (v3: type<｜tool▁sep｜>name\n```json) (v3.1: name<｜tool▁sep｜>)
ToolCallParser::Impl::Step ToolCallParser::Impl::step_deepseek_open() {
    switch (stage) {
    case 40:
    case 50: {
        skip_ws();
        Step s = expect(kDsCallBegin);
        if (s == Step::progressed) {
            stage = stage == 40 ? 41 : 51;
        }
        return s;
    }
    case 41: {
        Step s = read_name_until(kDsSep, true);
        if (s == Step::progressed) {
            stage = 42;
        }
        return s;
    }
    case 42: {
        Step s = read_name_until("\n", true);
        if (s == Step::progressed) {
            begin_call(name, {});
            stage = 43;
        }
        return s;
    }
    case 43: {
        skip_ws();
        Step s = expect("```json");
        if (s == Step::mismatch) {
            s = expect("```");
        }
        if (s == Step::progressed) {
            stage = 44;
        }
        return s;
    }
    case 51: {
        Step s = read_name_until(kDsSep, true);
        if (s == Step::progressed) {
            begin_call(name, {});
            stage = 52;
        }
        return s;
    }
    default:
        return Step::mismatch;
    }
}

// deepseek_v3 / v3.1, from the arguments on: {args} (v3: ```) <｜tool▁call▁end｜>, then the next
// call or <｜tool▁calls▁end｜>
ToolCallParser::Impl::Step ToolCallParser::Impl::step_deepseek_close() {
    switch (stage) {
    case 44: {
        Step s = read_args_value();
        if (s == Step::progressed) {
            stage = 45;
        }
        return s;
    }
    case 45: {
        skip_ws();
        Step s = expect("```");
        if (s == Step::progressed) {
            stage = 47;
        }
        return s;
    }
    case 47:
    case 53: {
        skip_ws();
        Step s = expect(kDsCallEnd);
        if (s == Step::progressed) {
            end_call();
            stage = stage == 47 ? 46 : 54;
        }
        return s;
    }
    case 46:
    case 54: {
        skip_ws();
        if (buf.empty()) {
            return Step::need_more;
        }
        Step s = expect(kDsCallBegin);
        if (s == Step::progressed) {
            stage = stage == 46 ? 41 : 51;
            return s;
        }
        if (s == Step::need_more) {
            return s;
        }
        Step e = expect(kDsCallsEnd);
        if (e == Step::need_more) {
            return e;
        }
        to_content_after_call();
        return Step::progressed;
    }
    case 52: {
        Step s = read_args_value();
        if (s == Step::progressed) {
            stage = 53;
        }
        return s;
    }
    default:
        return Step::mismatch;
    }
}

// phi4_mini: <|tool_call|> [ {object}, ... ] <|/tool_call|>
ToolCallParser::Impl::Step ToolCallParser::Impl::step_phi() {
    switch (stage) {
    case 60:
        skip_ws();
        if (buf.empty()) {
            return Step::need_more;
        }
        if (buf[0] == '[') {
            consume(1);
            list = true;
            stage = 61;
        } else if (buf[0] == '{') {
            stage = 62;
        } else {
            return Step::mismatch;
        }
        return Step::progressed;
    case 61:
        skip_ws();
        if (buf.empty()) {
            return Step::need_more;
        }
        if (buf[0] == ']') {
            consume(1);
            stage = 64;
            return Step::progressed;
        }
        if (buf[0] != '{') {
            return Step::mismatch;
        }
        obj = CallObject();
        stage = 62;
        return Step::progressed;
    case 62: {
        Step s = step_object();
        if (s == Step::progressed && obj.st == CallObject::St::done) {
            stage = 63;
        }
        return s;
    }
    case 63:
        skip_ws();
        if (!list) {
            stage = 64;
            return Step::progressed;
        }
        if (buf.empty()) {
            return Step::need_more;
        }
        if (buf[0] == ',') {
            consume(1);
            stage = 61;
            return Step::progressed;
        }
        if (buf[0] == ']') {
            consume(1);
        }
        stage = 64;
        return Step::progressed;
    case 64: {
        skip_ws();
        Step s = expect(kPhiCallEnd);
        if (s == Step::need_more) {
            return s;
        }
        to_content_after_call();
        return Step::progressed;
    }
    default:
        return Step::mismatch;
    }
}

} // namespace agentd::inference
