#pragma once
/// Tool value types: what a tool is (ToolDefinition, shaped like MCP's Tool) and what a call
/// returns (ToolResult, shaped like MCP's CallToolResult).
///
/// Plain values, safe to copy and move across threads; JSON members are shared immutable
/// `JsonPtr`s (null when absent). No errors: validation happens in Tool::create and the
/// registration parsers.

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::tools {

using JsonPtr = std::shared_ptr<const nlohmann::json>;

/// Makes a JsonPtr holding a copy of `value`.
[[nodiscard]] JsonPtr share_json(const nlohmann::json& value);

/// Where a tool comes from (and so which executor runs it).
enum class ToolSource { rest, sandbox, memory, mcp_upstream, a2a_peer, builtin };

/// "rest", "sandbox", "memory", "mcp-upstream", "a2a-peer", "builtin".
[[nodiscard]] std::string_view to_string(ToolSource source);
[[nodiscard]] std::optional<ToolSource> parse_tool_source(std::string_view text);

/// MCP's tool-name rule (2025-11-25): 1–128 characters of A-Z a-z 0-9 _ - .
[[nodiscard]] bool is_valid_tool_name(std::string_view name);

/// A tool as clients see it (MCP `Tool`).
struct ToolDefinition {
    std::string name;        ///< unique per tenant; is_valid_tool_name
    std::string title;       ///< display name ("" when none)
    std::string description; ///< what it does, for the model
    JsonPtr input_schema;    ///< JSON Schema whose root `type` is "object" (required)
    JsonPtr output_schema;   ///< when set, successful results carry matching structuredContent
    JsonPtr annotations;     ///< MCP ToolAnnotations object (readOnlyHint, ...), or null
    JsonPtr icons;           ///< MCP Icon array, or null
    JsonPtr meta;            ///< `_meta` object, or null
    ToolSource source = ToolSource::builtin;
};

/// One content block of a result (MCP ContentBlock).
struct ContentBlock {
    enum class Type { text, image, audio, resource_link, resource };
    Type type = Type::text;
    std::string text;      ///< text; embedded text resource
    std::string data;      ///< base64: image, audio, embedded blob resource
    std::string mime_type; ///< image/audio/resource
    std::string uri;       ///< resource_link, resource
    std::string name;      ///< resource_link

    [[nodiscard]] static ContentBlock make_text(std::string text);
};

/// The outcome of a call (MCP CallToolResult). Tool-level failures (bad arguments, endpoint
/// errors, timeouts) are results with is_error = true and a text block saying what went wrong,
/// so a model can read and react to them.
struct ToolResult {
    std::vector<ContentBlock> content;
    JsonPtr structured_content; ///< a JSON object, or null
    bool is_error = false;

    /// An error result with one text block.
    [[nodiscard]] static ToolResult error(std::string message);
    /// A successful result with one text block.
    [[nodiscard]] static ToolResult text(std::string text);
    /// The text of all text blocks joined by newlines (for logs and tests).
    [[nodiscard]] std::string joined_text() const;
};

/// `{"content": [...], "structuredContent"?: {...}, "isError"?: true}`.
[[nodiscard]] nlohmann::json to_call_tool_result(const ToolResult& result);

/// The MCP `Tool` object for tools/list: name, title?, description, inputSchema, outputSchema?,
/// annotations?, icons?, _meta?.
[[nodiscard]] nlohmann::json to_mcp_tool(const ToolDefinition& definition);

/// The definition in /v1/tools' registration shape: name, title?, description, input_schema,
/// output_schema?, annotations? (REST tools add their endpoint to it).
[[nodiscard]] nlohmann::json to_registration_json(const ToolDefinition& definition);

} // namespace agentd::tools
