// Streaming tool-call parser (see tool_calls.h). Text arrives in arbitrary pieces (down to single
// bytes); everything that could still turn into a marker is held back until it is decided.

#include "agentd/inference/errc.h"

#include "toolcall/parser_impl.h"

#include <algorithm>

namespace agentd::inference {

using namespace toolcall;

void ToolCallParser::Impl::emit_content(std::string text) {
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
    if (!content_started && opt.format != ToolCallFormat::none) {
        // Whitespace before anything else is held: dropped if a tool call follows (without a
        // tool-call format none can, so it streams at once).
        if (std::all_of(text.begin(), text.end(), is_ws)) {
            leading_ws += text;
            return;
        }
        text = std::move(leading_ws) + text;
        leading_ws.clear();
    }
    content_started =
        content_started || std::any_of(text.begin(), text.end(), [](char c) { return !is_ws(c); });
    content_ += text;
    out->push_back(ChatDelta{ChatDelta::Kind::content, 0, std::move(text), {}});
}

void ToolCallParser::Impl::emit_reasoning(std::string text) {
    if (text.empty()) {
        return;
    }
    reasoning_ += text;
    out->push_back(ChatDelta{ChatDelta::Kind::reasoning, 0, std::move(text), {}});
}

void ToolCallParser::Impl::begin_call(std::string fn, std::string call_id) {
    begun = true;
    calls_.push_back(ParsedToolCall{call_id, fn, {}});
    out->push_back(ChatDelta{ChatDelta::Kind::tool_call_begin, calls_.size() - 1, std::move(fn),
                             std::move(call_id)});
    if (!pending_args.empty()) {
        emit_args(std::move(pending_args));
        pending_args.clear();
    }
}

void ToolCallParser::Impl::emit_args(std::string fragment) {
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

void ToolCallParser::Impl::end_call() {
    if (calls_.back().arguments.empty()) {
        calls_.back().arguments = "{}";
        out->push_back(ChatDelta{ChatDelta::Kind::tool_call_args, calls_.size() - 1, "{}", {}});
    }
    out->push_back(ChatDelta{ChatDelta::Kind::tool_call_end, calls_.size() - 1, {}, {}});
    begun = false;
    raw.clear();
}

void ToolCallParser::Impl::start_call(int first_stage) {
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

void ToolCallParser::Impl::to_content_after_call() {
    mode = Mode::content;
    raw.clear();
    after_call = true;
}

void ToolCallParser::Impl::consume(std::size_t n) {
    raw.append(buf, 0, n);
    buf.erase(0, n);
}

void ToolCallParser::Impl::skip_ws() {
    std::size_t n = 0;
    while (n < buf.size() && is_ws(buf[n])) {
        ++n;
    }
    consume(n);
}

ToolCallParser::Impl::Step ToolCallParser::Impl::expect(std::string_view lit) {
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

bool ToolCallParser::Impl::step() {
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

bool ToolCallParser::Impl::step_start() {
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

bool ToolCallParser::Impl::step_reasoning() {
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

std::vector<std::string_view> ToolCallParser::Impl::triggers() const {
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

std::optional<bool> ToolCallParser::Impl::llama_json_start() const {
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

bool ToolCallParser::Impl::step_content() {
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

int ToolCallParser::Impl::first_stage(std::string_view trigger) const {
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

void ToolCallParser::Impl::handle_mismatch() {
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

void ToolCallParser::Impl::run() {
    while (step()) {
    }
}

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
