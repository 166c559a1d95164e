#pragma once
/// JSON text <-> Value, hardened for untrusted input, with Python-compatible output options.
///
/// The parser is strict RFC 8259 (no comments, no trailing commas, no NaN), validates UTF-8,
/// decodes surrogate pairs (a lone surrogate becomes U+FFFD) and enforces limits on nesting depth,
/// input size, string length and element count. Integers that fit int64 become integers; other
/// numbers become doubles. Duplicate object keys: the last value wins at the first key's position
/// (as Python's json module does).
///
/// The writer reproduces Python's `json.dumps` byte for byte when given the same options (this is
/// what Hugging Face's chat templates call for `tojson`): separators, indent, ensure_ascii,
/// sort_keys, and Python's shortest round-trip float repr (`1.0`, `1e-05`, `1e+16`).
///
/// Thread affinity: none (pure functions). Errors: parse failures return errc::invalid_json with
/// the byte offset and reason in the message.

#include "agentd/base/result.h"
#include "agentd/inference/value.h"

#include <cstddef>
#include <string>
#include <string_view>

namespace agentd::inference {

struct JsonParseLimits {
    std::size_t max_depth = 128;              ///< nested arrays/objects
    std::size_t max_bytes = 64u << 20;        ///< whole input
    std::size_t max_string_bytes = 16u << 20; ///< one decoded string
    std::size_t max_elements = 4u << 20;      ///< array elements + object members in total
};

/// Parses one JSON value; only whitespace may follow it.
[[nodiscard]] base::Result<Value> parse_json(std::string_view text,
                                             const JsonParseLimits& limits = {});

/// A value parsed from the front of a text, and how many bytes it took (leading whitespace
/// included, trailing text not consumed).
struct JsonPrefix {
    Value value;
    std::size_t consumed = 0;
};

/// Parses the JSON value at the start of `text` and stops after it (tool-call payloads are
/// followed by other model text).
[[nodiscard]] base::Result<JsonPrefix> parse_json_prefix(std::string_view text,
                                                         const JsonParseLimits& limits = {});

struct JsonWriteOptions {
    int indent = -1; ///< < 0: single line; >= 0: newline + indent spaces per level
    std::string_view item_separator = ","; ///< between elements/members
    std::string_view key_separator = ":";  ///< between key and value
    bool ensure_ascii = false;             ///< escape every non-ASCII code point as \uXXXX
    bool sort_keys = false;                ///< order object members by key (byte order)
    bool allow_nan = true;                 ///< NaN/Infinity as Python writes them; false: null

    /// Compact JSON: `{"a":1,"b":[1,2]}`.
    static JsonWriteOptions compact() { return {}; }
    /// Python json.dumps defaults with ensure_ascii=False (what HF's `tojson` filter uses):
    /// `{"a": 1, "b": [1, 2]}`; with an indent the item separator becomes "," as in Python.
    static JsonWriteOptions python(int indent = -1) {
        JsonWriteOptions o;
        o.indent = indent;
        o.item_separator = indent < 0 ? ", " : ",";
        o.key_separator = ": ";
        return o;
    }
};

/// Serializes `v`. Strings that are not valid UTF-8 are written with U+FFFD replacing bad bytes.
[[nodiscard]] std::string to_json(const Value& v, const JsonWriteOptions& options = {});
void append_json(std::string& out, const Value& v, const JsonWriteOptions& options = {});

/// Appends `s` as a JSON string literal (quotes included).
void append_json_string(std::string& out, std::string_view s, bool ensure_ascii = false);

/// Python's repr() of a float: shortest round-trip digits, fixed notation for exponents in
/// [-4, 16), else scientific with a signed two-digit exponent; `nan`, `inf`, `-inf` (as_json:
/// `NaN`, `Infinity`, `-Infinity`).
[[nodiscard]] std::string python_float_repr(double d, bool as_json = false);

} // namespace agentd::inference
