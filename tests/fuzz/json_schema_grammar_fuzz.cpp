// Fuzz target: JSON Schema (and GBNF) -> grammar compilation, then mask computation and token
// acceptance over a byte vocabulary. Checks that the cached mask agrees with the byte-level
// decision for the tokens it tries and that nothing crashes or runs away.

#include "agentd/inference/grammar.h"
#include "agentd/inference/value_json.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using namespace agentd::inference;

namespace {

std::shared_ptr<const GrammarVocabulary> vocab() {
    static const auto v = [] {
        std::vector<std::string> t;
        for (int b = 0; b < 256; ++b) {
            t.emplace_back(1, static_cast<char>(b));
        }
        for (const char* s :
             {"{\"", "\":", "\",", "\"}", "true", "null", "12", "\xC3\xA9", "<x>"}) {
            t.emplace_back(s);
        }
        t.emplace_back("<x>");
        t.emplace_back("<eos>");
        std::vector<bool> special(t.size(), false);
        special[t.size() - 2] = true;
        special[t.size() - 1] = true;
        return GrammarVocabulary::build(t, special, {static_cast<std::int32_t>(t.size() - 1)});
    }();
    return v;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2 || size > 1 << 14) {
        return 0;
    }
    std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    agentd::base::Result<Grammar> g = agentd::base::Error{};
    if (data[0] & 1) {
        g = Grammar::from_gbnf(text);
    } else {
        JsonParseLimits limits;
        limits.max_depth = 32;
        auto schema = parse_json(text, limits);
        if (!schema) {
            return 0;
        }
        JsonSchemaOptions options;
        options.max_whitespace = data[0] >> 6;
        options.strict = (data[0] & 2) != 0;
        g = Grammar::from_json_schema(*schema, options);
    }
    if (!g || g->state_count() > 20000) {
        return 0;
    }
    auto cg = CompiledGrammar::create(*g, vocab());
    if (!cg) {
        std::abort(); // a non-empty vocabulary always binds
    }
    GrammarMatcher m(*cg);
    std::vector<std::uint32_t> mask(m.mask_words());
    // Walk: the input bytes pick among the allowed tokens.
    for (std::size_t step = 0; step < 32 && !m.is_terminated(); ++step) {
        m.fill_next_token_bitmask(mask);
        std::vector<std::int32_t> allowed;
        for (std::int32_t t = 0; t < vocab()->size(); ++t) {
            bool in = (mask[static_cast<std::size_t>(t) / 32] >> (t % 32)) & 1u;
            if (in != m.allows_for_test(t)) {
                std::abort(); // cached mask disagrees with the automaton
            }
            if (in) {
                allowed.push_back(t);
            }
        }
        if (allowed.empty()) {
            std::abort(); // a trimmed grammar never dead-ends
        }
        std::int32_t pick = allowed[data[step % size] % allowed.size()];
        if (!m.accept_token(pick)) {
            std::abort();
        }
    }
    return 0;
}
