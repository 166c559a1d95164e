// Streaming tool-call parser (see tool_calls.h). Text arrives in arbitrary pieces (down to single
// bytes); everything that could still turn into a marker is held back until it is decided.

#include "agentd/inference/errc.h"
#include "agentd/inference/tool_calls.h"
#include "agentd/inference/value_json.h"

#include "toolcall/json_scanner.h"
#include "toolcall/syntax.h"

#include <algorithm>
#include <cctype>
#include <optional>

namespace agentd::inference {
namespace {

using namespace toolcall;

bool is_ws(char c) {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

// Length of the longest suffix of `s` that is a proper prefix of `marker`.
std::size_t partial_suffix(std::string_view s, std::string_view marker) {
    std::size_t max = std::min(s.size(), marker.size() - 1);
    for (std::size_t len = max; len > 0; --len) {
        if (s.substr(s.size() - len) == marker.substr(0, len)) {
            return len;
        }
    }
    return 0;
}

enum class Match : std::uint8_t { yes, need_more, no };

Match starts_with(std::string_view s, std::string_view lit) {
    if (s.size() >= lit.size()) {
        return s.substr(0, lit.size()) == lit ? Match::yes : Match::no;
    }
    return lit.substr(0, s.size()) == s ? Match::need_more : Match::no;
}

bool valid_function_name(std::string_view n) {
    if (n.empty() || n.size() > 256) {
        return false;
    }
    return std::all_of(n.begin(), n.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
               c == ':' || c == '/';
    });
}

} // namespace

struct ToolCallParser::Impl {
    enum class Mode : std::uint8_t { start, reasoning, content, call };
    enum class Step : std::uint8_t { progressed, need_more, mismatch };

    // Incremental parser of one {"name": ..., "arguments": ...} object.
    struct CallObject {
        enum class St : std::uint8_t { open, key_or_close, key, colon, value, after_value, done };
        St st = St::open;
        JsonScanner scan;
        std::string raw; // current key or value text
        std::string key;
        bool args_value = false;
        bool args_string = false;
        bool have_args = false;
    };

    explicit Impl(ToolCallParserOptions o) : opt(o) {
        if (opt.reasoning && opt.starts_in_reasoning) {
            mode = Mode::reasoning;
        } else if (opt.reasoning) {
            mode = Mode::start;
        } else {
            mode = Mode::content;
        }
    }

    ToolCallParserOptions opt;
    Mode mode;
    std::string buf;
    std::vector<ChatDelta>* out = nullptr;
    std::string content_;
    std::string reasoning_;
    std::vector<ParsedToolCall> calls_;
    bool content_started = false;
    bool strip_ws = false; // drop whitespace at the start of the next content
    bool reasoning_started = false;
    bool after_call = false; // whitespace-only content after a call is dropped
    std::string leading_ws;  // whitespace before the first content or call
    std::optional<std::string> error;

    // Current call.
    int stage = 0;
    std::string raw; // text consumed since the trigger (to undo a false start)
    bool begun = false;
    bool list = false;
    CallObject obj;
    JsonScanner scan;
    std::string name;
    std::string id;
    std::string pending_args; // arguments seen before the name

    // ---- emission ------------------------------------------------------------------------
    void emit_content(std::string text) {
        if (text.empty()) {
            return;
        }
        if (after_call) {
            // Whitespace between and after tool calls is layout, not content.
            std::size_t i = 0;
            while (i < text.size() && is_ws(text[i])) {
                ++i;
            }
            if (i == text.size()) {
                return;
            }
            text.erase(0, i);
            after_call = false;
        }
        if (!content_started) {
            // Whitespace before anything else is held: dropped if a tool call follows.
            if (std::all_of(text.begin(), text.end(), is_ws)) {
                leading_ws += text;
                return;
            }
            text = std::move(leading_ws) + text;
            leading_ws.clear();
        }
        content_started = content_started ||
                          std::any_of(text.begin(), text.end(), [](char c) { return !is_ws(c); });
        content_ += text;
        out->push_back(ChatDelta{ChatDelta::Kind::content, 0, std::move(text), {}});
    }

    void emit_reasoning(std::string text) {
        if (text.empty()) {
            return;
        }
        reasoning_ += text;
        out->push_back(ChatDelta{ChatDelta::Kind::reasoning, 0, std::move(text), {}});
    }

    void begin_call(std::string fn, std::string call_id) {
        begun = true;
        calls_.push_back(ParsedToolCall{call_id, fn, {}});
        out->push_back(ChatDelta{ChatDelta::Kind::tool_call_begin, calls_.size() - 1, std::move(fn),
                                 std::move(call_id)});
        if (!pending_args.empty()) {
            emit_args(std::move(pending_args));
            pending_args.clear();
        }
    }

    void emit_args(std::string fragment) {
        if (fragment.empty()) {
            return;
        }
        if (!begun) {
            pending_args += fragment;
            return;
        }
        calls_.back().arguments += fragment;
        out->push_back(
            ChatDelta{ChatDelta::Kind::tool_call_args, calls_.size() - 1, std::move(fragment), {}});
    }

    void end_call() {
        if (calls_.back().arguments.empty()) {
            calls_.back().arguments = "{}";
            out->push_back(ChatDelta{ChatDelta::Kind::tool_call_args, calls_.size() - 1, "{}", {}});
        }
        out->push_back(ChatDelta{ChatDelta::Kind::tool_call_end, calls_.size() - 1, {}, {}});
        begun = false;
        raw.clear();
    }

    void start_call(int first_stage) {
        leading_ws.clear();
        mode = Mode::call;
        stage = first_stage;
        begun = false;
        list = false;
        obj = CallObject();
        scan.reset();
        name.clear();
        id.clear();
        pending_args.clear();
    }

    void to_content_after_call() {
        mode = Mode::content;
        raw.clear();
        after_call = true;
    }

    // ---- buffer helpers ------------------------------------------------------------------
    void consume(std::size_t n) {
        raw.append(buf, 0, n);
        buf.erase(0, n);
    }
    void skip_ws() {
        std::size_t n = 0;
        while (n < buf.size() && is_ws(buf[n])) {
            ++n;
        }
        consume(n);
    }
    Step expect(std::string_view lit) {
        switch (starts_with(buf, lit)) {
        case Match::yes:
            consume(lit.size());
            return Step::progressed;
        case Match::need_more:
            return Step::need_more;
        case Match::no:
            return Step::mismatch;
        }
        return Step::mismatch;
    }

    // ---- modes ---------------------------------------------------------------------------
    bool step() {
        switch (mode) {
        case Mode::start:
            return step_start();
        case Mode::reasoning:
            return step_reasoning();
        case Mode::content:
            return step_content();
        case Mode::call: {
            Step s = step_call();
            if (s == Step::mismatch) {
                handle_mismatch();
                return true;
            }
            return s == Step::progressed;
        }
        }
        return false;
    }

    bool step_start() {
        std::size_t i = 0;
        while (i < buf.size() && is_ws(buf[i])) {
            ++i;
        }
        switch (starts_with(std::string_view(buf).substr(i), kThinkBegin)) {
        case Match::yes:
            buf.erase(0, i + kThinkBegin.size());
            mode = Mode::reasoning;
            return true;
        case Match::need_more:
            return false;
        case Match::no:
            mode = Mode::content;
            return true;
        }
        return false;
    }

    bool step_reasoning() {
        if (!reasoning_started) {
            std::size_t i = 0;
            while (i < buf.size() && is_ws(buf[i])) {
                ++i;
            }
            buf.erase(0, i);
            if (buf.empty()) {
                return false;
            }
            reasoning_started = true;
        }
        auto k = buf.find(kThinkEnd);
        if (k != std::string::npos) {
            std::size_t end = k;
            while (end > 0 && is_ws(buf[end - 1])) {
                --end;
            }
            emit_reasoning(buf.substr(0, end));
            buf.erase(0, k + kThinkEnd.size());
            mode = Mode::content;
            strip_ws = true;
            return true;
        }
        // Hold a possible "</think>" prefix and trailing whitespace (dropped before </think>).
        std::size_t keep = partial_suffix(buf, kThinkEnd);
        std::size_t end = buf.size() - keep;
        while (end > 0 && is_ws(buf[end - 1])) {
            --end;
        }
        if (end == 0) {
            return false;
        }
        emit_reasoning(buf.substr(0, end));
        buf.erase(0, end);
        return true;
    }

    std::vector<std::string_view> triggers() const {
        switch (opt.format) {
        case ToolCallFormat::hermes:
            return {kHermesBegin};
        case ToolCallFormat::llama3_json:
            return {kPythonTag};
        case ToolCallFormat::mistral:
        case ToolCallFormat::mistral_v11:
            return {kMistralCalls};
        case ToolCallFormat::deepseek_v3:
        case ToolCallFormat::deepseek_v31:
            return {kDsCallsBegin, kDsCallBegin};
        case ToolCallFormat::phi4_mini:
            return {kPhiCallBegin};
        case ToolCallFormat::none:
            return {};
        }
        return {};
    }

    // Llama 3.x writes a bare JSON call at the very start of its answer.
    std::optional<bool> llama_json_start() const {
        std::size_t i = 0;
        while (i < buf.size() && is_ws(buf[i])) {
            ++i;
        }
        if (i == buf.size()) {
            return std::nullopt;
        }
        if (buf[i] != '{') {
            return false;
        }
        ++i;
        while (i < buf.size() && is_ws(buf[i])) {
            ++i;
        }
        std::string_view rest = std::string_view(buf).substr(i);
        Match a = starts_with(rest, "\"name\"");
        Match b = starts_with(rest, "\"type\"");
        if (a == Match::yes || b == Match::yes) {
            return true;
        }
        if (a == Match::need_more || b == Match::need_more) {
            return std::nullopt;
        }
        return false;
    }

    bool step_content() {
        if (strip_ws) {
            std::size_t i = 0;
            while (i < buf.size() && is_ws(buf[i])) {
                ++i;
            }
            buf.erase(0, i);
            if (buf.empty()) {
                return false;
            }
            strip_ws = false;
        }
        if (opt.format == ToolCallFormat::llama3_json && !content_started && calls_.empty()) {
            auto start = llama_json_start();
            if (!start) {
                if (buf.size() <= opt.max_buffer_bytes) {
                    return false;
                }
            } else if (*start) {
                start_call(11);
                skip_ws();
                raw.clear();
                return true;
            }
        }
        auto trig = triggers();
        std::size_t best = std::string::npos;
        std::string_view which;
        for (auto t : trig) {
            auto k = buf.find(t);
            if (k != std::string::npos && k < best) {
                best = k;
                which = t;
            }
        }
        if (best != std::string::npos) {
            emit_content(buf.substr(0, best));
            buf.erase(0, best);
            start_call(first_stage(which));
            consume(which.size());
            return true;
        }
        std::size_t keep = 0;
        for (auto t : trig) {
            keep = std::max(keep, partial_suffix(buf, t));
        }
        if (keep == buf.size() && buf.size() <= opt.max_buffer_bytes) {
            return false;
        }
        if (buf.size() > opt.max_buffer_bytes) {
            keep = 0;
        }
        emit_content(buf.substr(0, buf.size() - keep));
        buf.erase(0, buf.size() - keep);
        return false;
    }

    int first_stage(std::string_view trigger) const {
        switch (opt.format) {
        case ToolCallFormat::hermes:
            return 0;
        case ToolCallFormat::llama3_json:
            return 10;
        case ToolCallFormat::mistral:
            return 20;
        case ToolCallFormat::mistral_v11:
            return 30;
        case ToolCallFormat::deepseek_v3:
            return trigger == kDsCallsBegin ? 40 : 41;
        case ToolCallFormat::deepseek_v31:
            return trigger == kDsCallsBegin ? 50 : 51;
        case ToolCallFormat::phi4_mini:
            return 60;
        case ToolCallFormat::none:
            break;
        }
        return 0;
    }

    // A false start (nothing emitted yet) turns back into content; a call broken after its
    // begin is closed as it stands and reported by finish().
    void handle_mismatch() {
        if (!begun) {
            std::string text = std::move(raw);
            raw.clear();
            mode = Mode::content;
            emit_content(std::move(text)); // the rest of buf is scanned as content again
            return;
        }
        error = "malformed tool call '" + calls_.back().name + "'";
        end_call();
        mode = Mode::content;
    }

    // ---- calls ---------------------------------------------------------------------------
    // Reads a function name up to `delim` into `name`; progressed once it is complete.
    // `validate` checks the characters (off where the name may carry a [CALL_ID] suffix).
    Step read_name_until(std::string_view delim, bool validate) {
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

    // Streams a standalone JSON arguments value; progressed when it completed.
    Step read_args_value() {
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

    Step step_object() {
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
        return result == Step::mismatch ? Step::mismatch
                                        : (i > 0 ? Step::progressed : Step::need_more);
    }

    // A key's value is complete: record the name / id / string-encoded arguments.
    bool finish_value() {
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

    Step step_call() {
        switch (stage) {
        // hermes: <tool_call> {object} </tool_call>
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
        // llama3_json: <|python_tag|> {object} | builtin.call(...) ; or a bare object at start
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
        // mistral: [TOOL_CALLS] [ {object}, ... ]
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
        // mistral_v11: [TOOL_CALLS] name [ARGS] {arguments}
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
        // deepseek_v3: [<｜tool▁calls▁begin｜>]
        // <｜tool▁call▁begin｜>type<｜tool▁sep｜>name\n```json\n{args}\n```<｜tool▁call▁end｜> ...
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
        // deepseek_v31: <｜tool▁call▁begin｜>name<｜tool▁sep｜>{args}<｜tool▁call▁end｜>
        case 51: {
            Step s = read_name_until(kDsSep, true);
            if (s == Step::progressed) {
                begin_call(name, {});
                stage = 52;
            }
            return s;
        }
        case 52: {
            Step s = read_args_value();
            if (s == Step::progressed) {
                stage = 53;
            }
            return s;
        }
        // phi4_mini: <|tool_call|> [ {object}, ... ] <|/tool_call|>
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

    // <|python_tag|> followed by something other than JSON: a built-in tool call
    // `name.call(key="value", ...)`, else code for the "python" tool.
    void finish_builtin() {
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

    void run() {
        while (step()) {
        }
    }
};

ToolCallParser::ToolCallParser(ToolCallParserOptions options)
    : impl_(std::make_unique<Impl>(options)) {}
ToolCallParser::ToolCallParser(ToolCallParser&&) noexcept = default;
ToolCallParser& ToolCallParser::operator=(ToolCallParser&&) noexcept = default;
ToolCallParser::~ToolCallParser() = default;

std::vector<ChatDelta> ToolCallParser::feed(std::string_view text) {
    std::vector<ChatDelta> out;
    impl_->out = &out;
    impl_->buf.append(text);
    impl_->run();
    impl_->out = nullptr;
    return out;
}

base::Result<std::vector<ChatDelta>> ToolCallParser::finish() {
    std::vector<ChatDelta> out;
    Impl& p = *impl_;
    p.out = &out;
    p.run();
    using Mode = Impl::Mode;
    if (p.mode == Mode::start) {
        p.mode = Mode::content;
    }
    if (p.mode == Mode::reasoning) {
        std::string rest = std::move(p.buf);
        p.buf.clear();
        while (!rest.empty() && is_ws(rest.back())) {
            rest.pop_back();
        }
        p.emit_reasoning(std::move(rest));
    } else if (p.mode == Mode::call) {
        if (p.stage == 12) {
            p.finish_builtin();
        } else if (p.begun && (p.stage == 31 || p.stage == 44 || p.stage == 52) &&
                   p.scan.complete_at_end()) {
            p.end_call(); // a scalar argument value ending with the output
        } else if (p.begun) {
            p.error = "tool call '" + p.calls_.back().name + "' is incomplete";
            p.end_call();
        } else if (p.stage == 2 || p.stage == 13 || p.stage == 23 || p.stage == 46 ||
                   p.stage == 54 || p.stage == 64) {
            // The call itself completed; only its closing marker is missing.
        } else {
            std::string text = std::move(p.raw);
            text += p.buf;
            p.buf.clear();
            p.raw.clear();
            p.mode = Mode::content;
            p.emit_content(std::move(text));
        }
    }
    if (p.mode == Mode::content && !p.buf.empty()) {
        std::string rest = std::move(p.buf);
        p.buf.clear();
        p.emit_content(std::move(rest));
    }
    if (!p.leading_ws.empty() && p.calls_.empty()) {
        // Output that is only whitespace stays what it was.
        std::string ws = std::move(p.leading_ws);
        p.leading_ws.clear();
        p.content_started = true;
        p.emit_content(std::move(ws));
    }
    p.out = nullptr;
    if (p.error) {
        return base::Error(errc::invalid_argument, *p.error);
    }
    return out;
}

const std::string& ToolCallParser::content() const noexcept {
    return impl_->content_;
}
const std::string& ToolCallParser::reasoning() const noexcept {
    return impl_->reasoning_;
}
const std::vector<ParsedToolCall>& ToolCallParser::tool_calls() const noexcept {
    return impl_->calls_;
}

} // namespace agentd::inference
