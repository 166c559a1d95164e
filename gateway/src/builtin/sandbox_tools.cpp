#include "builtin/sandbox_tools.h"

#include <nlohmann/json.hpp>

namespace agentd::gateway::builtin {
namespace {

using json = nlohmann::json;

json input_schema(const SandboxRunner& runner, sandbox::Language language) {
    const auto& c = runner.config();
    const std::string what = language == sandbox::Language::python ? "Python 3" : "bash";
    return {{"type", "object"},
            {"properties",
             {{"code", {{"type", "string"}, {"description", "The " + what + " program"}}},
              {"stdin", {{"type", "string"}, {"description", "Standard input for the program"}}},
              {"timeout_ms",
               {{"type", "integer"},
                {"minimum", 1},
                {"maximum", c.max_timeout_ms},
                {"description",
                 "Wall-clock limit (default " + std::to_string(c.default_timeout_ms) + ")"}}},
              {"memory_mb",
               {{"type", "integer"},
                {"minimum", 1},
                {"maximum", c.max_memory_mb},
                {"description",
                 "Memory limit in MiB (default " + std::to_string(c.default_memory_mb) + ")"}}},
              {"session",
               {{"type", "string"},
                {"pattern", "^[A-Za-z0-9_.-]{1,64}$"},
                {"description", "Names a persistent workspace (/workspace) kept across calls"}}},
              {"files",
               {{"type", "object"},
                {"additionalProperties", {{"type", "string"}}},
                {"description", "Text files to put in /workspace before the run, {path: text} "
                                "(at most 64, 4 MiB together)"}}},
              {"read_files",
               {{"type", "array"},
                {"items", {{"type", "string"}}},
                {"description", "Paths under /workspace to return after the run (at most 64, "
                                "1 MiB each)"}}}}},
            {"required", json::array({"code"})},
            {"additionalProperties", false}};
}

json output_schema() {
    const json int_or_null = {{"type", json::array({"integer", "null"})}};
    const json integer = {{"type", "integer"}, {"minimum", 0}};
    const json boolean = {{"type", "boolean"}};
    const json string = {{"type", "string"}};
    return {
        {"type", "object"},
        {"properties",
         {{"stdout", string},
          {"stderr", string},
          {"exit_code", int_or_null},
          {"signal", int_or_null},
          {"timed_out", boolean},
          {"limit",
           {{"type", "string"},
            {"enum", json::array({"none", "wall", "cpu", "memory", "file_size", "cancelled"})}}},
          {"stdout_truncated", boolean},
          {"stderr_truncated", boolean},
          {"stdout_bytes", integer},
          {"stderr_bytes", integer},
          {"wall_ms", integer},
          {"cpu_ms", integer},
          {"max_rss_kb", integer},
          {"isolation", {{"type", "array"}, {"items", string}}},
          {"warm", boolean},
          {"files",
           {{"type", "array"},
            {"items",
             {{"type", "object"},
              {"properties", {{"path", string}, {"content", string}, {"error", string}}},
              {"required", json::array({"path"})}}}}}}},
        {"required", json::array({"stdout", "stderr", "exit_code", "signal", "timed_out", "limit",
                                  "isolation"})}};
}

class RunCodeExecutor final : public tools::ToolExecutor {
public:
    RunCodeExecutor(std::shared_ptr<SandboxRunner> runner, sandbox::Language language)
        : runner_(std::move(runner)), language_(language) {}

    void invoke(tools::ToolInvocation inv, tools::ToolCallback done) const override {
        const json& args = inv.arguments ? *inv.arguments : json::object();
        auto parsed = runner_->parse_request(args, inv.tenant, language_);
        if (!parsed) {
            done(tools::ToolResult::error(parsed.error().what()));
            return;
        }
        auto kill = runner_->run(std::move(*parsed), [done](auto r) {
            if (!r) {
                done(tools::ToolResult::error("the sandbox could not run the program: " +
                                              r.error().what()));
                return;
            }
            done(to_tool_result(*r));
        });
        if (inv.cancel) {
            // The registration lives as long as the signal; kill() is harmless after the end.
            (void)inv.cancel->on_cancel(std::move(kill));
        }
    }

private:
    std::shared_ptr<SandboxRunner> runner_;
    sandbox::Language language_;
};

} // namespace

tools::ToolResult to_tool_result(const RunOutcome& outcome) {
    tools::ToolResult out = to_tool_result(outcome.result);
    if (outcome.files.empty()) {
        return out;
    }
    std::string text;
    for (const auto& f : outcome.files) {
        text += "[file " + f.path + "]\n" + (f.content ? *f.content : "(" + f.error + ")") + "\n";
    }
    out.content.push_back(tools::ContentBlock::make_text(std::move(text)));
    const json structured = result_json(outcome);
    out.structured_content = tools::share_json(
        json::parse(structured.dump(-1, ' ', false, json::error_handler_t::replace)));
    return out;
}

tools::ToolResult to_tool_result(const sandbox::RunResult& r) {
    tools::ToolResult out;
    std::string text = r.stdout_data;
    if (!r.stderr_data.empty()) {
        text += text.empty() ? "" : "\n";
        text += "[stderr]\n" + r.stderr_data;
    }
    const bool ok = r.exit_code && *r.exit_code == 0 && !r.timed_out;
    if (!ok) {
        std::string why = r.timed_out   ? "timed out"
                          : r.signal    ? "killed by signal " + std::to_string(*r.signal)
                          : r.exit_code ? "exited with status " + std::to_string(*r.exit_code)
                                        : "stopped";
        if (r.limit != sandbox::LimitHit::none) {
            why += " (" + std::string(sandbox::to_string(r.limit)) + " limit)";
        }
        text = "the program " + why + (text.empty() ? std::string() : ":\n" + text);
    }
    out.is_error = !ok;
    out.content.push_back(tools::ContentBlock::make_text(std::move(text)));
    // Program output is arbitrary bytes: JSON needs valid UTF-8, invalid bytes become U+FFFD.
    const json structured = result_json(r);
    out.structured_content = tools::share_json(
        json::parse(structured.dump(-1, ' ', false, json::error_handler_t::replace)));
    return out;
}

base::Result<tools::ToolPtr> make_run_code_tool(std::shared_ptr<SandboxRunner> runner,
                                                sandbox::Language language) {
    tools::ToolDefinition def;
    const bool python = language == sandbox::Language::python;
    def.name = python ? "run_python" : "run_bash";
    def.title = python ? "Run Python" : "Run bash";
    def.description = std::string("Runs a ") + (python ? "Python 3 program" : "bash script") +
                      " in an isolated sandbox (no network, private file system, bounded time, "
                      "memory and output) and returns what it printed. Files written under "
                      "/workspace persist across calls that name the same session.";
    def.input_schema = tools::share_json(input_schema(*runner, language));
    def.output_schema = tools::share_json(output_schema());
    def.annotations = tools::share_json(
        json{{"readOnlyHint", false}, {"destructiveHint", false}, {"openWorldHint", false}});
    def.source = tools::ToolSource::sandbox;
    return tools::Tool::create(std::move(def),
                               std::make_shared<RunCodeExecutor>(std::move(runner), language));
}

} // namespace agentd::gateway::builtin
