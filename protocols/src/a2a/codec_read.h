#pragma once
// Internal readers of the A2A data model: like the public parse_* of codec.h but throwing
// detail::Invalid, so that request parsers (rpc.cpp) compose them under one try/catch.

#include "agentd/protocols/a2a/types.h"

#include <nlohmann/json_fwd.hpp>

#include <string_view>
#include <vector>

namespace agentd::protocols::a2a::detail {

[[nodiscard]] Part read_part(const nlohmann::json& value, Version version, std::string_view path);
/// The required, non-empty `parts` array of `obj`.
[[nodiscard]] std::vector<Part> read_parts(const nlohmann::json& obj, Version version,
                                           std::string_view path);
[[nodiscard]] Message read_message(const nlohmann::json& value, Version version,
                                   std::string_view path);
[[nodiscard]] TaskStatus read_status(const nlohmann::json& value, Version version,
                                     std::string_view path);
[[nodiscard]] Artifact read_artifact(const nlohmann::json& value, Version version,
                                     std::string_view path);
[[nodiscard]] Task read_task(const nlohmann::json& value, Version version, std::string_view path);
[[nodiscard]] PushConfig read_push_config(const nlohmann::json& value, Version version,
                                          std::string_view path);
/// A v1.0 StreamResponse: exactly one of task, message, statusUpdate, artifactUpdate.
[[nodiscard]] StreamEvent read_stream_event_v1(const nlohmann::json& value);

} // namespace agentd::protocols::a2a::detail
