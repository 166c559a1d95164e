// Pre-tokenizers without a shipped vocabulary (Llama 3, Qwen2) checked against splits derived by
// hand from their regexes, directly and end to end through synthetic vocabularies written with
// the GGUF writer.

#include "agentd/inference/gguf.h"
#include "agentd/inference/tokenizer.h"
#include "agentd/test/gguf_writer.h"

#include "tokenizer/pre_tokenizer.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace agentd::inference {
namespace {

using Words = std::vector<std::string>;

Words split(std::string_view pre, std::string_view text) {
    bool unsupported = false;
    const auto* spec = detail::find_pre_tokenizer_spec(pre, unsupported);
    EXPECT_NE(spec, nullptr) << pre;
    auto p = detail::PreTokenizer::create(spec->patterns);
    EXPECT_TRUE(p.has_value()) << p.error().message;
    Words words;
    (*p)->split(text, false, words);
    return words;
}

const std::string kText = "Hello world! It's 12345 dollars.\n\n  \xC3\x9Cn\xC3\xAF"
                          "c\xC3\xB6"
                          "d\xC3\xA9   ok?";

TEST(PreTokenizer, Llama3SplitsAsItsRegexSays) {
    EXPECT_EQ(split("llama-bpe", kText), (Words{"Hello", " world", "!", " It", "'s", " ", "123",
                                                "45", " dollars", ".\n\n", " ",
                                                " \xC3\x9Cn\xC3\xAF"
                                                "c\xC3\xB6"
                                                "d\xC3\xA9",
                                                "  ", " ok", "?"}));
    // Contractions are case-insensitive; white space runs end at the last line break.
    EXPECT_EQ(split("llama3", "I'LL x  \n  y\r\n\r\nz"),
              (Words{"I", "'LL", " x", "  \n", " ", " y", "\r\n\r\n", "z"}));
    // A letter run may take one leading non-letter, non-digit, non-newline character; a
    // punctuation run stops at white space.
    EXPECT_EQ(split("llama3", "(abc)+\"def\"\t\tghi"),
              (Words{"(abc", ")+\"", "def", "\"", "\t", "\tghi"}));
    // Non-ASCII white space is white space; digits group by three.
    EXPECT_EQ(split("llama3", "a\xC2\xA0\xC2\xA0"
                              "b 1234567"),
              (Words{"a", "\xC2\xA0",
                     "\xC2\xA0"
                     "b",
                     " ", "123", "456", "7"}));
}

TEST(PreTokenizer, Qwen2SplitsDigitsOneByOne) {
    EXPECT_EQ(split("qwen2", kText), (Words{"Hello", " world", "!", " It", "'s", " ", "1", "2", "3",
                                            "4", "5", " dollars", ".\n\n", " ",
                                            " \xC3\x9Cn\xC3\xAF"
                                            "c\xC3\xB6"
                                            "d\xC3\xA9",
                                            "  ", " ok", "?"}));
    // The full-width comma is the optional non-letter that leads the next letter run.
    EXPECT_EQ(
        split("qwen2", "\xE4\xBD\xA0\xE5\xA5\xBD\xEF\xBC\x8C\xE4\xB8\x96\xE7\x95\x8C 42"),
        (Words{"\xE4\xBD\xA0\xE5\xA5\xBD", "\xEF\xBC\x8C\xE4\xB8\x96\xE7\x95\x8C", " ", "4", "2"}));
}

TEST(PreTokenizer, Gpt2AndFriends) {
    EXPECT_EQ(split("gpt-2", "Hello world's 2024 ok!!  x"),
              (Words{"Hello", " world", "'s", " 2024", " ok", "!!", " ", " x"}));
    // starcoder splits every digit first.
    EXPECT_EQ(split("starcoder", "x 2024"), (Words{"x", " ", "2", "0", "2", "4"}));
    // deepseek-llm uses literal Unicode ranges (UTF-8 mode) and an end anchor; its punctuation
    // class [!-/:-~...] includes the ASCII letters, so it splits "mega" off the Greek letter.
    EXPECT_EQ(split("deepseek-llm", "Hi \xCE\xA9mega  "), (Words{"Hi", " \xCE\xA9", "mega", "  "}));
}

TEST(PreTokenizer, EveryKnownNameCompiles) {
    for (const std::string_view name : {"default",
                                        "llama3",
                                        "llama-bpe",
                                        "dbrx",
                                        "deepseek-llm",
                                        "deepseek-coder",
                                        "deepseek-v3",
                                        "youtu",
                                        "falcon",
                                        "mpt",
                                        "starcoder",
                                        "gpt-2",
                                        "jais-2",
                                        "gemma4",
                                        "sarvam-moe",
                                        "roberta-bpe",
                                        "whitespace",
                                        "refact",
                                        "command-r",
                                        "qwen2",
                                        "qwen35",
                                        "stablelm2",
                                        "olmo",
                                        "poro-chat",
                                        "glm4",
                                        "viking",
                                        "jais",
                                        "tekken",
                                        "smollm",
                                        "codeshell",
                                        "bloom",
                                        "gpt3-finnish",
                                        "exaone",
                                        "exaone4",
                                        "exaone-moe",
                                        "chameleon",
                                        "minerva-7b",
                                        "megrez",
                                        "gpt-4o",
                                        "llama4",
                                        "granite-embed-multi-97m",
                                        "trillion",
                                        "granite-docling",
                                        "bailingmoe",
                                        "seed-coder",
                                        "hunyuan",
                                        "hunyuan-dense",
                                        "grok-2",
                                        "laguna",
                                        "minimax-m2",
                                        "solar-open",
                                        "mellum2",
                                        "minicpm5"}) {
        const Words w = split(name, kText);
        std::string joined;
        for (const auto& s : w) {
            joined += s;
        }
        EXPECT_EQ(joined, kText) << name;
    }
    bool unsupported = false;
    EXPECT_EQ(detail::find_pre_tokenizer_spec("kimi-k2", unsupported), nullptr);
    EXPECT_TRUE(unsupported);
    EXPECT_EQ(detail::find_pre_tokenizer_spec("nonsense", unsupported), nullptr);
    EXPECT_FALSE(unsupported);
}

// GPT-2's byte-to-character table, written independently of the implementation.
std::string byte_char(uint8_t b) {
    int cp = b;
    const auto printable = [](int x) {
        return (x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF);
    };
    if (!printable(b)) {
        int n = 0;
        for (int x = 0; x < b; ++x) {
            n += printable(x) ? 0 : 1;
        }
        cp = 256 + n;
    }
    std::string s;
    if (cp < 0x80) {
        s += static_cast<char>(cp);
    } else {
        s += static_cast<char>(0xC0 | (cp >> 6));
        s += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return s;
}

std::vector<std::string> byte_chars(std::string_view s) {
    std::vector<std::string> out;
    for (const char c : s) {
        out.push_back(byte_char(static_cast<uint8_t>(c)));
    }
    return out;
}

// A byte-level vocabulary over `text` whose merges join every adjacent pair of the whole text,
// word boundaries included: only the pre-tokenizer keeps tokens from crossing them.
test::GgufWriter synthetic_bpe(std::string_view pre, std::string_view text, bool whole_words,
                               const Words& words) {
    std::vector<std::string> tokens;
    std::set<std::string> seen;
    const auto add = [&](const std::string& t) {
        if (seen.insert(t).second) {
            tokens.push_back(t);
        }
    };
    for (int b = 0; b < 256; ++b) {
        add(byte_char(static_cast<uint8_t>(b)));
    }
    std::vector<std::string> merges;
    const auto chars = byte_chars(text);
    for (size_t i = 0; i + 1 < chars.size(); ++i) {
        if (seen.insert(chars[i] + chars[i + 1]).second) {
            tokens.push_back(chars[i] + chars[i + 1]);
            merges.push_back(chars[i] + " " + chars[i + 1]);
        }
    }
    if (whole_words) {
        for (const auto& w : words) {
            std::string enc;
            for (const auto& c : byte_chars(w)) {
                enc += c;
            }
            add(enc);
        }
    }
    test::GgufWriter w;
    w.set("tokenizer.ggml.model", test::gguf_string("gpt2"))
        .set("tokenizer.ggml.pre", test::gguf_string(std::string(pre)))
        .set("tokenizer.ggml.tokens", test::gguf_strings(tokens))
        .set("tokenizer.ggml.merges", test::gguf_strings(merges))
        .set("tokenizer.ggml.bos_token_id", test::gguf_u32(0));
    return w;
}

Tokenizer load(const test::GgufWriter& w) {
    const auto bytes = w.bytes();
    auto file = GgufFile::from_memory(std::as_bytes(std::span(bytes)));
    EXPECT_TRUE(file.has_value()) << file.error().message;
    auto tok = Tokenizer::from_gguf(*file);
    EXPECT_TRUE(tok.has_value()) << tok.error().message;
    return std::move(*tok);
}

// The pieces of `text`'s tokens.
Words pieces_of(const Tokenizer& tok, std::string_view text) {
    Words pieces;
    for (const TokenId id : tok.tokenize(text, {.add_special = false})) {
        pieces.emplace_back(tok.piece(id));
    }
    return pieces;
}

// True when every boundary between `words` is also a boundary between `pieces`.
bool respects(const Words& pieces, const Words& words) {
    std::set<size_t> cuts;
    size_t at = 0;
    for (const auto& p : pieces) {
        at += p.size();
        cuts.insert(at);
    }
    at = 0;
    for (const auto& w : words) {
        at += w.size();
        if (!cuts.contains(at)) {
            return false;
        }
    }
    return true;
}

std::string join(const Words& w) {
    std::string s;
    for (const auto& x : w) {
        s += x;
    }
    return s;
}

void check_end_to_end(std::string_view pre, bool whole_words_expected) {
    const Words words = split(pre, kText);
    const Tokenizer whole = load(synthetic_bpe(pre, kText, true, words));
    const Words whole_pieces = pieces_of(whole, kText);
    EXPECT_EQ(join(whole_pieces), kText);
    EXPECT_TRUE(respects(whole_pieces, words));
    if (whole_words_expected) {
        // ignore_merges: a word that is a token comes out as that token.
        EXPECT_EQ(whole_pieces, words);
    }
    const Tokenizer merged = load(synthetic_bpe(pre, kText, false, words));
    const Words merged_pieces = pieces_of(merged, kText);
    EXPECT_EQ(join(merged_pieces), kText);
    EXPECT_TRUE(respects(merged_pieces, words));
    EXPECT_LT(merged_pieces.size(), kText.size()) << "the merges should have joined something";
    // The same merges under a pre-tokenizer that keeps "It's" whole do cross the boundary, so
    // the checks above are not vacuous.
    const Tokenizer loose = load(synthetic_bpe("poro-chat", kText, false, words));
    EXPECT_FALSE(respects(pieces_of(loose, kText), words));
}

TEST(PreTokenizer, Llama3VocabularyEndToEnd) {
    check_end_to_end("llama-bpe", true);
    const Tokenizer tok = load(synthetic_bpe("llama-bpe", kText, true, split("llama-bpe", kText)));
    EXPECT_TRUE(tok.add_bos());
    EXPECT_EQ(tok.tokenize("Hello").front(), 0);
    EXPECT_EQ(tok.pre_name(), "llama-bpe");
}

TEST(PreTokenizer, Qwen2VocabularyEndToEnd) {
    check_end_to_end("qwen2", false);
    const Tokenizer tok = load(synthetic_bpe("qwen2", kText, true, split("qwen2", kText)));
    EXPECT_FALSE(tok.add_bos());
    // Qwen2 does not clean up spaces when detokenizing.
    const auto ids = tok.tokenize("Hello !", {});
    EXPECT_EQ(tok.detokenize(ids).value(), "Hello !");
}

} // namespace
} // namespace agentd::inference
