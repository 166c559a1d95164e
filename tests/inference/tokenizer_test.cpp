// Tokenizer behaviour beyond the reference vectors: detokenization, the streaming decoder,
// special tokens, metadata errors, long and random inputs.

#include "agentd/inference/gguf.h"
#include "agentd/inference/tokenizer.h"
#include "agentd/test/env.h"
#include "agentd/test/gguf_writer.h"

#include <gtest/gtest.h>

#include <random>

namespace agentd::inference {
namespace {

Tokenizer load_shared(const std::filesystem::path& path) {
    auto file = GgufFile::open(path);
    EXPECT_TRUE(file.has_value()) << file.error().message;
    auto tok = Tokenizer::from_gguf(*file);
    EXPECT_TRUE(tok.has_value()) << tok.error().message;
    return std::move(*tok);
}

base::Result<Tokenizer> from_writer(const test::GgufWriter& w) {
    const auto bytes = w.bytes();
    auto file = GgufFile::from_memory(std::as_bytes(std::span(bytes)));
    if (!file) {
        return file.error();
    }
    return Tokenizer::from_gguf(*file);
}

bool valid_utf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        const size_t len = c < 0x80         ? 1
                           : (c >> 5) == 6  ? 2
                           : (c >> 4) == 14 ? 3
                           : (c >> 3) == 30 ? 4
                                            : 0;
        if (len == 0 || i + len > s.size()) {
            return false;
        }
        for (size_t k = 1; k < len; ++k) {
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) {
                return false;
            }
        }
        i += len;
    }
    return true;
}

TEST(Tokenizer, Stories260KBasics) {
    AGENTD_REQUIRE_SHARED(path, "models/stories260K.gguf");
    const Tokenizer tok = load_shared(path);
    EXPECT_EQ(tok.kind(), TokenizerKind::spm);
    EXPECT_EQ(tok.model_name(), "llama");
    EXPECT_EQ(tok.vocab_size(), 512U);
    EXPECT_EQ(tok.bos(), 1);
    EXPECT_EQ(tok.eos(), 2);
    EXPECT_TRUE(tok.add_bos());
    EXPECT_FALSE(tok.add_eos());
    EXPECT_TRUE(tok.is_eog(2));
    EXPECT_FALSE(tok.is_eog(1));
    EXPECT_EQ(tok.newline(), 13);
    EXPECT_EQ(tok.token_text(13), "<0x0A>");
    EXPECT_EQ(tok.piece(13), "\n");
    EXPECT_EQ(tok.piece(1), "");
    EXPECT_EQ(tok.piece(1, true), "<s>");
    EXPECT_EQ(tok.find("<0x0A>"), 13);
    EXPECT_FALSE(tok.find("no such token").has_value());
    EXPECT_EQ(tok.token_text(-1), "");
    EXPECT_EQ(tok.token_text(512), "");
    EXPECT_EQ(tok.piece(99999), "");
    EXPECT_EQ(tok.attributes(99999), 0U);
    EXPECT_NE(tok.attributes(1) & token_attr::control, 0U);
}

TEST(Tokenizer, DetokenizeRoundTripsSentencePiece) {
    AGENTD_REQUIRE_SHARED(path, "models/vocab/ggml-vocab-llama-spm.gguf");
    const Tokenizer tok = load_shared(path);
    for (const std::string text :
         {"Hello world", " leading space", "tabs\tand\nnewlines\n", "Äpfel über Straße",
          "日本語のテキスト", "😀🦙 emoji", "a  b   c", ""}) {
        const auto ids = tok.tokenize(text, {.add_special = false, .parse_special = false});
        EXPECT_EQ(tok.detokenize(ids).value(), text);
        const auto with_bos = tok.tokenize(text);
        // With BOS removed the leading space stays (llama.cpp's rule).
        EXPECT_EQ(tok.detokenize(with_bos, {.remove_special = true}).value(),
                  text.empty() ? "" : " " + text);
    }
    auto bad = tok.detokenize(std::vector<TokenId>{1, 32000});
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().code, make_error_code(errc::invalid_argument));
    EXPECT_NE(bad.error().message.find("32000"), std::string::npos);
}

TEST(Tokenizer, DetokenizeByteLevelWithSpaceCleanUp) {
    AGENTD_REQUIRE_SHARED(path, "models/vocab/ggml-vocab-gpt-2.gguf");
    const Tokenizer tok = load_shared(path);
    const auto ids = tok.tokenize("Hello , world ! It 's 3 . 14 , isn ' t it", {});
    // gpt-2 cleans up spaces before punctuation and in contractions, as llama.cpp does.
    EXPECT_EQ(tok.detokenize(ids).value(), "Hello, world! It's 3. 14, isn't it");
    const auto eot = tok.tokenize("a<|endoftext|>b");
    ASSERT_EQ(eot.size(), 3U);
    EXPECT_TRUE(tok.is_eog(eot[1]));
    EXPECT_EQ(tok.detokenize(eot).value(), "ab");
    EXPECT_EQ(tok.detokenize(eot, {.unparse_special = true}).value(), "a<|endoftext|>b");
    const auto literal = tok.tokenize("a<|endoftext|>b", {.parse_special = false});
    EXPECT_GT(literal.size(), 3U);
}

TEST(StreamDecoder, HoldsIncompleteCharacters) {
    AGENTD_REQUIRE_SHARED(path, "models/stories260K.gguf");
    const Tokenizer tok = load_shared(path);
    // stories260K has no emoji: the character is spelled with four byte tokens.
    const auto ids = tok.tokenize("a😀b", {.add_special = false});
    std::vector<std::string> outs;
    StreamDecoder dec(tok);
    for (const TokenId id : ids) {
        outs.push_back(dec.push(id));
    }
    std::string all;
    for (const auto& o : outs) {
        EXPECT_TRUE(valid_utf8(o)) << o;
        all += o;
    }
    EXPECT_EQ(all + dec.flush(), " a😀b");
    // The emoji comes out whole, with the token carrying its last byte.
    EXPECT_NE(std::find(outs.begin(), outs.end(), "😀"), outs.end());
    EXPECT_NE(std::find(outs.begin(), outs.end(), ""), outs.end());
}

TEST(StreamDecoder, InvalidBytesBecomeReplacementCharacters) {
    AGENTD_REQUIRE_SHARED(path, "models/stories260K.gguf");
    const Tokenizer tok = load_shared(path);
    const TokenId b_f0 = *tok.find("<0xF0>");
    const TokenId b_80 = *tok.find("<0x80>");
    const TokenId b_41 = *tok.find("<0x41>");
    StreamDecoder dec(tok);
    EXPECT_EQ(dec.push(b_80), "\xEF\xBF\xBD"); // a lone continuation byte
    EXPECT_EQ(dec.push(b_f0), "");             // might still become a character
    EXPECT_EQ(dec.push(b_41), "\xEF\xBF\xBD"
                              "A");
    EXPECT_EQ(dec.push(b_f0), "");
    EXPECT_EQ(dec.flush(), "\xEF\xBF\xBD");
    EXPECT_EQ(dec.flush(), "");
    EXPECT_EQ(dec.push(-5), "");
    StreamDecoder special(tok, true);
    EXPECT_EQ(special.push(2), "</s>");
}

TEST(Tokenizer, BertAddsClsAndSep) {
    AGENTD_REQUIRE_SHARED(path, "models/vocab/ggml-vocab-bert-bge.gguf");
    const Tokenizer tok = load_shared(path);
    EXPECT_EQ(tok.kind(), TokenizerKind::wpm);
    const auto ids = tok.tokenize("Hello World");
    ASSERT_GE(ids.size(), 3U);
    EXPECT_EQ(ids.front(), 101);
    EXPECT_EQ(ids.back(), 102);
    // WordPiece pieces carry their "▁" word marker as a space; llama.cpp keeps it.
    EXPECT_EQ(tok.detokenize(ids).value(), " hello world");
}

// A minimal valid SentencePiece vocabulary in memory.
test::GgufWriter tiny_spm() {
    test::GgufWriter w;
    w.set("tokenizer.ggml.model", test::gguf_string("llama"));
    w.set("tokenizer.ggml.tokens",
          test::gguf_strings({"<unk>", "<s>", "</s>", "\xE2\x96\x81", "a"}));
    w.set("tokenizer.ggml.scores", test::gguf_array(std::vector<float>{0, 0, 0, -1, -2}));
    w.set("tokenizer.ggml.token_type", test::gguf_array(std::vector<int32_t>{2, 3, 3, 1, 1}));
    return w;
}

TEST(TokenizerMetadata, ErrorsNameTheKey) {
    ASSERT_TRUE(from_writer(tiny_spm()).has_value());
    struct Case {
        const char* what;
        test::GgufWriter w;
        errc code;
        const char* needle;
    };
    std::vector<Case> cases;
    cases.push_back({"no model", tiny_spm().remove("tokenizer.ggml.model"), errc::invalid_model,
                     "tokenizer.ggml.model"});
    cases.push_back({"t5", tiny_spm().set("tokenizer.ggml.model", test::gguf_string("t5")),
                     errc::unsupported, "'t5'"});
    cases.push_back({"no tokens", tiny_spm().remove("tokenizer.ggml.tokens"), errc::invalid_model,
                     "tokenizer.ggml.tokens"});
    cases.push_back(
        {"tokens not strings",
         tiny_spm().set("tokenizer.ggml.tokens", test::gguf_array(std::vector<int32_t>{1})),
         errc::invalid_model, "expected arr[str]"});
    cases.push_back({"empty vocab", tiny_spm().set("tokenizer.ggml.tokens", test::gguf_strings({})),
                     errc::invalid_model, "has 0 tokens"});
    cases.push_back(
        {"short scores",
         tiny_spm().set("tokenizer.ggml.scores", test::gguf_array(std::vector<float>{0})),
         errc::invalid_model, "tokenizer.ggml.scores"});
    cases.push_back(
        {"short types",
         tiny_spm().set("tokenizer.ggml.token_type", test::gguf_array(std::vector<int32_t>{1})),
         errc::invalid_model, "tokenizer.ggml.token_type"});
    cases.push_back({"bool bos",
                     tiny_spm().set("tokenizer.ggml.bos_token_id", test::gguf_bool(true)),
                     errc::invalid_model, "bos_token_id"});
    cases.push_back({"gpt2 without merges",
                     tiny_spm().set("tokenizer.ggml.model", test::gguf_string("gpt2")),
                     errc::invalid_model, "tokenizer.ggml.merges"});
    cases.push_back({"unknown pre",
                     tiny_spm()
                         .set("tokenizer.ggml.model", test::gguf_string("gpt2"))
                         .set("tokenizer.ggml.pre", test::gguf_string("no-such-pre")),
                     errc::unsupported, "'no-such-pre' is unknown"});
    cases.push_back({"custom pre",
                     tiny_spm()
                         .set("tokenizer.ggml.model", test::gguf_string("gpt2"))
                         .set("tokenizer.ggml.pre", test::gguf_string("kimi-k2")),
                     errc::unsupported, "'kimi-k2' is not supported"});
    for (const Case& c : cases) {
        auto t = from_writer(c.w);
        ASSERT_FALSE(t.has_value()) << c.what;
        EXPECT_EQ(t.error().code, make_error_code(c.code)) << c.what << ": " << t.error().message;
        EXPECT_NE(t.error().message.find(c.needle), std::string::npos)
            << c.what << ": " << t.error().message;
    }
}

TEST(TokenizerMetadata, OutOfRangeSpecialIdsKeepDefaults) {
    auto w = tiny_spm();
    w.set("tokenizer.ggml.eos_token_id", test::gguf_u32(4000))
        .set("tokenizer.ggml.bos_token_id", test::gguf_i32(-1))
        .set("tokenizer.ggml.unknown_token_id", test::gguf_u8(0))
        .set("tokenizer.ggml.add_bos_token", test::gguf_bool(false));
    auto t = from_writer(w);
    ASSERT_TRUE(t.has_value()) << t.error().message;
    EXPECT_EQ(t->eos(), 2);
    EXPECT_EQ(t->bos(), 1);
    EXPECT_FALSE(t->add_bos());
    // Characters the vocabulary lacks, without byte tokens, become <unk>.
    EXPECT_EQ(t->tokenize("a b", {}), (std::vector<TokenId>{3, 4, 3, 0}));
}

TEST(Tokenizer, LongInputsStayLinear) {
    AGENTD_REQUIRE_SHARED(spm_path, "models/vocab/ggml-vocab-llama-spm.gguf");
    AGENTD_REQUIRE_SHARED(bpe_path, "models/vocab/ggml-vocab-gpt-2.gguf");
    AGENTD_REQUIRE_SHARED(wpm_path, "models/vocab/ggml-vocab-bert-bge.gguf");
    std::string text;
    const std::string unit =
        "The quick brown fox jumps over 13 lazy dogs; Über naïve café! 日本語 ";
    while (text.size() < (1U << 20)) {
        text += unit;
    }
    text += std::string(4096, ' ') + std::string(4096, 'a') + "\n\n\n";
    for (const auto& path : {spm_path, bpe_path, wpm_path}) {
        const Tokenizer tok = load_shared(path);
        const auto ids = tok.tokenize(text, {.add_special = false});
        EXPECT_GT(ids.size(), text.size() / 16) << path;
        if (tok.kind() == TokenizerKind::spm) {
            EXPECT_EQ(tok.detokenize(ids).value(), text);
        }
    }
}

TEST(Tokenizer, RandomBytesNeverBreakAnything) {
    AGENTD_REQUIRE_SHARED(dir, "models/vocab");
    std::mt19937 rng(1234);
    std::vector<std::string> inputs;
    for (int i = 0; i < 40; ++i) {
        std::string s(static_cast<size_t>(rng() % 200), '\0');
        for (char& c : s) {
            c = static_cast<char>(rng() % 256);
        }
        inputs.push_back(s);
    }
    inputs.push_back("\xF4\x90\x80\x80 \xED\xA0\x80 \xC0\x80 \xF8\x88\x80\x80\x80");
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() != ".gguf") {
            continue;
        }
        const Tokenizer tok = load_shared(entry.path());
        for (const std::string& s : inputs) {
            for (const bool special : {false, true}) {
                const auto ids =
                    tok.tokenize(s, {.add_special = special, .parse_special = special});
                for (const TokenId id : ids) {
                    ASSERT_GE(id, 0);
                    ASSERT_LT(static_cast<uint32_t>(id), tok.vocab_size());
                }
                ASSERT_TRUE(tok.detokenize(ids).has_value());
                StreamDecoder dec(tok, special);
                std::string out;
                for (const TokenId id : ids) {
                    out += dec.push(id);
                }
                out += dec.flush();
                EXPECT_TRUE(valid_utf8(out)) << entry.path();
            }
        }
    }
}

} // namespace
} // namespace agentd::inference
