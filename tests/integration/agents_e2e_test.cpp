// The agent runtime end to end on the real tiny model (../shared/models/stories260K.gguf):
// constrained decoding makes the model call `run_python` (the agent narrows its argument to
// `print(D*D)`), the sandbox runs what the model wrote, the result goes back into the
// conversation and the turn completes — through A2A, MCP and the OpenAI API, deterministically
// (greedy decoding: the three faces produce the same program).

#include "agentd/itest/agentd_process.h"
#include "agentd/itest/http_client.h"
#include "agentd/test/env.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <regex>

namespace agentd::itest {
namespace {

using nlohmann::json;

const char* const kConfig = R"({
  "agents": [{
    "name": "coder",
    "description": "Writes and runs a tiny Python program",
    "system_prompt": "You run Python to answer.",
    "tools": ["run_python"],
    "tool_choice": "run_python",
    "followup_tool_choice": "none",
    "max_steps": 3,
    "sampling": {"temperature": 0, "max_tokens": 160},
    "tool_schemas": {"run_python": {"type": "object",
      "properties": {"code": {"type": "string", "pattern": "^print\\([1-9]\\*[1-9]\\)$"}},
      "required": ["code"], "additionalProperties": false}}
  }]
})";

/// The product `print(a*b)` prints, or -1 when `code` is not such a program.
int expected_output(const std::string& code) {
    static const std::regex re(R"(^print\(([1-9])\*([1-9])\)$)");
    std::smatch m;
    if (!std::regex_match(code, m, re)) {
        return -1;
    }
    return std::stoi(m[1]) * std::stoi(m[2]);
}

/// Checks one executed call and returns its program.
std::string check_call(const json& call) {
    EXPECT_EQ(call["name"], "run_python") << call.dump();
    const std::string code = call["arguments"]["code"];
    const int product = expected_output(code);
    EXPECT_GT(product, 0) << code;
    EXPECT_EQ(call["result"], std::to_string(product) + "\n") << call.dump();
    EXPECT_EQ(call["is_error"], false);
    return code;
}

json post(std::uint16_t port, const std::string& path, const json& body,
          std::vector<std::pair<std::string, std::string>> headers = {}) {
    headers.emplace_back("Content-Type", "application/json");
    const auto r = http_request(port, make_request("POST", path, body.dump(), headers));
    EXPECT_EQ(r.status, 200u) << r.body;
    return json::parse(r.body);
}

TEST(AgentsEndToEnd, RunPythonThroughA2aMcpAndOpenAi) {
    AGENTD_REQUIRE_SHARED(model, "models/stories260K.gguf");
    const auto config = write_temp_file("agents.json", kConfig);
    auto agentd = AgentdProcess::serve({"--model", model.string(), "--config", config.string()});
    const auto port = agentd->port();

    // A2A: the task completes; a tool artifact records the sandboxed run.
    const json a2a =
        post(port, "/a2a/coder",
             {{"jsonrpc", "2.0"},
              {"id", 1},
              {"method", "SendMessage"},
              {"params",
               {{"message",
                 {{"messageId", "e2e-1"},
                  {"role", "ROLE_USER"},
                  {"parts", json::array({{{"text", "What is six times seven?"}}})}}}}}},
             {{"A2A-Version", "1.0"}});
    const json& task = a2a["result"]["task"];
    ASSERT_EQ(task["status"]["state"], "TASK_STATE_COMPLETED") << a2a.dump();
    std::string a2a_code;
    bool answered = false;
    for (const auto& artifact : task["artifacts"]) {
        if (artifact["name"] == "tool:run_python" && a2a_code.empty()) {
            a2a_code = check_call(artifact["parts"][0]["data"]);
        }
        answered = answered || artifact["name"] == "answer";
    }
    EXPECT_FALSE(a2a_code.empty()) << task.dump();
    EXPECT_TRUE(answered);

    // MCP: the agent is the tool agent_coder.
    const json meta = {{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
                       {"io.modelcontextprotocol/clientInfo", {{"name", "e2e"}, {"version", "1"}}},
                       {"io.modelcontextprotocol/clientCapabilities", json::object()}};
    const json mcp = post(port, "/mcp",
                          {{"jsonrpc", "2.0"},
                           {"id", 2},
                           {"method", "tools/call"},
                           {"params",
                            {{"name", "agent_coder"},
                             {"arguments", {{"message", "What is six times seven?"}}},
                             {"_meta", meta}}}},
                          {{"Accept", "application/json, text/event-stream"},
                           {"MCP-Protocol-Version", "2026-07-28"},
                           {"Mcp-Method", "tools/call"},
                           {"Mcp-Name", "agent_coder"}});
    ASSERT_TRUE(mcp.contains("result")) << mcp.dump();
    EXPECT_FALSE(mcp["result"].value("isError", false));
    const json& structured = mcp["result"]["structuredContent"];
    ASSERT_FALSE(structured["tool_calls"].empty()) << mcp.dump();
    EXPECT_EQ(check_call(structured["tool_calls"][0]), a2a_code);
    EXPECT_GE(structured["steps"].get<int>(), 2);

    // OpenAI: the agent is a model name.
    const json chat = post(
        port, "/v1/chat/completions",
        {{"model", "coder"},
         {"messages", json::array({{{"role", "user"}, {"content", "What is six times seven?"}}})}});
    ASSERT_TRUE(chat.contains("choices")) << chat.dump();
    EXPECT_EQ(chat["model"], "coder");
    EXPECT_EQ(chat["choices"][0]["message"]["role"], "assistant");
    EXPECT_GE(chat["agentd"]["steps"].get<int>(), 2);
    EXPECT_GT(chat["usage"]["completion_tokens"].get<int>(), 0);

    // Every turn was traced: spans for the steps and the sandboxed tool call are in the log.
    EXPECT_TRUE(agentd->wait_for_err("span name=tool"));
    EXPECT_NE(agentd->err().find("sandbox.wall_ms"), std::string::npos);
    const auto stopped = agentd->stop();
    EXPECT_EQ(stopped.exit_code, 0) << agentd->err();
}

} // namespace
} // namespace agentd::itest
