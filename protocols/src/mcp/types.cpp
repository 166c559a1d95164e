#include "agentd/protocols/mcp/types.h"

#include "agentd/protocols/mcp/providers.h"
#include "agentd/protocols/mcp/server.h"

#include <nlohmann/json.hpp>

#include <array>
#include <utility>

namespace agentd::protocols::mcp {
namespace {

constexpr std::array<std::pair<Version, std::string_view>, 4> kVersions = {{
    {Version::v2025_03_26, "2025-03-26"},
    {Version::v2025_06_18, "2025-06-18"},
    {Version::v2025_11_25, "2025-11-25"},
    {Version::v2026_07_28, "2026-07-28"},
}};

constexpr std::array<std::string_view, 8> kLevels = {"debug", "info",     "notice", "warning",
                                                     "error", "critical", "alert",  "emergency"};

constexpr std::string_view kMetaPrefix = "io.modelcontextprotocol/";

} // namespace

std::optional<Version> parse_version(std::string_view text) {
    for (const auto& [v, s] : kVersions) {
        if (s == text) {
            return v;
        }
    }
    return std::nullopt;
}

std::string_view to_string(Version v) {
    for (const auto& [version, s] : kVersions) {
        if (version == v) {
            return s;
        }
    }
    return "unknown";
}

const std::vector<std::string>& supported_version_strings() {
    static const std::vector<std::string> versions = {"2026-07-28", "2025-11-25", "2025-06-18",
                                                      "2025-03-26"};
    return versions;
}

std::optional<LogLevel> parse_log_level(std::string_view text) {
    for (std::size_t i = 0; i < kLevels.size(); ++i) {
        if (kLevels[i] == text) {
            return static_cast<LogLevel>(i);
        }
    }
    return std::nullopt;
}

std::string_view to_string(LogLevel level) {
    return kLevels.at(static_cast<std::size_t>(level));
}

namespace {

void complete_empty(const std::shared_ptr<RequestContext>& ctx) {
    ctx->complete(nlohmann::json{{"completion", {{"values", nlohmann::json::array()}}}});
}

const nlohmann::json* request_meta(const jsonrpc::Message& message) {
    if (!message.is_request() && !message.is_notification()) {
        return nullptr;
    }
    const auto& params = message.params();
    if (!params.is_object()) {
        return nullptr;
    }
    auto meta = params.find("_meta");
    if (meta == params.end() || !meta->is_object()) {
        return nullptr;
    }
    return &*meta;
}

} // namespace

void ResourceProvider::complete(const CompletionQuery& /*query*/,
                                std::shared_ptr<RequestContext> ctx) {
    complete_empty(ctx);
}

void PromptProvider::complete(const CompletionQuery& /*query*/,
                              std::shared_ptr<RequestContext> ctx) {
    complete_empty(ctx);
}

bool is_stateless_request(const jsonrpc::Message& message) {
    const auto* meta = request_meta(message);
    if (meta == nullptr) {
        return false;
    }
    for (const auto& item : meta->items()) {
        if (std::string_view(item.key()).substr(0, kMetaPrefix.size()) == kMetaPrefix) {
            return true;
        }
    }
    return false;
}

std::optional<std::string> declared_version(const jsonrpc::Message& message) {
    const auto* meta = request_meta(message);
    if (meta == nullptr) {
        return std::nullopt;
    }
    auto it = meta->find("io.modelcontextprotocol/protocolVersion");
    if (it == meta->end() || !it->is_string()) {
        return std::nullopt;
    }
    return it->get<std::string>();
}

} // namespace agentd::protocols::mcp
