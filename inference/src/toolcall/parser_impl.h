#pragma once
// Internal state of ToolCallParser, shared by parser.cpp (modes and emission),
// parser_object.cpp (JSON call objects, names, arguments) and parser_formats.cpp (per-format
// stages).

#include "agentd/inference/tool_calls.h"

#include "toolcall/json_scanner.h"
#include "toolcall/syntax.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::inference {
namespace toolcall {

inline bool is_ws(char c) {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

// Length of the longest suffix of `s` that is a proper prefix of `marker`.
inline std::size_t partial_suffix(std::string_view s, std::string_view marker) {
    std::size_t max = std::min(s.size(), marker.size() - 1);
    for (std::size_t len = max; len > 0; --len) {
        if (s.substr(s.size() - len) == marker.substr(0, len)) {
            return len;
        }
    }
    return 0;
}

enum class Match : std::uint8_t { yes, need_more, no };

inline Match starts_with(std::string_view s, std::string_view lit) {
    if (s.size() >= lit.size()) {
        return s.substr(0, lit.size()) == lit ? Match::yes : Match::no;
    }
    return lit.substr(0, s.size()) == s ? Match::need_more : Match::no;
}

inline bool valid_function_name(std::string_view n) {
    if (n.empty() || n.size() > 256) {
        return false;
    }
    return std::all_of(n.begin(), n.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
               c == ':' || c == '/';
    });
}

} // namespace toolcall

struct ToolCallParser::Impl {
    enum class Mode : std::uint8_t { start, reasoning, content, call };
    enum class Step : std::uint8_t { progressed, need_more, mismatch };

    // Incremental parser of one {"name": ..., "arguments": ...} object.
    struct CallObject {
        enum class St : std::uint8_t { open, key_or_close, key, colon, value, after_value, done };
        St st = St::open;
        toolcall::JsonScanner scan;
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
    toolcall::JsonScanner scan;
    std::string name;
    std::string id;
    std::string pending_args; // arguments seen before the name

    // ---- emission ------------------------------------------------------------------------
    void emit_content(std::string text);

    void emit_reasoning(std::string text);

    void begin_call(std::string fn, std::string call_id);

    void emit_args(std::string fragment);

    void end_call();

    void start_call(int first_stage);

    void to_content_after_call();

    // ---- buffer helpers ------------------------------------------------------------------
    void consume(std::size_t n);
    void skip_ws();
    Step expect(std::string_view lit);

    // ---- modes ---------------------------------------------------------------------------
    bool step();

    bool step_start();

    bool step_reasoning();

    std::vector<std::string_view> triggers() const;

    // Llama 3.x writes a bare JSON call at the very start of its answer.
    std::optional<bool> llama_json_start() const;

    bool step_content();

    int first_stage(std::string_view trigger) const;

    // A false start (nothing emitted yet) turns back into content; a call broken after its
    // begin is closed as it stands and reported by finish().
    void handle_mismatch();

    // ---- calls ---------------------------------------------------------------------------
    // Reads a function name up to `delim` into `name`; progressed once it is complete.
    // `validate` checks the characters (off where the name may carry a [CALL_ID] suffix).
    Step read_name_until(std::string_view delim, bool validate);

    // Streams a standalone JSON arguments value; progressed when it completed.
    Step read_args_value();

    Step step_object();

    // A key's value is complete: record the name / id / string-encoded arguments.
    bool finish_value();

    Step step_call();
    Step step_hermes();
    Step step_llama();
    Step step_mistral();
    Step step_mistral_v11();
    Step step_deepseek_open();
    Step step_deepseek_close();
    Step step_phi();

    // <|python_tag|> followed by something other than JSON: a built-in tool call
    // `name.call(key="value", ...)`, else code for the "python" tool.
    void finish_builtin();

    void run();
};

} // namespace agentd::inference
