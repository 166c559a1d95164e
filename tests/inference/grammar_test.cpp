#include "agentd/inference/errc.h"
#include "agentd/inference/grammar.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace agentd::inference {
namespace {

// A small vocabulary: every single byte, some multi-byte pieces that span grammar elements,
// a few UTF-8 fragments, one special token and an end-of-sequence token.
std::shared_ptr<const GrammarVocabulary> toy_vocab(std::vector<std::string> extra = {}) {
    std::vector<std::string> tokens;
    for (int b = 0; b < 256; ++b) {
        tokens.emplace_back(1, static_cast<char>(b));
    }
    for (const char* t : {"ab", "abc", "12", "123a", "\",", "\":", "{\"", "\"}", "true", "null",
                          " \"", "\xC3", "\xA9", "\xC3\xA9", "<tool>", "hello", "[1,", "],"}) {
        tokens.emplace_back(t);
    }
    for (auto& t : extra) {
        tokens.push_back(std::move(t));
    }
    tokens.emplace_back("<|special|>");
    tokens.emplace_back("<|eos|>");
    std::vector<bool> special(tokens.size(), false);
    special[tokens.size() - 2] = true;
    special[tokens.size() - 1] = true;
    return GrammarVocabulary::build(tokens, special,
                                    {static_cast<std::int32_t>(tokens.size() - 1)});
}

std::vector<std::int32_t> allowed(GrammarMatcher& m) {
    std::vector<std::uint32_t> mask(m.mask_words());
    m.fill_next_token_bitmask(mask);
    std::vector<std::int32_t> out;
    for (std::size_t i = 0; i < mask.size() * 32; ++i) {
        if (mask[i / 32] & (1u << (i % 32))) {
            out.push_back(static_cast<std::int32_t>(i));
        }
    }
    return out;
}

// The cached mask must equal the direct byte-by-byte decision for every token.
void expect_mask_exact(GrammarMatcher& m, const GrammarVocabulary& vocab) {
    std::vector<std::uint32_t> mask(m.mask_words());
    m.fill_next_token_bitmask(mask);
    for (std::int32_t t = 0; t < vocab.size(); ++t) {
        bool in_mask = (mask[static_cast<std::size_t>(t) / 32] >> (t % 32)) & 1u;
        ASSERT_EQ(in_mask, m.allows_for_test(t)) << "token " << t << " '" << vocab.bytes(t) << "'";
    }
}

std::int32_t id_of(const GrammarVocabulary& v, std::string_view text) {
    return v.find(text);
}

TEST(Grammar, GbnfLiteralAndRepetition) {
    auto g = Grammar::from_gbnf("root ::= \"ab\" [0-9]+ \"!\"?\n");
    ASSERT_TRUE(g) << g.error().what();
    auto vocab = toy_vocab();
    auto cg = CompiledGrammar::create(*g, vocab);
    ASSERT_TRUE(cg);
    GrammarMatcher m(*cg);
    auto a = allowed(m);
    std::set<std::int32_t> want{'a', id_of(*vocab, "ab")};
    EXPECT_EQ(std::set<std::int32_t>(a.begin(), a.end()), want);
    EXPECT_FALSE(m.accept_token(id_of(*vocab, "abc")));
    ASSERT_TRUE(m.accept_token(id_of(*vocab, "ab")));
    EXPECT_FALSE(m.is_complete());
    expect_mask_exact(m, *vocab);
    ASSERT_TRUE(m.accept_token(id_of(*vocab, "12")));
    EXPECT_TRUE(m.is_complete());
    expect_mask_exact(m, *vocab);
    EXPECT_FALSE(m.accept_token(id_of(*vocab, "123a")));
    ASSERT_TRUE(m.accept_token('!'));
    EXPECT_TRUE(m.only_end_allowed());
    a = allowed(m);
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0], vocab->eos()[0]);
    EXPECT_TRUE(m.accept_token(vocab->eos()[0]));
    EXPECT_TRUE(m.is_terminated());
}

TEST(Grammar, TokensSpanningRulesAndRecursion) {
    auto g = Grammar::from_gbnf(R"(root ::= list
list ::= "[" ( item ( "," item )* )? "]"
item ::= [0-9]+ | list
)");
    ASSERT_TRUE(g) << g.error().what();
    auto vocab = toy_vocab();
    auto cg = CompiledGrammar::create(*g, vocab);
    ASSERT_TRUE(cg);
    GrammarMatcher m(*cg);
    for (const char* piece : {"[1,", "[", "12", "],", "[1,", "1", "]", "]"}) {
        expect_mask_exact(m, *vocab);
        ASSERT_TRUE(m.accept_token(id_of(*vocab, piece))) << piece;
    }
    EXPECT_TRUE(m.is_complete());
}

TEST(Grammar, Utf8AndSpecialTokens) {
    auto g = Grammar::from_gbnf("root ::= <|special|> [^a-z]* \"x\"\n");
    ASSERT_TRUE(g) << g.error().what();
    auto vocab = toy_vocab();
    auto cg = CompiledGrammar::create(*g, vocab);
    ASSERT_TRUE(cg);
    GrammarMatcher m(*cg);
    auto a = allowed(m);
    // The special token, or its text spelled with ordinary tokens ("<").
    EXPECT_NE(std::find(a.begin(), a.end(), id_of(*vocab, "<|special|>")), a.end());
    EXPECT_NE(std::find(a.begin(), a.end(), '<'), a.end());
    ASSERT_TRUE(m.accept_token(id_of(*vocab, "<|special|>")));
    expect_mask_exact(m, *vocab);
    ASSERT_TRUE(m.accept_token(id_of(*vocab, "\xC3"))); // first half of é
    expect_mask_exact(m, *vocab);
    EXPECT_FALSE(m.accept_token('x')); // needs the continuation byte first
    ASSERT_TRUE(m.accept_token(id_of(*vocab, "\xA9")));
    ASSERT_TRUE(m.accept_token(id_of(*vocab, "\xC3\xA9")));
    ASSERT_TRUE(m.accept_token('x'));
    EXPECT_TRUE(m.is_complete());
}

TEST(Grammar, GbnfErrorsArePrecise) {
    auto e = Grammar::from_gbnf("root ::= \"a\" missing\n");
    ASSERT_FALSE(e);
    EXPECT_NE(e.error().message.find("missing"), std::string::npos) << e.error().message;
    e = Grammar::from_gbnf("root ::= root \"a\" | \"b\"\n");
    ASSERT_FALSE(e);
    EXPECT_NE(e.error().message.find("left recursion"), std::string::npos) << e.error().message;
    e = Grammar::from_gbnf("root ::= [z-a]\n");
    ASSERT_FALSE(e);
    EXPECT_NE(e.error().message.find("line 1"), std::string::npos) << e.error().message;
    e = Grammar::from_gbnf("other ::= \"a\"\n");
    ASSERT_FALSE(e);
    e = Grammar::from_gbnf("root ::= x\nx ::= x \"a\"\n");
    ASSERT_FALSE(e); // x derives no finite string
    EXPECT_NE(e.error().message.find("matches no string"), std::string::npos) << e.error().message;
    e = Grammar::from_gbnf("root ::= \"a\"{5000}\n");
    ASSERT_FALSE(e);
}

TEST(Grammar, RollbackRestoresThePosition) {
    auto g = Grammar::from_gbnf("root ::= \"hello\" | \"help\"\n");
    ASSERT_TRUE(g);
    auto vocab = toy_vocab();
    GrammarMatcher m(*CompiledGrammar::create(*g, vocab));
    ASSERT_TRUE(m.accept_token('h'));
    ASSERT_TRUE(m.accept_token('e'));
    ASSERT_TRUE(m.accept_token('l'));
    ASSERT_TRUE(m.accept_token('p'));
    EXPECT_TRUE(m.is_complete());
    ASSERT_TRUE(m.rollback(1));
    EXPECT_FALSE(m.is_complete());
    ASSERT_TRUE(m.accept_token('l'));
    ASSERT_TRUE(m.accept_token('o'));
    EXPECT_TRUE(m.is_complete());
}

} // namespace
} // namespace agentd::inference
