#pragma once
/// Request ids: a client's X-Request-Id is echoed when it is safe to log and to send back
/// (1-128 characters of [A-Za-z0-9._:-]); otherwise a random 128-bit hex id is generated.
/// Thread-safe (per-thread generator).

#include <optional>
#include <string>
#include <string_view>

namespace agentd::gateway::http {

[[nodiscard]] bool is_valid_request_id(std::string_view id) noexcept;
[[nodiscard]] std::string generate_request_id();
/// The client's id when valid, else a generated one.
[[nodiscard]] std::string request_id_for(std::optional<std::string_view> client_id);

} // namespace agentd::gateway::http
