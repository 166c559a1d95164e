#pragma once
/// Which compute backends this build and machine offer (STYLE.md 2.7).
///
/// The backend interface itself is internal to the engine; callers pick one by kind through
/// EngineOptions. Thread-safe; no errors.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::inference {

enum class BackendKind { cpu, cuda };

struct BackendInfo {
    BackendKind kind = BackendKind::cpu;
    std::string name;                 ///< "cpu", "cuda:0", ...
    std::string detail;               ///< e.g. the SIMD level in use ("avx512") or the device model
    int device = 0;                   ///< device index (cuda:N); 0 for the CPU
    std::size_t memory_bytes = 0;     ///< a device's total memory (0 for the CPU)
    double memory_bandwidth_gb_s = 0; ///< a device's peak memory bandwidth; 0 when unknown
};

/// The backends usable here; the CPU backend is always first and always present, then one entry
/// per usable GPU when this build has the CUDA backend.
[[nodiscard]] std::vector<BackendInfo> available_backends();

/// A backend and device chosen on a command line (`--device`).
struct DeviceChoice {
    BackendKind kind = BackendKind::cpu;
    int device = 0;
};

/// Parses "cpu", "cuda" (= cuda:0), "cuda:N" or "auto" (the first usable GPU, else the CPU);
/// nullopt for anything else. "cuda:N" parses whether or not that device exists (creating the
/// engine then fails with errc::unsupported).
[[nodiscard]] std::optional<DeviceChoice> parse_device(std::string_view text);

[[nodiscard]] const char* backend_kind_name(BackendKind kind) noexcept;

} // namespace agentd::inference
