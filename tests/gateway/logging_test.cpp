#include "log/logging.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace agentd::gateway::log {
namespace {

TEST(LoggingTest, TextFieldsAreKeyValue) {
    const auto line = format_event_for_test(
        Format::text, "request",
        {{"status", 200}, {"route", "/mcp"}, {"msg", "has space"}, {"ok", true}, {"ms", 1.5}});
    EXPECT_EQ(line, "request status=200 route=/mcp msg=\"has space\" ok=true ms=1.5");
}

TEST(LoggingTest, JsonFieldsFollowTheMarker) {
    const auto line = format_event_for_test(Format::json, "request",
                                            {{"status", 200u}, {"route", "/a\"b"}, {"n", -3}});
    const auto mark = line.find('\x1f');
    ASSERT_NE(mark, std::string::npos);
    EXPECT_EQ(line.substr(0, mark), "request");
    // The fields fragment completes a JSON object.
    const auto object = nlohmann::json::parse("{\"msg\":\"x\"" + line.substr(mark + 1) + "}");
    EXPECT_EQ(object["status"], 200);
    EXPECT_EQ(object["route"], "/a\"b");
    EXPECT_EQ(object["n"], -3);
}

TEST(LoggingTest, LevelAndFormatNames) {
    EXPECT_EQ(parse_level("warn"), Level::warn);
    EXPECT_EQ(parse_level("warning"), Level::warn);
    EXPECT_EQ(parse_level("off"), Level::off);
    EXPECT_FALSE(parse_level("verbose").has_value());
    EXPECT_EQ(parse_format("json"), Format::json);
    EXPECT_FALSE(parse_format("JSON").has_value());
}

} // namespace
} // namespace agentd::gateway::log
