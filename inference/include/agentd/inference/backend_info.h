#pragma once
/// Which compute backends this build and machine offer (STYLE.md 2.7).
///
/// The backend interface itself is internal to the engine; callers pick one by kind through
/// EngineOptions. Thread-safe; no errors.

#include <string>
#include <vector>

namespace agentd::inference {

enum class BackendKind { cpu, cuda };

struct BackendInfo {
    BackendKind kind = BackendKind::cpu;
    std::string name;   ///< "cpu", "cuda:0", ...
    std::string detail; ///< e.g. the SIMD level in use ("avx512") or the device model
};

/// The backends usable here; the CPU backend is always first and always present.
[[nodiscard]] std::vector<BackendInfo> available_backends();

[[nodiscard]] const char* backend_kind_name(BackendKind kind) noexcept;

} // namespace agentd::inference
