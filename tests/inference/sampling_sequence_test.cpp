#include "agentd/inference/errc.h"
#include "agentd/inference/sampling_sequence.h"
#include "agentd/inference/value_json.h"

#include "schema_validator.h"

#include <gtest/gtest.h>

#include <random>

namespace agentd::inference {
namespace {

std::shared_ptr<const GrammarVocabulary> vocab() {
    std::vector<std::string> t;
    for (int b = 0; b < 256; ++b) {
        t.emplace_back(1, static_cast<char>(b));
    }
    for (const char* s : {"{\"", "\":", "\": ", "\",", "\"}", "name", "arguments", "ping", "city",
                          "Hello", " world", "<tool_call>", "</tool_call>", "STOP"}) {
        t.emplace_back(s);
    }
    t.emplace_back("<|eos|>");
    std::vector<bool> special(t.size(), false);
    special.back() = true;
    return GrammarVocabulary::build(t, special, {static_cast<std::int32_t>(t.size() - 1)});
}

struct Outcome {
    std::string content;
    std::vector<ParsedToolCall> calls;
    FinishReason finish = FinishReason::none;
    int tokens = 0;
};

// Generates with random logits until the decoder reports a finish reason.
Outcome generate(SequenceDecoder& d, const GrammarVocabulary& v, std::uint64_t seed,
                 std::vector<std::int32_t> forced = {}) {
    std::mt19937 rng(static_cast<std::uint32_t>(seed));
    std::normal_distribution<float> dist(0.0f, 2.0f);
    std::vector<float> logits(static_cast<std::size_t>(v.size()));
    Outcome r;
    for (int step = 0; step < 400; ++step) {
        std::int32_t token = 0;
        if (static_cast<std::size_t>(step) < forced.size()) {
            token = forced[static_cast<std::size_t>(step)];
        } else {
            for (auto& l : logits) {
                l = dist(rng);
            }
            logits[static_cast<std::size_t>(v.eos()[0])] += 3.0f; // like a model that wants to stop
            token = d.sample(logits).token;
        }
        auto u = d.accept(token, v.is_special(token) ? "" : v.bytes(token), v.is_eos(token));
        ++r.tokens;
        for (const auto& delta : u.deltas) {
            if (delta.kind == ChatDelta::Kind::content) {
                r.content += delta.text;
            }
        }
        if (u.finish != FinishReason::none) {
            EXPECT_FALSE(u.error) << *u.error;
            r.finish = u.finish;
            r.calls = d.parser().tool_calls();
            return r;
        }
    }
    return r;
}

TEST(SequenceDecoder, JsonSchemaGrammarFromTheFirstToken) {
    auto v = vocab();
    Value schema = *parse_json(R"({"type": "object", "properties": {"city": {"type": "string",
        "maxLength": 6}, "n": {"type": "integer"}}, "required": ["city"]})");
    auto g = Grammar::from_json_schema(schema);
    ASSERT_TRUE(g);
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        SequenceDecoderConfig c;
        c.sampling.seed = seed;
        c.grammar = *CompiledGrammar::create(*g, v);
        auto d = SequenceDecoder::create(c, v->size());
        ASSERT_TRUE(d);
        Outcome r = generate(*d, *v, seed);
        ASSERT_EQ(r.finish, FinishReason::stop) << r.content;
        auto parsed = parse_json(r.content);
        ASSERT_TRUE(parsed) << r.content;
        EXPECT_TRUE(schema_test::validate(*parsed, schema, schema)) << r.content;
    }
}

TEST(SequenceDecoder, LazyToolGrammarStartsAtTheTrigger) {
    auto v = vocab();
    Value tools = *parse_json(R"([{"type": "function", "function": {"name": "ping", "parameters":
        {"type": "object", "properties": {"city": {"type": "string", "maxLength": 4}}, "required": ["city"]}}}])");
    auto tg = tool_call_grammar(ToolCallFormat::hermes, tools,
                                ToolChoice{ToolChoice::Kind::automatic, {}});
    ASSERT_TRUE(tg);
    SequenceDecoderConfig c;
    c.sampling.seed = 3;
    c.grammar = *CompiledGrammar::create(tg->grammar, v);
    c.grammar_triggers = tg->triggers;
    c.parser.format = ToolCallFormat::hermes;
    auto d = SequenceDecoder::create(c, v->size());
    ASSERT_TRUE(d);
    EXPECT_FALSE(d->grammar_active());
    // The model writes "Hello <tool_call>" freely; from the trigger on the grammar holds.
    std::vector<std::int32_t> forced{v->find("Hello"), ' ', v->find("<tool_call>")};
    Outcome r = generate(*d, *v, 3, forced);
    EXPECT_TRUE(d->grammar_active());
    EXPECT_EQ(r.finish, FinishReason::tool_calls);
    EXPECT_EQ(r.content, "Hello ");
    ASSERT_EQ(r.calls.size(), 1u);
    EXPECT_EQ(r.calls[0].name, "ping");
    auto args = parse_json(r.calls[0].arguments);
    ASSERT_TRUE(args) << r.calls[0].arguments;
    EXPECT_TRUE(args->find("city") != nullptr) << r.calls[0].arguments;
}

TEST(SequenceDecoder, StopStringsMaxTokensAndEndOfGeneration) {
    auto v = vocab();
    SequenceDecoderConfig c;
    c.stop = {"STOP"};
    auto d = SequenceDecoder::create(c, v->size());
    ASSERT_TRUE(d);
    Outcome r = generate(*d, *v, 1,
                         {v->find("Hello"), 'S', 'T', v->find(" world"), 'S', 'T', 'O', 'P', 'x'});
    EXPECT_EQ(r.finish, FinishReason::stop);
    EXPECT_EQ(r.content, "HelloST world");
    EXPECT_EQ(r.tokens, 8);

    c = {};
    c.max_tokens = 2;
    auto d2 = SequenceDecoder::create(c, v->size());
    Outcome r2 = generate(*d2, *v, 1, {v->find("Hello"), v->find(" world"), 'x'});
    EXPECT_EQ(r2.finish, FinishReason::length);
    EXPECT_EQ(r2.content, "Hello world");

    auto d3 = SequenceDecoder::create(SequenceDecoderConfig{}, v->size());
    Outcome r3 = generate(*d3, *v, 1, {v->find("Hello"), v->eos()[0]});
    EXPECT_EQ(r3.finish, FinishReason::stop);
    EXPECT_EQ(r3.content, "Hello");

    SamplingParams bad;
    bad.top_p = 0;
    SequenceDecoderConfig cb;
    cb.sampling = bad;
    EXPECT_FALSE(SequenceDecoder::create(cb, v->size()));
}

TEST(SequenceDecoder, CancelFlushesHeldText) {
    auto v = vocab();
    SequenceDecoderConfig c;
    c.stop = {"STOPPER"};
    auto d = SequenceDecoder::create(c, v->size());
    ASSERT_TRUE(d);
    auto u = d->accept(v->find("Hello"), "Hello", false);
    auto u2 = d->accept('S', "S", false); // held: could become "STOPPER"
    EXPECT_TRUE(u2.deltas.empty());
    auto f = d->finish(FinishReason::cancelled);
    EXPECT_EQ(f.finish, FinishReason::cancelled);
    ASSERT_EQ(f.deltas.size(), 1u);
    EXPECT_EQ(f.deltas[0].text, "S");
}

} // namespace
} // namespace agentd::inference
