#pragma once
// Splits a set of code points into sequences of byte ranges matching exactly their UTF-8
// encodings (the classic range-splitting construction), so character classes become byte
// automata and tokens that end in the middle of a character are handled byte by byte.

#include "grammar/expr.h"

#include <cstdint>
#include <utility>
#include <vector>

namespace agentd::inference::grammar {

using ByteRangeSeq = std::vector<std::pair<std::uint8_t, std::uint8_t>>;

std::vector<ByteRangeSeq> utf8_sequences(const CodePointSet& set);

} // namespace agentd::inference::grammar
