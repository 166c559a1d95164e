#include "agentd/tools/tool.h"

#include <nlohmann/json.hpp>

#include <array>
#include <utility>

namespace agentd::tools {
namespace {

constexpr std::array<std::pair<ToolSource, std::string_view>, 6> source_names{{
    {ToolSource::rest, "rest"},
    {ToolSource::sandbox, "sandbox"},
    {ToolSource::memory, "memory"},
    {ToolSource::mcp_upstream, "mcp-upstream"},
    {ToolSource::a2a_peer, "a2a-peer"},
    {ToolSource::builtin, "builtin"},
}};

nlohmann::json content_to_json(const ContentBlock& c) {
    switch (c.type) {
    case ContentBlock::Type::text:
        return {{"type", "text"}, {"text", c.text}};
    case ContentBlock::Type::image:
        return {{"type", "image"}, {"data", c.data}, {"mimeType", c.mime_type}};
    case ContentBlock::Type::audio:
        return {{"type", "audio"}, {"data", c.data}, {"mimeType", c.mime_type}};
    case ContentBlock::Type::resource_link: {
        nlohmann::json j = {{"type", "resource_link"}, {"uri", c.uri}, {"name", c.name}};
        if (!c.mime_type.empty()) {
            j["mimeType"] = c.mime_type;
        }
        return j;
    }
    case ContentBlock::Type::resource: {
        nlohmann::json resource = {{"uri", c.uri}};
        if (!c.mime_type.empty()) {
            resource["mimeType"] = c.mime_type;
        }
        if (!c.data.empty()) {
            resource["blob"] = c.data;
        } else {
            resource["text"] = c.text;
        }
        return {{"type", "resource"}, {"resource", std::move(resource)}};
    }
    }
    return {{"type", "text"}, {"text", c.text}};
}

} // namespace

JsonPtr share_json(const nlohmann::json& value) {
    return std::make_shared<const nlohmann::json>(value);
}

std::string_view to_string(ToolSource source) {
    for (const auto& [s, name] : source_names) {
        if (s == source) {
            return name;
        }
    }
    return "builtin";
}

std::optional<ToolSource> parse_tool_source(std::string_view text) {
    for (const auto& [s, name] : source_names) {
        if (name == text) {
            return s;
        }
    }
    return std::nullopt;
}

bool is_valid_tool_name(std::string_view name) {
    if (name.empty() || name.size() > 128) {
        return false;
    }
    for (const char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
        if (!ok) {
            return false;
        }
    }
    return true;
}

ContentBlock ContentBlock::make_text(std::string text) {
    ContentBlock block;
    block.text = std::move(text);
    return block;
}

ToolResult ToolResult::error(std::string message) {
    ToolResult r;
    r.content.push_back(ContentBlock::make_text(std::move(message)));
    r.is_error = true;
    return r;
}

ToolResult ToolResult::text(std::string text) {
    ToolResult r;
    r.content.push_back(ContentBlock::make_text(std::move(text)));
    return r;
}

std::string ToolResult::joined_text() const {
    std::string out;
    for (const auto& c : content) {
        if (c.type == ContentBlock::Type::text) {
            out += (out.empty() ? "" : "\n") + c.text;
        }
    }
    return out;
}

nlohmann::json to_call_tool_result(const ToolResult& result) {
    nlohmann::json content = nlohmann::json::array();
    for (const auto& c : result.content) {
        content.push_back(content_to_json(c));
    }
    nlohmann::json j = {{"content", std::move(content)}};
    if (result.structured_content) {
        j["structuredContent"] = *result.structured_content;
    }
    if (result.is_error) {
        j["isError"] = true;
    }
    return j;
}

nlohmann::json to_mcp_tool(const ToolDefinition& d) {
    nlohmann::json j = {{"name", d.name}};
    if (!d.title.empty()) {
        j["title"] = d.title;
    }
    j["description"] = d.description;
    j["inputSchema"] = d.input_schema ? *d.input_schema : nlohmann::json{{"type", "object"}};
    if (d.output_schema) {
        j["outputSchema"] = *d.output_schema;
    }
    if (d.annotations) {
        j["annotations"] = *d.annotations;
    }
    if (d.icons) {
        j["icons"] = *d.icons;
    }
    if (d.meta) {
        j["_meta"] = *d.meta;
    }
    return j;
}

nlohmann::json to_registration_json(const ToolDefinition& d) {
    nlohmann::json j = {{"name", d.name}, {"description", d.description}};
    if (!d.title.empty()) {
        j["title"] = d.title;
    }
    j["input_schema"] = d.input_schema ? *d.input_schema : nlohmann::json{{"type", "object"}};
    if (d.output_schema) {
        j["output_schema"] = *d.output_schema;
    }
    if (d.annotations) {
        j["annotations"] = *d.annotations;
    }
    return j;
}

} // namespace agentd::tools
