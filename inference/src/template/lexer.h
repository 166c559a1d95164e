#pragma once
// Jinja lexer with Hugging Face's settings (trim_blocks and lstrip_blocks on,
// keep_trailing_newline off). It reproduces Jinja2's whitespace rules exactly: `{%-`/`-%}`
// strip all whitespace, `+` disables lstrip/trim for one tag, lstrip_blocks removes the
// indentation before a block or comment tag that starts a line, trim_blocks removes the single
// newline after a block or comment tag, and newlines are normalised to "\n".

#include "agentd/base/result.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace agentd::inference::jinja {

enum class Tok : std::uint8_t {
    data,        ///< template text
    var_begin,   ///< {{
    var_end,     ///< }}
    block_begin, ///< {%
    block_end,   ///< %}
    name,
    string, ///< value holds the unescaped text
    integer,
    floating,
    op, ///< value holds the operator text
    eof,
};

struct Token {
    Tok kind;
    std::string value;
    std::size_t offset; ///< byte offset in the normalised source, for error positions
    std::int64_t int_value = 0;
    double float_value = 0;
};

struct LexResult {
    std::vector<Token> tokens;
    std::string source; ///< newline-normalised source the offsets refer to
};

/// Tokenises a template. Errors: errc::template_error with line and column.
[[nodiscard]] base::Result<LexResult> lex(std::string_view source);

/// "line L, column C" for a byte offset in `source`.
std::string describe_position(const std::string& source, std::size_t offset);

} // namespace agentd::inference::jinja
