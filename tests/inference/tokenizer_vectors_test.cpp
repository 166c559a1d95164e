// llama.cpp's tokenizer test vectors (.inp/.out beside each vocab file) and the reference
// tokenization of 24 strings for every shared model and vocabulary (tokenization.json).

#include "agentd/inference/gguf.h"
#include "agentd/inference/tokenizer.h"
#include "agentd/test/env.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace agentd::inference {
namespace {

std::string read_all(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

Tokenizer load(const std::filesystem::path& path) {
    auto file = GgufFile::open(path);
    EXPECT_TRUE(file.has_value()) << path << ": " << file.error().message;
    auto tok = Tokenizer::from_gguf(*file);
    EXPECT_TRUE(tok.has_value()) << path << ": " << tok.error().message;
    return std::move(*tok);
}

// A .out line: the expected ids separated by spaces.
std::vector<TokenId> parse_ids(const std::string& line) {
    std::istringstream in(line);
    std::vector<TokenId> ids;
    TokenId id = 0;
    while (in >> id) {
        ids.push_back(id);
    }
    return ids;
}

class VocabVectors : public testing::TestWithParam<std::string> {};

TEST_P(VocabVectors, MatchLlamaCpp) {
    const std::string name = "models/vocab/ggml-vocab-" + GetParam() + ".gguf";
    AGENTD_REQUIRE_SHARED(path, name);
    AGENTD_REQUIRE_SHARED(inp, name + ".inp");
    AGENTD_REQUIRE_SHARED(outp, name + ".out");
    const Tokenizer tok = load(path);

    const std::string sep = "\n__ggml_vocab_test__\n";
    const std::string all = read_all(inp);
    std::vector<std::string> inputs;
    for (size_t pos = 0; pos < all.size();) {
        const size_t hit = all.find(sep, pos);
        ASSERT_NE(hit, std::string::npos);
        inputs.push_back(all.substr(pos, hit - pos));
        pos = hit + sep.size();
    }
    std::istringstream expected(read_all(outp));
    std::string line;
    size_t n = 0;
    for (const std::string& text : inputs) {
        ASSERT_TRUE(std::getline(expected, line)) << "missing expected line " << n;
        const auto ids = tok.tokenize(text, {.add_special = false, .parse_special = false});
        EXPECT_EQ(ids, parse_ids(line)) << GetParam() << " case " << n << ": '" << text << "'";
        ++n;
    }
    EXPECT_EQ(n, 46U);
}

INSTANTIATE_TEST_SUITE_P(Shared, VocabVectors,
                         testing::Values("llama-spm", "phi-3", "deepseek-coder", "deepseek-llm",
                                         "gpt-2", "mpt", "falcon", "refact", "starcoder",
                                         "bert-bge"),
                         [](const auto& p) {
                             std::string s = p.param;
                             std::replace(s.begin(), s.end(), '-', '_');
                             return s;
                         });

TEST(TokenizationReference, EveryModelEveryString) {
    AGENTD_REQUIRE_SHARED(ref, "models/reference/tokenization.json");
    const auto doc = nlohmann::json::parse(read_all(ref));
    size_t checked = 0;
    for (const auto& [model, entry] : doc.at("models").items()) {
        AGENTD_REQUIRE_SHARED(path, "models/" + model);
        const Tokenizer tok = load(path);
        for (const auto& c : entry.at("cases")) {
            const std::string text = c.at("text");
            const auto def = tok.tokenize(text);
            const auto plain = tok.tokenize(text, {.add_special = false, .parse_special = false});
            EXPECT_EQ(def, c.at("ids_default").get<std::vector<TokenId>>())
                << model << " default: '" << text << "'";
            EXPECT_EQ(plain, c.at("ids_plain").get<std::vector<TokenId>>())
                << model << " plain: '" << text << "'";
            std::vector<std::string> pieces;
            for (const TokenId id : plain) {
                pieces.emplace_back(tok.token_text(id));
            }
            EXPECT_EQ(pieces, c.at("pieces_plain").get<std::vector<std::string>>()) << model;
            ++checked;
        }
    }
    EXPECT_EQ(checked, 13U * 24U);
}

} // namespace
} // namespace agentd::inference

namespace agentd::inference {
namespace {

// llama.cpp's server recorded the prompt ids and the completion text of every greedy case:
// our prompt tokenization and our streamed decoding of its completion ids must match both.
TEST(TokenizationReference, GreedyPromptsAndCompletionText) {
    AGENTD_REQUIRE_SHARED(ref, "models/reference/stories260K.greedy.json");
    AGENTD_REQUIRE_SHARED(path, "models/stories260K.gguf");
    const Tokenizer tok = load(path);
    const auto doc = nlohmann::json::parse(read_all(ref));
    size_t n = 0;
    for (const auto& c : doc.at("cases")) {
        EXPECT_EQ(tok.tokenize(c.at("prompt").get<std::string>()),
                  c.at("prompt_ids").get<std::vector<TokenId>>());
        StreamDecoder decoder(tok);
        std::string text;
        for (const TokenId id : c.at("completion_ids").get<std::vector<TokenId>>()) {
            text += decoder.push(id);
        }
        text += decoder.flush();
        EXPECT_EQ(text, c.at("completion_text").get<std::string>());
        ++n;
    }
    EXPECT_EQ(n, 8U);
}

} // namespace
} // namespace agentd::inference
