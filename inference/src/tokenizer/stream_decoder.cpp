#include "agentd/inference/tokenizer.h"

#include "tokenizer/unicode.h"

namespace agentd::inference {
namespace {

// Whether `tail` (which starts where valid UTF-8 stopped) could still become a valid character
// when more bytes arrive: a lead byte followed only by fitting continuation bytes, too few.
bool incomplete_character(std::string_view tail) {
    const auto b0 = static_cast<uint8_t>(tail[0]);
    size_t len = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
    } else {
        return false;
    }
    if (tail.size() >= len) {
        return false;
    }
    for (size_t k = 1; k < tail.size(); ++k) {
        const auto b = static_cast<uint8_t>(tail[k]);
        if ((b & 0xC0) != 0x80) {
            return false;
        }
        // The second byte narrows the range (no overlongs, surrogates or > U+10FFFF).
        if (k == 1 && ((b0 == 0xE0 && b < 0xA0) || (b0 == 0xED && b > 0x9F) ||
                       (b0 == 0xF0 && b < 0x90) || (b0 == 0xF4 && b > 0x8F))) {
            return false;
        }
    }
    return true;
}

} // namespace

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool special) noexcept
    : tokenizer_(&tokenizer), special_(special) {}

std::string StreamDecoder::push(TokenId id) {
    pending_.append(tokenizer_->piece(id, special_));
    std::string out;
    std::string_view rest = pending_;
    while (!rest.empty()) {
        const size_t ok = detail::utf8_valid_prefix(rest);
        out.append(rest.substr(0, ok));
        rest.remove_prefix(ok);
        if (rest.empty() || incomplete_character(rest)) {
            break;
        }
        out.append("\xEF\xBF\xBD"); // a byte that can never start a valid character here
        rest.remove_prefix(1);
    }
    pending_ = std::string(rest);
    return out;
}

std::string StreamDecoder::flush() {
    std::string out;
    if (!pending_.empty()) {
        out = "\xEF\xBF\xBD";
        pending_.clear();
    }
    return out;
}

} // namespace agentd::inference
