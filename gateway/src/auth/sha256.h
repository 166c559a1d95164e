#pragma once
/// SHA-256 (FIPS 180-4), used to keep API keys hashed in memory and compare them in constant
/// time. Pure functions, thread-safe, no errors.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace agentd::gateway::auth {

using Digest = std::array<std::uint8_t, 32>;

[[nodiscard]] Digest sha256(std::string_view data) noexcept;

/// Lower-case hex of a digest.
[[nodiscard]] std::string to_hex(const Digest& d);

/// Parses 64 hex digits (either case); nullopt otherwise.
[[nodiscard]] std::optional<Digest> digest_from_hex(std::string_view hex) noexcept;

/// Equality that takes the same time wherever the digests differ.
[[nodiscard]] bool constant_time_equal(const Digest& a, const Digest& b) noexcept;

} // namespace agentd::gateway::auth
