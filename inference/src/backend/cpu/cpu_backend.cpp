#include "backend/cpu/cpu_backend.h"

#include "agentd/base/check.h"
#include "agentd/inference/errc.h"

#include "backend/cpu/cpu_kv_storage.h"
#include "quant/block_formats.h"
#include "quant/quantize_ref.h"

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <new>
#include <sys/mman.h>
#include <sys/sysinfo.h>

namespace agentd::inference::cpu {
namespace {

using backend::Tensor;

/// Zero-initialised host memory: anonymous mmap (committed lazily) for large buffers.
class HostBuffer final : public backend::Buffer {
public:
    static HostBuffer* create(std::size_t bytes) {
        const std::size_t size = bytes == 0 ? 1 : bytes;
        void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            return nullptr;
        }
        return new (std::nothrow) HostBuffer(p, size);
    }
    ~HostBuffer() override { munmap(data(), size()); }

private:
    HostBuffer(void* p, std::size_t size) : Buffer(p, size, true) {}
};

/// Host memory owned by someone else (mmapped weights).
class ImportedBuffer final : public backend::Buffer {
public:
    ImportedBuffer(const void* p, std::size_t size) : Buffer(const_cast<void*>(p), size, true) {}
};

} // namespace

CpuBackend::CpuBackend(int n_threads, Isa isa)
    : pool_(n_threads > 0 ? n_threads : static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN))), isa_(isa),
      kt_(kernel_table(isa)) {
    AGENTD_CHECK(kt_ != nullptr, "CpuBackend needs an ISA this CPU supports");
}

CpuBackend::~CpuBackend() = default;

std::string CpuBackend::detail() const {
    return std::string(isa_name(isa_)) + ", " + std::to_string(pool_.size()) + " threads";
}

backend::MemoryInfo CpuBackend::memory_info() const {
    struct sysinfo si {};
    backend::MemoryInfo m;
    if (sysinfo(&si) == 0) {
        m.total_bytes = static_cast<std::size_t>(si.totalram) * si.mem_unit;
        m.free_bytes = static_cast<std::size_t>(si.freeram + si.bufferram) * si.mem_unit;
    }
    return m;
}

bool CpuBackend::supports(backend::Op op, TensorType type) const noexcept {
    switch (op) {
    case backend::Op::matmul:
    case backend::Op::embed:
        return type != TensorType::i32 && kt_->gemm[static_cast<int>(type)] != nullptr;
    case backend::Op::kv_write:
    case backend::Op::attention:
        return type == TensorType::f32 || type == TensorType::f16;
    default:
        return type == TensorType::f32;
    }
}

base::Result<backend::BufferPtr> CpuBackend::alloc(std::size_t bytes, bool /*host_visible*/) {
    HostBuffer* b = HostBuffer::create(bytes);
    if (b == nullptr) {
        return base::fail(errc::device_oom,
                          "cannot allocate " + std::to_string(bytes) + " bytes of host memory");
    }
    return backend::BufferPtr(b);
}

base::Result<backend::BufferPtr> CpuBackend::import_host(const void* data, std::size_t bytes) {
    return backend::BufferPtr(std::make_unique<ImportedBuffer>(data, bytes));
}

void CpuBackend::upload(backend::Buffer& dst, std::size_t offset, std::span<const std::byte> src) {
    AGENTD_CHECK(offset + src.size() <= dst.size(), "upload past the end of a buffer");
    std::memcpy(static_cast<std::uint8_t*>(dst.data()) + offset, src.data(), src.size());
}

void CpuBackend::download(const backend::Buffer& src, std::size_t offset,
                          std::span<std::byte> dst) {
    AGENTD_CHECK(offset + dst.size() <= src.size(), "download past the end of a buffer");
    std::memcpy(dst.data(), static_cast<const std::uint8_t*>(src.data()) + offset, dst.size());
}

void CpuBackend::download_rows(const Tensor& src, std::span<float> dst) {
    AGENTD_CHECK(src.type == TensorType::f32, "download_rows reads f32 tensors");
    AGENTD_CHECK(dst.size() >= static_cast<std::size_t>(src.rows * src.cols),
                 "download_rows destination too small");
    for (std::int64_t r = 0; r < src.rows; ++r) {
        std::memcpy(dst.data() + r * src.cols, src.row<float>(r),
                    static_cast<std::size_t>(src.cols) * sizeof(float));
    }
}

base::Result<backend::KvStoragePtr> CpuBackend::alloc_kv(const backend::KvSpec& spec) {
    if ((spec.type != TensorType::f32 && spec.type != TensorType::f16) || spec.block_size <= 0 ||
        spec.block_size % kAttnChunk != 0 || spec.n_layers <= 0 || spec.n_blocks <= 0 ||
        spec.n_kv_heads <= 0 || spec.head_dim <= 0) {
        return base::fail(errc::invalid_argument, "unsupported KV cache shape or type");
    }
    const std::size_t elem = spec.type == TensorType::f16 ? 2 : 4;
    const std::size_t bytes = 2 * static_cast<std::size_t>(spec.n_layers) * spec.n_blocks *
                              spec.n_kv_heads * spec.head_dim * spec.block_size * elem;
    auto buf = alloc(bytes, true);
    if (!buf) {
        return buf.error();
    }
    return backend::KvStoragePtr(std::make_unique<CpuKvStorage>(spec, std::move(*buf)));
}

void CpuBackend::set_step(const backend::StepLayout& layout) {
    tokens_.assign(layout.tokens.begin(), layout.tokens.end());
    positions_.assign(layout.positions.begin(), layout.positions.end());
    kv_slots_.assign(layout.kv_slots.begin(), layout.kv_slots.end());
    seqs_.assign(layout.seqs.begin(), layout.seqs.end());
    block_tables_.assign(layout.block_tables.begin(), layout.block_tables.end());
    output_rows_.assign(layout.output_rows.begin(), layout.output_rows.end());
    rope_valid_ = false;
}

namespace {

void dequantize_row(const Tensor& table, std::int64_t row, float* out) {
    const std::uint8_t* src = table.row<std::uint8_t>(row);
    const std::int64_t n = table.cols;
    switch (table.type) {
    case TensorType::f32:
        std::memcpy(out, src, static_cast<std::size_t>(n) * sizeof(float));
        break;
    case TensorType::f16:
    case TensorType::bf16:
        for (std::int64_t i = 0; i < n; ++i) {
            std::uint16_t h;
            std::memcpy(&h, src + 2 * i, 2);
            out[i] =
                table.type == TensorType::f16 ? quant::half_to_float(h) : quant::bf16_to_float(h);
        }
        break;
    case TensorType::q8_0:
        quant::dequantize_row_q8_0(reinterpret_cast<const quant::BlockQ8_0*>(src), out, n);
        break;
    case TensorType::q4_0:
        quant::dequantize_row_q4_0(reinterpret_cast<const quant::BlockQ4_0*>(src), out, n);
        break;
    case TensorType::q4_k:
        quant::dequantize_row_q4_k(reinterpret_cast<const quant::BlockQ4K*>(src), out, n);
        break;
    case TensorType::q6_k:
        quant::dequantize_row_q6_k(reinterpret_cast<const quant::BlockQ6K*>(src), out, n);
        break;
    case TensorType::i32:
        AGENTD_UNREACHABLE("embedding tables are float or quantised");
    }
}

} // namespace

void CpuBackend::embed(const Tensor& table, Tensor out) {
    AGENTD_CHECK(out.rows == static_cast<std::int64_t>(tokens_.size()) && out.cols == table.cols,
                 "embed output shape");
    parallel_for(out.rows, table.cols, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t t = b; t < e; ++t) {
            const std::int32_t id = tokens_[static_cast<std::size_t>(t)];
            AGENTD_CHECK(id >= 0 && id < table.rows, "token id validated by the engine");
            dequantize_row(table, id, out.row<float>(t));
        }
    });
}

void CpuBackend::rms_norm(const Tensor& x, const Tensor& weight, float eps, Tensor out) {
    AGENTD_CHECK(x.cols == weight.cols && out.rows == x.rows && out.cols == x.cols,
                 "rms_norm shapes");
    const float* w = weight.row<float>(0);
    parallel_for(x.rows, x.cols, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t r = b; r < e; ++r) {
            const float* xi = x.row<float>(r);
            float* yo = out.row<float>(r);
            // As ggml: products in float, summed in double; then x * scale, then * weight.
            double sum = 0.0;
            for (std::int64_t i = 0; i < x.cols; ++i) {
                sum += static_cast<double>(xi[i] * xi[i]);
            }
            const float mean = static_cast<float>(sum / static_cast<double>(x.cols));
            const float scale = 1.0f / std::sqrt(mean + eps);
            for (std::int64_t i = 0; i < x.cols; ++i) {
                yo[i] = (xi[i] * scale) * w[i];
            }
        }
    });
}

void CpuBackend::build_rope_cache(const backend::RopeParams& p) {
    rope_params_ = p;
    rope_factors_.assign(p.freq_factors.begin(), p.freq_factors.end());
    rope_params_.freq_factors = rope_factors_;
    const int n_dims = p.n_dims;
    const std::size_t n_tok = positions_.size();
    rope_cache_.resize(n_tok * static_cast<std::size_t>(n_dims));
    const float theta_scale = std::pow(p.freq_base, -2.0f / static_cast<float>(n_dims));
    float corr[2] = {0.0f, 0.0f};
    if (p.ext_factor != 0.0f) {
        // YaRN correction range, as ggml_rope_yarn_corr_dims.
        auto corr_dim = [&](float n_rot) {
            return static_cast<float>(n_dims) *
                   std::log(static_cast<float>(p.n_ctx_orig) /
                            (n_rot * 2.0f * static_cast<float>(M_PI))) /
                   (2.0f * std::log(p.freq_base));
        };
        corr[0] = std::max(0.0f, std::floor(corr_dim(p.beta_fast)));
        corr[1] = std::min(static_cast<float>(n_dims - 1), std::ceil(corr_dim(p.beta_slow)));
    }
    float mscale = p.attn_factor;
    if (p.ext_factor != 0.0f) {
        mscale *= 1.0f + 0.1f * std::log(1.0f / p.freq_scale);
    }
    for (std::size_t t = 0; t < n_tok; ++t) {
        float* c = rope_cache_.data() + t * static_cast<std::size_t>(n_dims);
        float theta = static_cast<float>(positions_[t]);
        for (int i0 = 0; i0 < n_dims; i0 += 2) {
            const float ff =
                rope_factors_.empty() ? 1.0f : rope_factors_[static_cast<std::size_t>(i0 / 2)];
            const float extrap = theta / ff;
            const float interp = p.freq_scale * extrap;
            float th = interp;
            if (p.ext_factor != 0.0f) {
                const float y =
                    static_cast<float>(i0 / 2 - corr[0]) / std::max(0.001f, corr[1] - corr[0]);
                const float ramp = (1.0f - std::min(1.0f, std::max(0.0f, y))) * p.ext_factor;
                th = interp * (1.0f - ramp) + extrap * ramp;
            }
            c[i0] = std::cos(th) * mscale;
            c[i0 + 1] = std::sin(th) * mscale;
            theta *= theta_scale;
        }
    }
    rope_valid_ = true;
}

void CpuBackend::rope(Tensor x, int n_heads, int head_dim, const backend::RopeParams& params) {
    AGENTD_CHECK(x.rows == static_cast<std::int64_t>(positions_.size()) &&
                     x.cols == static_cast<std::int64_t>(n_heads) * head_dim &&
                     params.n_dims <= head_dim && params.n_dims % 2 == 0,
                 "rope shapes");
    const bool same = rope_valid_ && rope_params_.kind == params.kind &&
                      rope_params_.n_dims == params.n_dims &&
                      rope_params_.freq_base == params.freq_base &&
                      rope_params_.freq_scale == params.freq_scale &&
                      rope_params_.ext_factor == params.ext_factor &&
                      rope_params_.attn_factor == params.attn_factor &&
                      rope_factors_.size() == params.freq_factors.size();
    if (!same) {
        build_rope_cache(params);
    }
    const int n_dims = params.n_dims;
    const bool neox = params.kind == backend::RopeKind::neox;
    parallel_for(x.rows, x.cols, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t t = b; t < e; ++t) {
            const float* c = rope_cache_.data() + t * n_dims;
            float* row = x.row<float>(t);
            for (int h = 0; h < n_heads; ++h) {
                float* v = row + static_cast<std::ptrdiff_t>(h) * head_dim;
                for (int i0 = 0; i0 < n_dims; i0 += 2) {
                    const int a = neox ? i0 / 2 : i0;
                    const int bidx = neox ? i0 / 2 + n_dims / 2 : i0 + 1;
                    const float x0 = v[a];
                    const float x1 = v[bidx];
                    v[a] = x0 * c[i0] - x1 * c[i0 + 1];
                    v[bidx] = x0 * c[i0 + 1] + x1 * c[i0];
                }
            }
        }
    });
}

void CpuBackend::swiglu(const Tensor& gate, const Tensor& up, Tensor out) {
    AGENTD_CHECK(gate.rows == up.rows && gate.cols == up.cols && out.rows == gate.rows &&
                     out.cols == gate.cols,
                 "swiglu shapes");
    const auto fn = kt_->vec.swiglu;
    if (gate.rows == 1) {
        // Decode: split the one row.
        parallel_for(gate.cols, 8, [&](std::int64_t b, std::int64_t e) {
            fn(gate.row<float>(0) + b, up.row<float>(0) + b, out.row<float>(0) + b, e - b);
        });
        return;
    }
    parallel_for(gate.rows, gate.cols * 8, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t r = b; r < e; ++r) {
            fn(gate.row<float>(r), up.row<float>(r), out.row<float>(r), gate.cols);
        }
    });
}

namespace {

template <class Op>
void elementwise(const Tensor& a, const Tensor& b, Tensor out, std::int64_t rb, std::int64_t re,
                 Op op) {
    for (std::int64_t r = rb; r < re; ++r) {
        const float* x = a.row<float>(r);
        const float* y = b.row<float>(b.rows == 1 ? 0 : r);
        float* o = out.row<float>(r);
        for (std::int64_t i = 0; i < a.cols; ++i) {
            o[i] = op(x[i], y[i]);
        }
    }
}

} // namespace

void CpuBackend::add(const Tensor& a, const Tensor& b, Tensor out) {
    AGENTD_CHECK(a.cols == b.cols && (b.rows == a.rows || b.rows == 1) && out.rows == a.rows,
                 "add shapes");
    parallel_for(a.rows, a.cols, [&](std::int64_t rb, std::int64_t re) {
        elementwise(a, b, out, rb, re, [](float x, float y) { return x + y; });
    });
}

void CpuBackend::mul(const Tensor& a, const Tensor& b, Tensor out) {
    AGENTD_CHECK(a.cols == b.cols && (b.rows == a.rows || b.rows == 1) && out.rows == a.rows,
                 "mul shapes");
    parallel_for(a.rows, a.cols, [&](std::int64_t rb, std::int64_t re) {
        elementwise(a, b, out, rb, re, [](float x, float y) { return x * y; });
    });
}

void CpuBackend::softmax(Tensor x) {
    const auto exp_sum = kt_->vec.exp_sum;
    parallel_for(x.rows, x.cols * 4, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t r = b; r < e; ++r) {
            float* v = x.row<float>(r);
            float max = -INFINITY;
            for (std::int64_t i = 0; i < x.cols; ++i) {
                max = std::max(max, v[i]);
            }
            const float inv = 1.0f / exp_sum(v, max, x.cols);
            for (std::int64_t i = 0; i < x.cols; ++i) {
                v[i] *= inv;
            }
        }
    });
}

void CpuBackend::gather_rows(const Tensor& x, Tensor out) {
    AGENTD_CHECK(out.rows == static_cast<std::int64_t>(output_rows_.size()) && out.cols == x.cols,
                 "gather_rows shapes");
    for (std::int64_t i = 0; i < out.rows; ++i) {
        const std::int32_t r = output_rows_[static_cast<std::size_t>(i)];
        AGENTD_CHECK(r >= 0 && r < x.rows, "output row inside the batch");
        std::memmove(out.row<float>(i), x.row<float>(r),
                     static_cast<std::size_t>(x.cols) * sizeof(float));
    }
}

} // namespace agentd::inference::cpu
