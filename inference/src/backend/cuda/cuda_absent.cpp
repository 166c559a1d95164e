// The CUDA entry points of a build without the CUDA backend (AGENTD_CUDA off or no nvcc): no
// devices, and asking for one is an errc::unsupported error naming the reason.
#include "agentd/inference/errc.h"

#include "backend/cuda/cuda_registry.h"

namespace agentd::inference::cuda {

std::vector<BackendInfo> cuda_devices() {
    return {};
}

base::Result<std::unique_ptr<backend::Backend>>
make_cuda_backend(const backend::BackendOptions& /*options*/) {
    return base::fail(errc::unsupported,
                      "this build has no CUDA backend (configure with -DAGENTD_CUDA=on)");
}

} // namespace agentd::inference::cuda
