// Backend registry (make_backend, available_backends) and the Tensor view helpers.
#include "agentd/base/check.h"
#include "agentd/inference/backend_info.h"
#include "agentd/inference/errc.h"

#include "backend/backend.h"
#include "backend/cpu/cpu_backend.h"
#include "backend/cuda/cuda_registry.h"

#include <charconv>

namespace agentd::inference {

const char* backend_kind_name(BackendKind kind) noexcept {
    switch (kind) {
    case BackendKind::cpu:
        return "cpu";
    case BackendKind::cuda:
        return "cuda";
    }
    return "unknown";
}

std::vector<BackendInfo> available_backends() {
    std::vector<BackendInfo> out{
        BackendInfo{BackendKind::cpu, "cpu", cpu::isa_name(cpu::best_isa())}};
    for (auto& d : cuda::cuda_devices()) {
        out.push_back(std::move(d));
    }
    return out;
}

std::optional<DeviceChoice> parse_device(std::string_view text) {
    if (text == "cpu") {
        return DeviceChoice{BackendKind::cpu, 0};
    }
    if (text == "auto") {
        for (const auto& b : available_backends()) {
            if (b.kind == BackendKind::cuda) {
                return DeviceChoice{BackendKind::cuda, b.device};
            }
        }
        return DeviceChoice{BackendKind::cpu, 0};
    }
    if (text == "cuda") {
        return DeviceChoice{BackendKind::cuda, 0};
    }
    constexpr std::string_view prefix = "cuda:";
    if (text.size() > prefix.size() && text.substr(0, prefix.size()) == prefix) {
        const std::string_view num = text.substr(prefix.size());
        int index = -1;
        const auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), index);
        if (ec == std::errc() && end == num.data() + num.size() && index >= 0 && index < 1024) {
            return DeviceChoice{BackendKind::cuda, index};
        }
    }
    return std::nullopt;
}

namespace backend {

base::Result<std::unique_ptr<Backend>> make_backend(BackendKind kind,
                                                    const BackendOptions& options) {
    switch (kind) {
    case BackendKind::cpu:
        return std::unique_ptr<Backend>(
            std::make_unique<cpu::CpuBackend>(options.n_threads, cpu::best_isa()));
    case BackendKind::cuda:
        return cuda::make_cuda_backend(options);
    }
    return base::fail(errc::unsupported, std::string("backend '") + backend_kind_name(kind) +
                                             "' is not available in this build");
}

Tensor Tensor::contiguous(void* data, TensorType type, std::int64_t rows, std::int64_t cols) {
    const auto rb = row_bytes(type, cols);
    AGENTD_CHECK(rb.has_value(), "tensor row is a whole number of blocks");
    return Tensor{data, type, rows, cols, *rb};
}

Tensor Tensor::slice_rows(std::int64_t first, std::int64_t n) const {
    AGENTD_CHECK(first >= 0 && n >= 0 && first + n <= rows, "row slice inside the tensor");
    Tensor t = *this;
    t.data = static_cast<std::uint8_t*>(data) + static_cast<std::size_t>(first) * stride;
    t.rows = n;
    return t;
}

Tensor Tensor::slice_cols(std::int64_t first, std::int64_t n) const {
    AGENTD_CHECK(type == TensorType::f32 && first >= 0 && n >= 0 && first + n <= cols,
                 "column slice of an f32 tensor");
    Tensor t = *this;
    t.data = static_cast<float*>(data) + first;
    t.cols = n;
    return t;
}

Tensor Tensor::reshaped(std::int64_t new_rows, std::int64_t new_cols) const {
    AGENTD_CHECK(is_contiguous() && new_rows * new_cols == rows * cols,
                 "reshape of contiguous data");
    return contiguous(data, type, new_rows, new_cols);
}

bool Tensor::is_contiguous() const {
    const auto rb = row_bytes(type, cols);
    return rb.has_value() && (rows <= 1 || *rb == stride);
}

} // namespace backend
} // namespace agentd::inference
