#include "store/fts_query.h"

namespace agentd::memory::store {

std::string plain_fts_query(std::string_view text) {
    constexpr std::size_t kMaxWords = 32;
    auto word_char = [](unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c >= 0x80;
    };
    std::string out;
    std::size_t words = 0;
    std::size_t i = 0;
    while (i < text.size() && words < kMaxWords) {
        while (i < text.size() && !word_char(static_cast<unsigned char>(text[i]))) {
            ++i;
        }
        const std::size_t start = i;
        while (i < text.size() && word_char(static_cast<unsigned char>(text[i]))) {
            ++i;
        }
        if (i > start) {
            if (!out.empty()) {
                out += " OR ";
            }
            // A word never contains '"', so quoting cannot be broken out of.
            out += '"';
            out.append(text.substr(start, i - start));
            out += '"';
            ++words;
        }
    }
    return out;
}

} // namespace agentd::memory::store
