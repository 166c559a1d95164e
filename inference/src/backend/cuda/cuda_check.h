#pragma once
/// AGENTD_CUDA_CHECK (STYLE.md 2.7 "CUDA failures"): a CUDA runtime or cuBLAS call that fails
/// where failure means a bug or a lost device (a launch error, an illegal address, a failed copy
/// of our own memory) aborts with file, line, the call and the runtime's message. Allocation
/// failures are not checked this way: they are errc::device_oom values (cuda_backend.cpp).
///
/// Also: the owning handles of CUDA objects (STYLE.md "C handles": a deleter struct per type).

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <type_traits>

namespace agentd::inference::cuda::detail {

[[noreturn]] inline void cuda_failed(const char* file, int line, const char* call,
                                     const char* what) noexcept {
    std::fprintf(stderr, "agentd: CUDA call failed at %s:%d: %s: %s\n", file, line, call, what);
    std::fflush(stderr);
    std::abort();
}

inline const char* error_text(cudaError_t e) noexcept {
    return cudaGetErrorString(e);
}

inline const char* error_text(cublasStatus_t s) noexcept {
    return cublasGetStatusString(s);
}

inline bool failed(cudaError_t e) noexcept {
    return e != cudaSuccess;
}

inline bool failed(cublasStatus_t s) noexcept {
    return s != CUBLAS_STATUS_SUCCESS;
}

} // namespace agentd::inference::cuda::detail

#define AGENTD_CUDA_CHECK(call)                                                                    \
    do {                                                                                           \
        const auto agentd_cuda_status_ = (call);                                                   \
        if (::agentd::inference::cuda::detail::failed(agentd_cuda_status_)) [[unlikely]] {         \
            ::agentd::inference::cuda::detail::cuda_failed(                                        \
                __FILE__, __LINE__, #call,                                                         \
                ::agentd::inference::cuda::detail::error_text(agentd_cuda_status_));               \
        }                                                                                          \
    } while (false)

/// Checks the launch that was just enqueued (bad configuration, missing kernel image).
#define AGENTD_CUDA_CHECK_LAUNCH() AGENTD_CUDA_CHECK(cudaGetLastError())

namespace agentd::inference::cuda {

struct StreamDeleter {
    void operator()(cudaStream_t s) const noexcept { cudaStreamDestroy(s); }
};
struct EventDeleter {
    void operator()(cudaEvent_t e) const noexcept { cudaEventDestroy(e); }
};
struct CublasDeleter {
    void operator()(cublasHandle_t h) const noexcept { cublasDestroy(h); }
};
struct GraphExecDeleter {
    void operator()(cudaGraphExec_t g) const noexcept { cudaGraphExecDestroy(g); }
};
struct GraphDeleter {
    void operator()(cudaGraph_t g) const noexcept { cudaGraphDestroy(g); }
};
struct DeviceMemDeleter {
    void operator()(void* p) const noexcept { cudaFree(p); }
};
struct HostMemDeleter {
    void operator()(void* p) const noexcept { cudaFreeHost(p); }
};

using StreamPtr = std::unique_ptr<std::remove_pointer_t<cudaStream_t>, StreamDeleter>;
using EventPtr = std::unique_ptr<std::remove_pointer_t<cudaEvent_t>, EventDeleter>;
using CublasPtr = std::unique_ptr<std::remove_pointer_t<cublasHandle_t>, CublasDeleter>;
using GraphExecPtr = std::unique_ptr<std::remove_pointer_t<cudaGraphExec_t>, GraphExecDeleter>;
using GraphPtr = std::unique_ptr<std::remove_pointer_t<cudaGraph_t>, GraphDeleter>;
using DeviceMem = std::unique_ptr<void, DeviceMemDeleter>;
using HostMem = std::unique_ptr<void, HostMemDeleter>;

} // namespace agentd::inference::cuda
