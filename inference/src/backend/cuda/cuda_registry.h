#pragma once
/// The CUDA backend's entry points for the backend registry (backend/registry.cpp). Plain C++:
/// no CUDA header is visible through it, so the registry compiles the same with or without the
/// CUDA backend. When the build has no CUDA backend, cuda_absent.cpp provides these functions
/// (no devices; creating a backend fails with errc::unsupported).
///
/// Thread-safe (device enumeration is done once and cached). Errors as documented per function.

#include "agentd/base/result.h"
#include "agentd/inference/backend_info.h"

#include "backend/backend.h"

#include <memory>
#include <vector>

namespace agentd::inference::cuda {

/// One entry per usable CUDA device (compute capability 8.0 or newer), in device order; empty
/// when the build has no CUDA backend, no driver is loaded or no device exists.
[[nodiscard]] std::vector<BackendInfo> cuda_devices();

/// A CUDA backend on device `options.device`: errc::unsupported when there is no such usable
/// device (or no CUDA backend in this build), errc::device_oom when its start-up allocations fail.
[[nodiscard]] base::Result<std::unique_ptr<backend::Backend>>
make_cuda_backend(const backend::BackendOptions& options);

} // namespace agentd::inference::cuda
