#include "agentd/tools/tool_call.h"

#include "util/str_cat.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <exception>
#include <utility>

namespace agentd::tools {
namespace {

using util::in_quotes;
using util::str_cat;

/// Checks a successful result against the tool's output rules (MCP: structuredContent is an
/// object; with an outputSchema it is required and must match).
ToolResult check_output(const Tool& tool, ToolResult result) {
    if (result.is_error) {
        return result;
    }
    if (result.structured_content && !result.structured_content->is_object()) {
        return ToolResult::error(str_cat("tool ", in_quotes(tool.name()),
                                         " returned structured content that is not a JSON object"));
    }
    const JsonSchema* output = tool.output_validator();
    if (output == nullptr) {
        return result;
    }
    if (!result.structured_content) {
        return ToolResult::error(
            str_cat("tool ", in_quotes(tool.name()),
                    " declares an output schema but returned no structured content"));
    }
    const auto errors = output->validate(*result.structured_content);
    if (!errors.empty()) {
        return ToolResult::error(str_cat("tool ", in_quotes(tool.name()),
                                         " returned structured content that does not match its "
                                         "output schema: ",
                                         describe_schema_errors(errors)));
    }
    return result;
}

/// Delivers the first result only, after the output check.
class Completion {
public:
    Completion(ToolPtr tool, ToolCallback done) : tool_(std::move(tool)), done_(std::move(done)) {}

    void finish(ToolResult result) {
        if (finished_.exchange(true, std::memory_order_acq_rel)) {
            return; // executor broke the exactly-once contract; the first answer stands
        }
        done_(check_output(*tool_, std::move(result)));
    }

private:
    ToolPtr tool_;
    ToolCallback done_;
    std::atomic<bool> finished_{false};
};

} // namespace

std::string describe_invalid_arguments(std::string_view tool_name,
                                       std::span<const SchemaError> errors) {
    return str_cat("invalid arguments for tool ", in_quotes(tool_name), ": ",
                   describe_schema_errors(errors));
}

void call_tool(const ToolPtr& tool, ToolInvocation invocation, ToolCallback done) {
    if (!invocation.cancel) {
        invocation.cancel = std::make_shared<CancellationSignal>();
    }
    if (!invocation.arguments || invocation.arguments->is_null()) {
        invocation.arguments = share_json(nlohmann::json::object());
    }
    const auto& args = *invocation.arguments;
    if (!args.is_object()) {
        done(ToolResult::error(str_cat("arguments for tool ", in_quotes(tool->name()),
                                       " must be a JSON object, not ", args.type_name())));
        return;
    }
    const auto errors = tool->input_validator().validate(args);
    if (!errors.empty()) {
        done(ToolResult::error(describe_invalid_arguments(tool->name(), errors)));
        return;
    }
    if (invocation.cancel->cancelled()) {
        done(ToolResult::error(
            str_cat("the call of tool ", in_quotes(tool->name()), " was cancelled")));
        return;
    }
    if (std::chrono::steady_clock::now() >= invocation.deadline) {
        done(ToolResult::error(str_cat("the deadline for tool ", in_quotes(tool->name()),
                                       " passed before the call started")));
        return;
    }
    auto completion = std::make_shared<Completion>(tool, std::move(done));
    try {
        tool->executor().invoke(std::move(invocation), [completion](ToolResult result) {
            completion->finish(std::move(result));
        });
    } catch (const std::exception& e) {
        // Executors must not throw; if one does, the caller still gets exactly one answer.
        completion->finish(
            ToolResult::error(str_cat("tool ", in_quotes(tool->name()), " failed: ", e.what())));
    }
}

} // namespace agentd::tools
