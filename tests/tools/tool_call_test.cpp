// call_tool: argument validation, output validation, cancellation, deadlines, executors that
// misbehave, asynchronous completion.
#include "agentd/tools/tool_call.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <future>
#include <stdexcept>
#include <thread>

namespace agentd::tools {
namespace {

/// A real tool: adds "a" and "b" and answers with text and structured content. Optionally
/// answers from another thread, twice, or not an object, depending on the arguments.
class Adder final : public ToolExecutor {
public:
    void invoke(ToolInvocation inv, ToolCallback done) const override {
        const auto& args = *inv.arguments;
        if (args.value("throw", false)) {
            throw std::runtime_error("adder exploded");
        }
        const double sum = args.value("a", 0.0) + args.value("b", 0.0);
        ToolResult r = ToolResult::text(std::to_string(sum));
        if (args.value("structured", true)) {
            r.structured_content = share_json({{args.value("key", std::string("sum")), sum}});
        }
        if (args.value("array", false)) {
            r.structured_content = share_json(nlohmann::json::array({sum}));
        }
        if (args.value("async", false)) {
            std::thread([r, done = std::move(done)]() mutable { done(std::move(r)); }).detach();
            return;
        }
        if (args.value("twice", false)) {
            done(ToolResult::text("second"));
        }
        done(std::move(r));
    }
};

const char* input_schema = R"({"type":"object","properties":{
    "a":{"type":"number"},"b":{"type":"number"},"key":{"type":"string"},
    "structured":{"type":"boolean"},"async":{"type":"boolean"},"twice":{"type":"boolean"},
    "throw":{"type":"boolean"},"array":{"type":"boolean"}},
    "additionalProperties":false})";

ToolPtr adder(bool with_output_schema) {
    ToolDefinition d;
    d.name = "add";
    d.input_schema = share_json(nlohmann::json::parse(input_schema));
    if (with_output_schema) {
        d.output_schema = share_json(nlohmann::json::parse(
            R"({"type":"object","properties":{"sum":{"type":"number"}},"required":["sum"]})"));
    }
    return *Tool::create(std::move(d), std::make_shared<Adder>());
}

ToolResult call(const ToolPtr& tool, const std::string& args_json, ToolInvocation inv = {}) {
    if (!args_json.empty()) {
        inv.arguments = share_json(nlohmann::json::parse(args_json));
    }
    std::promise<ToolResult> promise;
    auto future = promise.get_future();
    int calls = 0;
    call_tool(tool, std::move(inv), [&](ToolResult r) {
        ++calls;
        promise.set_value(std::move(r));
    });
    if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
        ADD_FAILURE() << "no result";
        return {};
    }
    auto r = future.get();
    EXPECT_EQ(calls, 1);
    return r;
}

TEST(CallTool, ValidArgumentsReachTheExecutor) {
    const auto r = call(adder(true), R"({"a":2,"b":3})");
    EXPECT_FALSE(r.is_error) << r.joined_text();
    ASSERT_TRUE(r.structured_content);
    EXPECT_EQ(r.structured_content->at("sum"), 5.0);
}

TEST(CallTool, InvalidArgumentsBecomeAPreciseToolError) {
    const auto r = call(adder(false), R"({"a":"two","c":1})");
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.joined_text(),
              "invalid arguments for tool \"add\": /a: must be number, not string; /c: "
              "unexpected property \"c\" (allowed: a, array, async, b, key, structured, throw, "
              "twice)");
    const auto not_object = call(adder(false), "[1,2]");
    EXPECT_TRUE(not_object.is_error);
    EXPECT_EQ(not_object.joined_text(),
              "arguments for tool \"add\" must be a JSON object, not array");
}

TEST(CallTool, MissingArgumentsMeanAnEmptyObject) {
    const auto r = call(adder(false), "");
    EXPECT_FALSE(r.is_error);
    EXPECT_EQ(r.joined_text(), std::to_string(0.0));
    EXPECT_FALSE(call(adder(false), "null").is_error);
}

TEST(CallTool, OutputIsCheckedAgainstTheOutputSchema) {
    const auto wrong_key = call(adder(true), R"({"key":"total"})");
    EXPECT_TRUE(wrong_key.is_error);
    EXPECT_EQ(wrong_key.joined_text(),
              "tool \"add\" returned structured content that does not match its output schema: "
              "(root): missing required property \"sum\"");
    const auto none = call(adder(true), R"({"structured":false})");
    EXPECT_TRUE(none.is_error);
    EXPECT_NE(none.joined_text().find("declares an output schema but returned no structured"),
              std::string::npos);
    EXPECT_FALSE(call(adder(false), R"({"structured":false})").is_error);
    const auto array = call(adder(false), R"({"array":true})");
    EXPECT_TRUE(array.is_error);
    EXPECT_NE(array.joined_text().find("not a JSON object"), std::string::npos);
}

TEST(CallTool, CancelledOrExpiredCallsDoNotStart) {
    ToolInvocation cancelled;
    cancelled.cancel = std::make_shared<CancellationSignal>();
    cancelled.cancel->cancel();
    const auto r = call(adder(false), "{}", cancelled);
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.joined_text(), "the call of tool \"add\" was cancelled");
    ToolInvocation expired;
    expired.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
    EXPECT_NE(call(adder(false), "{}", expired).joined_text().find("deadline"), std::string::npos);
}

TEST(CallTool, MisbehavingExecutorsStillAnswerExactlyOnce) {
    const auto thrown = call(adder(false), R"({"throw":true})");
    EXPECT_TRUE(thrown.is_error);
    EXPECT_EQ(thrown.joined_text(), "tool \"add\" failed: adder exploded");
    const auto twice = call(adder(false), R"({"twice":true})");
    EXPECT_EQ(twice.joined_text(), "second");
}

TEST(CallTool, CompletesFromAnotherThread) {
    const auto r = call(adder(true), R"({"a":1,"b":1,"async":true})");
    EXPECT_FALSE(r.is_error);
    EXPECT_EQ(r.structured_content->at("sum"), 2.0);
}

TEST(Cancellation, CallbacksRunOnceAndCanBeRemoved) {
    CancellationSignal signal;
    int a = 0;
    int b = 0;
    const auto id_a = signal.on_cancel([&] { ++a; });
    const auto id_b = signal.on_cancel([&] { ++b; });
    signal.remove(id_b);
    signal.cancel();
    signal.cancel();
    EXPECT_TRUE(signal.cancelled());
    EXPECT_EQ(a, 1);
    EXPECT_EQ(b, 0);
    signal.remove(id_a);
    int late = 0;
    EXPECT_EQ(signal.on_cancel([&] { ++late; }), 0U);
    EXPECT_EQ(late, 1);
}

} // namespace
} // namespace agentd::tools
