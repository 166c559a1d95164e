// A2A data model JSON in both wire versions: strict readers with precise errors, writers in the
// exact shapes the specs define, round trips, timestamps, versions and agent cards.

#include "agentd/protocols/a2a/agent_card.h"
#include "agentd/protocols/a2a/codec.h"
#include "agentd/protocols/errc.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace agentd::protocols::a2a {
namespace {

using nlohmann::json;

json parse(std::string_view text) {
    return json::parse(text);
}

std::string error_of(const base::Result<Message>& r) {
    EXPECT_FALSE(r.has_value());
    if (r.has_value()) {
        return "";
    }
    EXPECT_EQ(r.error().code, make_error_code(errc::invalid_params));
    return r.error().message;
}

TEST(A2aVersion, HeaderValues) {
    EXPECT_EQ(parse_version(""), Version::v0_3);
    EXPECT_EQ(parse_version("0.3"), Version::v0_3);
    EXPECT_EQ(parse_version("0.3.0"), Version::v0_3);
    EXPECT_EQ(parse_version(" 1.0 "), Version::v1_0);
    EXPECT_EQ(parse_version("1.0.1"), Version::v1_0);
    EXPECT_EQ(parse_version("1"), Version::v1_0);
    EXPECT_FALSE(parse_version("2.0").has_value());
    EXPECT_FALSE(parse_version("1.1").has_value());
    EXPECT_FALSE(parse_version("1.0.x").has_value());
    EXPECT_FALSE(parse_version("0.30").has_value());
    EXPECT_FALSE(parse_version("1.0.").has_value());
}

TEST(A2aTaskState, BothSpellings) {
    EXPECT_EQ(to_string(TaskState::input_required, Version::v1_0), "TASK_STATE_INPUT_REQUIRED");
    EXPECT_EQ(to_string(TaskState::input_required, Version::v0_3), "input-required");
    EXPECT_EQ(parse_task_state("auth-required"), TaskState::auth_required);
    EXPECT_EQ(parse_task_state("TASK_STATE_REJECTED"), TaskState::rejected);
    EXPECT_FALSE(parse_task_state("done").has_value());
    EXPECT_TRUE(is_terminal(TaskState::canceled));
    EXPECT_FALSE(is_terminal(TaskState::input_required));
    EXPECT_TRUE(is_interrupted(TaskState::auth_required));
}

TEST(A2aCodec, ReadsV1Message) {
    const auto m = parse_message(parse(R"({
        "messageId": "m1", "context_id": "c1", "role": "ROLE_USER",
        "parts": [{"text": "hi", "mediaType": "text/plain"},
                  {"raw": "aGVsbG8=", "filename": "a.bin"},
                  {"url": "https://x/y", "mediaType": "image/png"},
                  {"data": [1, 2]}],
        "metadata": {"k": 1}, "referenceTaskIds": ["t0"], "unknownField": true})"),
                                 Version::v1_0, "message");
    ASSERT_TRUE(m.has_value()) << m.error().message;
    EXPECT_EQ(m->message_id, "m1");
    EXPECT_EQ(m->context_id, "c1");
    EXPECT_EQ(m->role, Role::user);
    ASSERT_EQ(m->parts.size(), 4u);
    EXPECT_EQ(m->parts[0].kind, Part::Kind::text);
    EXPECT_EQ(m->parts[0].media_type, "text/plain");
    EXPECT_EQ(m->parts[1].kind, Part::Kind::raw);
    EXPECT_EQ(m->parts[1].raw, "hello");
    EXPECT_EQ(m->parts[1].filename, "a.bin");
    EXPECT_EQ(m->parts[2].url, "https://x/y");
    EXPECT_EQ(*m->parts[3].data, json::array({1, 2}));
    EXPECT_EQ((*m->metadata)["k"], 1);
    EXPECT_EQ(m->reference_task_ids, std::vector<std::string>{"t0"});
}

TEST(A2aCodec, RejectsBadV1MessagesPrecisely) {
    EXPECT_EQ(error_of(parse_message(parse(R"({"role":"ROLE_USER","parts":[{"text":"x"}]})"),
                                     Version::v1_0, "params.message")),
              "params.message.messageId: is required");
    EXPECT_EQ(error_of(parse_message(parse(R"({"messageId":"","role":"ROLE_USER",
                                               "parts":[{"text":"x"}]})"),
                                     Version::v1_0, "m")),
              "m.messageId: must not be empty");
    EXPECT_EQ(error_of(parse_message(parse(R"({"messageId":"a","role":"ROLE_USER","parts":[]})"),
                                     Version::v1_0, "m")),
              "m.parts: at least one part is required");
    EXPECT_EQ(error_of(parse_message(parse(R"({"messageId":"a","role":"user",
                                               "parts":[{"text":"x","url":"u"}]})"),
                                     Version::v1_0, "m")),
              "m.parts[0]: must have exactly one of text, raw, url, data");
    EXPECT_EQ(error_of(parse_message(parse(R"({"messageId":"a","role":"ROLE_BOSS",
                                               "parts":[{"text":"x"}]})"),
                                     Version::v1_0, "m")),
              "m.role: must be ROLE_USER or ROLE_AGENT");
    EXPECT_EQ(error_of(parse_message(parse(R"({"messageId":"a","role":"ROLE_USER",
                                               "parts":[{"raw":"***"}]})"),
                                     Version::v1_0, "m")),
              "m.parts[0].raw: is not valid Base64");
    EXPECT_EQ(error_of(parse_message(parse(R"({"messageId":7,"role":"ROLE_USER",
                                               "parts":[{"text":"x"}]})"),
                                     Version::v1_0, "m")),
              "m.messageId: must be a string, not number");
    EXPECT_EQ(error_of(parse_message(parse(R"([])"), Version::v1_0, "m")),
              "m: must be an object, not array");
    const std::string long_id(300, 'x');
    EXPECT_NE(error_of(parse_message(json{{"messageId", long_id},
                                          {"role", "ROLE_USER"},
                                          {"parts", json::array({{{"text", "x"}}})}},
                                     Version::v1_0, "m"))
                  .find("is too long"),
              std::string::npos);
}

TEST(A2aCodec, ReadsV03MessageAndRejectsBadParts) {
    const auto m = parse_message(parse(R"({
        "kind": "message", "messageId": "m1", "role": "user",
        "parts": [{"kind": "text", "text": "hi"},
                  {"kind": "file", "file": {"bytes": "aGk=", "mimeType": "text/plain", "name": "f"}},
                  {"kind": "file", "file": {"uri": "https://x/f"}},
                  {"kind": "data", "data": {"a": 1}}]})"),
                                 Version::v0_3, "message");
    ASSERT_TRUE(m.has_value()) << m.error().message;
    EXPECT_EQ(m->parts[1].kind, Part::Kind::raw);
    EXPECT_EQ(m->parts[1].raw, "hi");
    EXPECT_EQ(m->parts[1].filename, "f");
    EXPECT_EQ(m->parts[2].kind, Part::Kind::url);
    EXPECT_EQ(m->parts[3].kind, Part::Kind::data);

    EXPECT_EQ(error_of(parse_message(parse(R"({"kind":"message","messageId":"a","role":"user",
        "parts":[{"kind":"file","file":{"bytes":"aGk=","uri":"u"}}]})"),
                                     Version::v0_3, "m")),
              "m.parts[0].file: needs exactly one of bytes, uri");
    EXPECT_EQ(error_of(parse_message(parse(R"({"kind":"task","messageId":"a","role":"user",
        "parts":[{"kind":"text","text":"x"}]})"),
                                     Version::v0_3, "m")),
              "m.kind: must be \"message\"");
    EXPECT_EQ(error_of(parse_message(parse(R"({"messageId":"a","role":"user",
        "parts":[{"kind":"data","data":[1]}]})"),
                                     Version::v0_3, "m")),
              "m.parts[0].data: must be an object, not array");
    EXPECT_EQ(error_of(parse_message(parse(R"({"messageId":"a","role":"user",
        "parts":[{"kind":"image"}]})"),
                                     Version::v0_3, "m")),
              "m.parts[0].kind: must be \"text\", \"file\" or \"data\"");
}

Task sample_task() {
    Task t;
    t.id = "t1";
    t.context_id = "c1";
    t.status.state = TaskState::input_required;
    t.status.timestamp_ms = 1761647400123;
    Message agent;
    agent.message_id = "m2";
    agent.role = Role::agent;
    agent.parts.push_back(Part::make_text("need more"));
    t.status.message = agent;
    Artifact a;
    a.artifact_id = "a1";
    a.name = "out";
    a.parts.push_back(Part::make_raw(std::string("\x00\xff", 2), "application/octet-stream", "b"));
    a.parts.push_back(Part::make_data(share_json(json{{"k", "v"}})));
    t.artifacts.push_back(a);
    Message user;
    user.message_id = "m1";
    user.role = Role::user;
    user.parts.push_back(Part::make_url("https://x/y", "text/plain", "y.txt"));
    t.history.push_back(user);
    return t;
}

TEST(A2aCodec, TaskRoundTripsInBothVersions) {
    for (const auto version : {Version::v1_0, Version::v0_3}) {
        const json j = to_json(sample_task(), version);
        const auto back = parse_task(j, version, "task");
        ASSERT_TRUE(back.has_value()) << back.error().message;
        EXPECT_EQ(to_json(*back, version), j);
    }
    const json v1 = to_json(sample_task(), Version::v1_0);
    EXPECT_EQ(v1["status"]["state"], "TASK_STATE_INPUT_REQUIRED");
    EXPECT_EQ(v1["status"]["timestamp"], "2025-10-28T10:30:00.123Z");
    EXPECT_EQ(v1["status"]["message"]["role"], "ROLE_AGENT");
    EXPECT_EQ(v1["artifacts"][0]["parts"][0]["raw"], "AP8=");
    EXPECT_FALSE(v1.contains("kind"));
    const json v03 = to_json(sample_task(), Version::v0_3);
    EXPECT_EQ(v03["kind"], "task");
    EXPECT_EQ(v03["status"]["state"], "input-required");
    EXPECT_EQ(v03["artifacts"][0]["parts"][0]["kind"], "file");
    EXPECT_EQ(v03["artifacts"][0]["parts"][0]["file"]["bytes"], "AP8=");
    EXPECT_EQ(v03["history"][0]["parts"][0]["file"]["uri"], "https://x/y");
}

TEST(A2aCodec, ListsCanOmitArtifacts) {
    Task t = sample_task();
    t.include_artifacts = false;
    EXPECT_FALSE(to_json(t, Version::v1_0).contains("artifacts"));
    t.include_artifacts = true;
    t.artifacts.clear();
    EXPECT_EQ(to_json(t, Version::v1_0)["artifacts"], json::array());
}

TEST(A2aCodec, StreamEventsWrapInV1AndTagInV03) {
    StatusUpdate u{"t1", "c1", {}, nullptr};
    u.status.state = TaskState::completed;
    const json v1 = to_json(StreamEvent(u), Version::v1_0);
    EXPECT_EQ(v1["statusUpdate"]["taskId"], "t1");
    EXPECT_FALSE(v1["statusUpdate"].contains("final"));
    const json v03 = to_json(StreamEvent(u), Version::v0_3);
    EXPECT_EQ(v03["kind"], "status-update");
    EXPECT_EQ(v03["final"], true);
    u.status.state = TaskState::working;
    EXPECT_EQ(to_json(StreamEvent(u), Version::v0_3)["final"], false);

    ArtifactUpdate a{"t1", "c1", {}, true, true, nullptr};
    a.artifact.artifact_id = "a";
    a.artifact.parts.push_back(Part::make_text("x"));
    for (const auto version : {Version::v1_0, Version::v0_3}) {
        const auto back = parse_stream_event(to_json(StreamEvent(a), version), version);
        ASSERT_TRUE(back.has_value()) << back.error().message;
        const auto* got = std::get_if<ArtifactUpdate>(&*back);
        ASSERT_NE(got, nullptr);
        EXPECT_TRUE(got->append);
        EXPECT_TRUE(got->last_chunk);
        EXPECT_EQ(task_id_of(*back), "t1");
    }
    EXPECT_FALSE(parse_stream_event(json{{"task", json::object()}, {"message", json::object()}},
                                    Version::v1_0)
                     .has_value());
    EXPECT_FALSE(parse_stream_event(json{{"kind", "nope"}}, Version::v0_3).has_value());
}

TEST(A2aCodec, PushConfigShapes) {
    PushConfig c;
    c.id = "p1";
    c.task_id = "t1";
    c.url = "http://127.0.0.1:9/hook";
    c.token = "tok";
    c.authentication = AuthenticationInfo{"Bearer", "secret"};
    const json v1 = to_json(c, Version::v1_0);
    EXPECT_EQ(v1["taskId"], "t1");
    EXPECT_EQ(v1["authentication"]["scheme"], "Bearer");
    const json v03 = to_json(c, Version::v0_3);
    EXPECT_EQ(v03["taskId"], "t1");
    EXPECT_EQ(v03["pushNotificationConfig"]["authentication"]["schemes"][0], "Bearer");
    for (const auto version : {Version::v1_0, Version::v0_3}) {
        const auto back = parse_push_config(to_json(c, version), version, "params");
        ASSERT_TRUE(back.has_value()) << back.error().message;
        EXPECT_EQ(back->task_id, "t1");
        EXPECT_EQ(back->url, c.url);
        EXPECT_EQ(back->authentication->credentials, "secret");
    }
    const auto missing = parse_push_config(json{{"taskId", "t"}}, Version::v1_0, "params");
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().message, "params.url: is required");
}

TEST(A2aCodec, Timestamps) {
    EXPECT_EQ(format_timestamp(0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(parse_timestamp("2025-10-28T10:30:00.123Z"), 1761647400123);
    EXPECT_EQ(parse_timestamp("2025-10-28T12:30:00+02:00"), 1761647400000);
    EXPECT_EQ(parse_timestamp("2025-10-28T10:30:00.5Z"), 1761647400500);
    EXPECT_FALSE(parse_timestamp("2025-10-28 10:30:00Z").has_value());
    EXPECT_FALSE(parse_timestamp("2025-13-28T10:30:00Z").has_value());
    EXPECT_FALSE(parse_timestamp("2025-10-28T10:30:00").has_value());
    EXPECT_FALSE(parse_timestamp("2025-10-28T10:30:00Zjunk").has_value());
}

AgentCard sample_card() {
    AgentCard card;
    card.name = "echo";
    card.description = "Echoes";
    card.interfaces.push_back({"http://h/a2a", "JSONRPC", Version::v1_0});
    card.interfaces.push_back({"http://h/a2a", "JSONRPC", Version::v0_3});
    card.bearer_auth = true;
    card.skills.push_back({"echo", "Echo", "Repeats", {"test"}, {"hi"}, {}, {}});
    return card;
}

TEST(A2aAgentCard, ShapesAndParsing) {
    const json v1 = card_to_json(sample_card(), CardShape::v1_0);
    ASSERT_EQ(v1["supportedInterfaces"].size(), 2u);
    EXPECT_EQ(v1["supportedInterfaces"][1]["protocolVersion"], "0.3");
    EXPECT_TRUE(v1["securitySchemes"]["bearer"].contains("httpAuthSecurityScheme"));
    EXPECT_FALSE(v1.contains("url"));
    const json v03 = card_to_json(sample_card(), CardShape::v0_3);
    EXPECT_EQ(v03["url"], "http://h/a2a");
    EXPECT_EQ(v03["protocolVersion"], "0.3.0");
    EXPECT_EQ(v03["securitySchemes"]["bearer"]["type"], "http");
    EXPECT_FALSE(v03.contains("supportedInterfaces"));
    const json dual = card_to_json(sample_card(), CardShape::dual);
    EXPECT_TRUE(dual.contains("supportedInterfaces"));
    EXPECT_TRUE(dual.contains("url"));

    for (const auto& j : {v1, v03, dual}) {
        const auto back = parse_agent_card(j);
        ASSERT_TRUE(back.has_value()) << back.error().message;
        EXPECT_EQ(back->name, "echo");
        ASSERT_NE(back->find_interface(Version::v0_3), nullptr);
        EXPECT_EQ(back->find_interface(Version::v0_3)->url, "http://h/a2a");
        EXPECT_EQ(back->skills.at(0).id, "echo");
    }
    EXPECT_FALSE(parse_agent_card(json{{"description", "x"}}).has_value());
}

} // namespace
} // namespace agentd::protocols::a2a
