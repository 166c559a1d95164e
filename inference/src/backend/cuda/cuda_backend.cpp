// CudaBackend: device discovery, start-up, memory (buffers, the model image, the KV pool, the
// workspace) and the registry entry points (cuda_registry.h).
#include "backend/cuda/cuda_backend.h"

#include "agentd/base/check.h"
#include "agentd/inference/errc.h"

#include "backend/cuda/cuda_kv_storage.h"
#include "backend/cuda/cuda_registry.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace agentd::inference::cuda {
namespace {

/// cuBLAS workspace (set once, so cuBLAS never allocates and its calls can be captured).
constexpr std::size_t kCublasWorkspace = std::size_t{32} << 20;

std::string mib(std::size_t bytes) {
    return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB";
}

/// A failed allocation leaves an error the next check would see; clear it.
base::Error oom(std::size_t bytes, const char* what, cudaError_t e) {
    (void)cudaGetLastError();
    return base::fail(errc::device_oom, std::string("cannot allocate ") + mib(bytes) + " of " +
                                            what + " (" + cudaGetErrorString(e) + ")");
}

/// Device memory (or pinned host memory when host-visible) of one backend.
class DeviceBuffer final : public backend::Buffer {
public:
    DeviceBuffer(CudaBackend& be, void* p, std::size_t size, bool pinned)
        : Buffer(p, size, pinned), be_(be), pinned_(pinned) {
        if (!pinned_) {
            be_.register_allocation(p, size);
        }
    }
    ~DeviceBuffer() override {
        if (pinned_) {
            cudaFreeHost(data());
        } else {
            be_.unregister_allocation(data());
            cudaFree(data());
        }
    }

private:
    CudaBackend& be_;
    bool pinned_;
};

} // namespace

base::Result<DeviceProps> query_device(int index) {
    int count = 0;
    if (const cudaError_t e = cudaGetDeviceCount(&count); e != cudaSuccess) {
        (void)cudaGetLastError();
        return base::fail(errc::unsupported,
                          std::string("no usable CUDA device: ") + cudaGetErrorString(e));
    }
    if (index < 0 || index >= count) {
        return base::fail(errc::unsupported, "no CUDA device " + std::to_string(index) + " (" +
                                                 std::to_string(count) + " found)");
    }
    cudaDeviceProp p{};
    AGENTD_CUDA_CHECK(cudaGetDeviceProperties(&p, index));
    if (p.major < 8) {
        return base::fail(errc::unsupported,
                          "CUDA device " + std::to_string(index) + " (" + p.name +
                              ") has compute capability " + std::to_string(p.major) + "." +
                              std::to_string(p.minor) + "; the CUDA backend needs 8.0 or newer");
    }
    DeviceProps d;
    d.index = index;
    d.name = p.name;
    d.cc_major = p.major;
    d.cc_minor = p.minor;
    d.sm_count = p.multiProcessorCount;
    d.total_memory = p.totalGlobalMem;
    d.smem_optin = p.sharedMemPerBlockOptin;
    int clock_khz = 0;
    int bus_bits = 0;
    if (cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, index) == cudaSuccess &&
        cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, index) == cudaSuccess) {
        // Double data rate: two transfers per clock.
        d.bandwidth_gb_s = 2.0 * clock_khz * 1e3 * (bus_bits / 8.0) / 1e9;
    }
    (void)cudaGetLastError();
    return d;
}

std::vector<BackendInfo> cuda_devices() {
    static std::once_flag once;
    static std::vector<BackendInfo> devices;
    std::call_once(once, [] {
        int count = 0;
        if (cudaGetDeviceCount(&count) != cudaSuccess) {
            (void)cudaGetLastError();
            return;
        }
        for (int i = 0; i < count; ++i) {
            auto p = query_device(i);
            if (!p) {
                continue;
            }
            BackendInfo b;
            b.kind = BackendKind::cuda;
            b.name = "cuda:" + std::to_string(i);
            b.detail = p->name + ", sm_" + std::to_string(p->cc_major * 10 + p->cc_minor) + ", " +
                       mib(p->total_memory);
            b.device = i;
            b.memory_bytes = p->total_memory;
            b.memory_bandwidth_gb_s = p->bandwidth_gb_s;
            devices.push_back(std::move(b));
        }
    });
    return devices;
}

base::Result<std::unique_ptr<backend::Backend>>
make_cuda_backend(const backend::BackendOptions& options) {
    auto be = CudaBackend::create(options.device);
    if (!be) {
        return be.error();
    }
    return std::unique_ptr<backend::Backend>(std::move(*be));
}

CudaBackend::CudaBackend(DeviceProps props) : props_(std::move(props)) {}

CudaBackend::~CudaBackend() {
    // Work still queued may use buffers the caller frees next; graphs reference workspace.
    if (stream_) {
        cudaStreamSynchronize(stream_.get());
    }
    clear_graphs();
}

base::Result<std::unique_ptr<CudaBackend>> CudaBackend::create(int index) {
    auto props = query_device(index);
    if (!props) {
        return props.error();
    }
    std::unique_ptr<CudaBackend> be(new CudaBackend(std::move(*props)));
    if (auto r = be->init(); !r) {
        return r.error();
    }
    return be;
}

base::Result<void> CudaBackend::init() {
    AGENTD_CUDA_CHECK(cudaSetDevice(props_.index));
    cudaStream_t s = nullptr;
    if (const cudaError_t e = cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
        e != cudaSuccess) {
        return oom(0, "a CUDA stream", e);
    }
    stream_.reset(s);
    cudaEvent_t ev = nullptr;
    AGENTD_CUDA_CHECK(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming));
    upload_done_.reset(ev);
    cublasHandle_t h = nullptr;
    if (const cublasStatus_t st = cublasCreate(&h); st != CUBLAS_STATUS_SUCCESS) {
        return base::fail(errc::device_oom,
                          std::string("cannot start cuBLAS: ") + cublasGetStatusString(st));
    }
    cublas_.reset(h);
    void* ws = nullptr;
    if (const cudaError_t e = cudaMalloc(&ws, kCublasWorkspace); e != cudaSuccess) {
        return oom(kCublasWorkspace, "cuBLAS workspace", e);
    }
    cublas_workspace_.reset(ws);
    AGENTD_CUDA_CHECK(cublasSetStream(h, stream_.get()));
    AGENTD_CUDA_CHECK(cublasSetWorkspace(h, ws, kCublasWorkspace));
    // Tensor cores for the half-precision products; F32 weights ask for
    // CUBLAS_COMPUTE_32F_PEDANTIC per call (full FP32, no TF32, as the CPU oracle computes).
    AGENTD_CUDA_CHECK(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH));
    // AGENTD_CUDA_GRAPHS=0 runs decode steps op by op (for comparisons and debugging).
    if (const char* g = std::getenv("AGENTD_CUDA_GRAPHS"); g != nullptr && std::string(g) == "0") {
        graphs_enabled_ = false;
    }
    if (!attention_configure(props_.smem_optin)) {
        return base::fail(errc::unsupported,
                          "CUDA device " + props_.name + " has too little shared memory per block");
    }
    return {};
}

std::string CudaBackend::detail() const {
    return "cuda:" + std::to_string(props_.index) + ", " + props_.name + ", sm_" +
           std::to_string(props_.cc_major * 10 + props_.cc_minor) + ", " +
           std::to_string(props_.sm_count) + " SMs" + (graphs_enabled_ ? ", graphs" : "");
}

backend::MemoryInfo CudaBackend::memory_info() const {
    backend::MemoryInfo m;
    std::size_t free_b = 0;
    std::size_t total_b = 0;
    if (cudaMemGetInfo(&free_b, &total_b) == cudaSuccess) {
        m.free_bytes = free_b;
        m.total_bytes = total_b;
    } else {
        (void)cudaGetLastError();
    }
    return m;
}

bool CudaBackend::supports(backend::Op op, TensorType type) const noexcept {
    switch (op) {
    case backend::Op::matmul:
    case backend::Op::embed:
        return type == TensorType::f32 || type == TensorType::f16 || type == TensorType::bf16 ||
               type == TensorType::q8_0 || type == TensorType::q4_0 || type == TensorType::q4_k ||
               type == TensorType::q6_k;
    case backend::Op::kv_write:
    case backend::Op::attention:
        return type == TensorType::f32 || type == TensorType::f16;
    default:
        return type == TensorType::f32;
    }
}

void CudaBackend::register_allocation(const void* p, std::size_t bytes) {
    allocations_[reinterpret_cast<std::uintptr_t>(p)] = bytes;
}

void CudaBackend::unregister_allocation(const void* p) noexcept {
    allocations_.erase(reinterpret_cast<std::uintptr_t>(p));
}

bool CudaBackend::view_fits(const DevTensor& t) const {
    if (t.rows == 0) {
        return true;
    }
    const auto begin = reinterpret_cast<std::uintptr_t>(t.data);
    auto it = allocations_.upper_bound(begin);
    if (it == allocations_.begin()) {
        return false;
    }
    --it;
    const auto rb = row_bytes(t.type, t.cols);
    if (!rb) {
        return false;
    }
    const std::uintptr_t end = begin + static_cast<std::uintptr_t>(t.rows - 1) * t.stride + *rb;
    return begin >= it->first && end <= it->first + it->second;
}

base::Result<backend::BufferPtr> CudaBackend::alloc(std::size_t bytes, bool host_visible) {
    const std::size_t size = bytes == 0 ? 256 : bytes;
    void* p = nullptr;
    if (host_visible) {
        if (const cudaError_t e = cudaMallocHost(&p, size); e != cudaSuccess) {
            return oom(size, "pinned host memory", e);
        }
        std::memset(p, 0, size);
    } else {
        if (const cudaError_t e = cudaMalloc(&p, size); e != cudaSuccess) {
            return oom(size, "device memory", e);
        }
        // Zeroed as the CPU backend's memory is, so unwritten scratch rows are finite.
        AGENTD_CUDA_CHECK(cudaMemsetAsync(p, 0, size, stream_.get()));
    }
    return backend::BufferPtr(std::make_unique<DeviceBuffer>(*this, p, size, host_visible));
}

base::Result<backend::BufferPtr> CudaBackend::import_host(const void* data, std::size_t bytes) {
    auto buf = alloc(bytes, false);
    if (!buf) {
        return buf.error();
    }
    // Uploaded once, kept as the file has it (quantised weights stay quantised on the device).
    // Copies go through our stream (a non-blocking one: the legacy default stream's cudaMemcpy
    // would not be ordered with it) and are waited for.
    AGENTD_CUDA_CHECK(
        cudaMemcpyAsync((*buf)->data(), data, bytes, cudaMemcpyHostToDevice, stream_.get()));
    AGENTD_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
    return buf;
}

void CudaBackend::upload(backend::Buffer& dst, std::size_t offset, std::span<const std::byte> src) {
    AGENTD_CHECK(offset <= dst.size() && src.size() <= dst.size() - offset,
                 "upload past the end of a buffer");
    flush();
    AGENTD_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
    auto* p = static_cast<std::uint8_t*>(dst.data()) + offset;
    if (dst.host_visible()) {
        std::memcpy(p, src.data(), src.size());
    } else {
        AGENTD_CUDA_CHECK(
            cudaMemcpyAsync(p, src.data(), src.size(), cudaMemcpyHostToDevice, stream_.get()));
        AGENTD_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
    }
}

void CudaBackend::download(const backend::Buffer& src, std::size_t offset,
                           std::span<std::byte> dst) {
    AGENTD_CHECK(offset <= src.size() && dst.size() <= src.size() - offset,
                 "download past the end of a buffer");
    flush();
    AGENTD_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
    const auto* p = static_cast<const std::uint8_t*>(src.data()) + offset;
    if (src.host_visible()) {
        std::memcpy(dst.data(), p, dst.size());
    } else {
        AGENTD_CUDA_CHECK(
            cudaMemcpyAsync(dst.data(), p, dst.size(), cudaMemcpyDeviceToHost, stream_.get()));
        AGENTD_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
    }
}

void CudaBackend::download_rows(const backend::Tensor& src, std::span<float> dst) {
    AGENTD_CHECK(src.type == TensorType::f32, "download_rows reads f32 tensors");
    const std::size_t row = static_cast<std::size_t>(src.cols) * sizeof(float);
    const std::size_t bytes = static_cast<std::size_t>(src.rows) * row;
    AGENTD_CHECK(dst.size() >= static_cast<std::size_t>(src.rows * src.cols),
                 "download_rows destination too small");
    flush();
    if (bytes == 0) {
        AGENTD_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
        return;
    }
    // Small copies (decode logits) go through pinned staging: a full-speed DMA, then one host
    // memcpy. Large ones, or when pinned memory is short, copy straight into the caller's memory.
    constexpr std::size_t kMaxStaging = std::size_t{64} << 20;
    if (bytes > download_cap_ && bytes <= kMaxStaging) {
        AGENTD_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
        download_staging_.reset();
        download_cap_ = 0;
        void* p = nullptr;
        if (cudaMallocHost(&p, bytes) == cudaSuccess) {
            download_staging_.reset(p);
            download_cap_ = bytes;
        } else {
            (void)cudaGetLastError();
        }
    }
    const bool staged = bytes <= download_cap_;
    void* to = staged ? download_staging_.get() : static_cast<void*>(dst.data());
    AGENTD_CUDA_CHECK(cudaMemcpy2DAsync(to, row, src.data, src.stride, row,
                                        static_cast<std::size_t>(src.rows), cudaMemcpyDefault,
                                        stream_.get()));
    AGENTD_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
    if (staged) {
        std::memcpy(dst.data(), download_staging_.get(), bytes);
    }
}

void CudaBackend::synchronize() {
    flush();
    AGENTD_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
}

base::Result<backend::KvStoragePtr> CudaBackend::alloc_kv(const backend::KvSpec& spec) {
    if ((spec.type != TensorType::f32 && spec.type != TensorType::f16) || spec.block_size <= 0 ||
        spec.block_size % 16 != 0 || spec.n_layers <= 0 || spec.n_blocks <= 0 ||
        spec.n_kv_heads <= 0 || spec.head_dim <= 0) {
        return base::fail(errc::invalid_argument, "unsupported KV cache shape or type");
    }
    if (spec.head_dim > kAttnMaxHeadDim) {
        return base::fail(errc::unsupported,
                          "the CUDA backend's attention takes head sizes up to " +
                              std::to_string(kAttnMaxHeadDim) + ", not " +
                              std::to_string(spec.head_dim));
    }
    const std::size_t elem = spec.type == TensorType::f16 ? 2 : 4;
    const std::size_t bytes = 2 * static_cast<std::size_t>(spec.n_layers) * spec.n_blocks *
                              spec.n_kv_heads * spec.head_dim * spec.block_size * elem;
    auto buf = alloc(bytes, false);
    if (!buf) {
        return buf.error();
    }
    return backend::KvStoragePtr(std::make_unique<CudaKvStorage>(spec, std::move(*buf)));
}

void CudaBackend::ensure(DeviceMem& buf, std::size_t& cap, std::size_t bytes) {
    if (bytes <= cap) {
        return;
    }
    const std::size_t size = std::max(bytes, cap + cap / 2);
    // The old buffer may still be read by queued work, and graphs point into it.
    AGENTD_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
    clear_graphs();
    buf.reset();
    cap = 0;
    void* p = nullptr;
    const cudaError_t e = cudaMalloc(&p, size);
    AGENTD_CHECK(e == cudaSuccess,
                 "CUDA workspace beyond reserve_workspace's sizes could not be allocated");
    buf.reset(p);
    cap = size;
}

base::Result<void> CudaBackend::reserve_workspace(const backend::WorkspaceHint& h) {
    if (h.max_tokens <= 0 || h.max_k <= 0 || h.head_dim <= 0 || h.n_kv_head <= 0 || h.n_head <= 0 ||
        h.kv_block_size <= 0) {
        return base::fail(errc::invalid_argument, "workspace hint with empty sizes");
    }
    const auto rows = static_cast<std::int64_t>(h.max_tokens);
    // Decode graphs pad a step's rows up to the largest bucket.
    const std::int64_t padded = std::max<std::int64_t>(rows, decode_bucket(128));
    const std::int64_t k = (h.max_k + 255) / 256 * 256;
    const int group = std::max(1, h.n_head / h.n_kv_head);
    const std::int64_t small_items = padded * h.n_kv_head;
    // Every sequence of a pass may hold a full context's block table; past 1M entries (4 MiB)
    // the step data grows when a step needs it.
    const std::int64_t table_entries = std::min<std::int64_t>(
        rows * ((static_cast<std::int64_t>(h.n_ctx) + h.kv_block_size - 1) / h.kv_block_size + 1),
        std::int64_t{1} << 20);
    // Small items: one per sequence and KV head; large: 16-row tiles of every sequence's rows.
    const std::int64_t items = small_items + (rows * group / kAttnTileRows + rows) * h.n_kv_head;
    struct Need {
        DeviceMem* buf;
        std::size_t* cap;
        std::size_t bytes;
        const char* what;
    };
    const Need needs[] = {
        {&act_q8_, &act_q8_cap_, act_q8_layout(rows, k, 32).bytes, "Q8 activations"},
        {&act_q8k_, &act_q8k_cap_, act_q8_layout(rows, k, 256).bytes, "Q8_K activations"},
        {&act_half_, &act_half_cap_, static_cast<std::size_t>(rows * k) * 2, "half activations"},
        {&partials_, &partials_cap_,
         attention_partial_floats(static_cast<int>(small_items) + 2 * props_.sm_count, 1,
                                  h.head_dim) *
             sizeof(float),
         "attention partials"},
        {&rope_table_, &rope_table_cap_,
         static_cast<std::size_t>(rows) * static_cast<std::size_t>(std::max(2, h.rope_dims)) *
             sizeof(float),
         "the RoPE table"},
    };
    AGENTD_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
    for (const Need& n : needs) {
        if (n.bytes <= *n.cap) {
            continue;
        }
        clear_graphs();
        n.buf->reset();
        *n.cap = 0;
        void* p = nullptr;
        if (const cudaError_t e = cudaMalloc(&p, n.bytes); e != cudaSuccess) {
            return oom(n.bytes, n.what, e);
        }
        n.buf->reset(p);
        *n.cap = n.bytes;
    }
    // Step data: rows up to the largest decode bucket for padded graph steps.
    return size_step_buffer(padded, table_entries, items);
}

base::Result<void> CudaBackend::size_step_buffer(std::int64_t rows, std::int64_t tables,
                                                 std::int64_t items) {
    if (rows <= cap_rows_ && tables <= cap_tables_ && items <= cap_items_) {
        return {};
    }
    const StepCaps caps{std::max(rows, cap_rows_), std::max(tables, cap_tables_),
                        std::max(items, cap_items_)};
    const std::size_t host_bytes = step_bytes(caps);
    AGENTD_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
    AGENTD_CUDA_CHECK(cudaEventSynchronize(upload_done_.get()));
    clear_graphs();
    step_buf_.reset();
    staging_.reset();
    cap_rows_ = cap_tables_ = cap_items_ = 0;
    void* d = nullptr;
    if (const cudaError_t e = cudaMalloc(&d, host_bytes); e != cudaSuccess) {
        return oom(host_bytes, "step data", e);
    }
    step_buf_.reset(d);
    void* h = nullptr;
    if (const cudaError_t e = cudaMallocHost(&h, host_bytes); e != cudaSuccess) {
        return oom(host_bytes, "pinned step data", e);
    }
    staging_.reset(h);
    cap_rows_ = caps.rows;
    cap_tables_ = caps.tables;
    cap_items_ = caps.items;
    return {};
}

} // namespace agentd::inference::cuda
