// Row and elementwise kernels: embedding gather, RMSNorm, RoPE (angle table + rotation), SwiGLU,
// add / mul with row broadcast, softmax, row gather and bias add. Each follows the CPU
// backend's float operations (device_math.h) so results match it to rounding, or exactly where
// the CPU defines a single rounding (embedding rows, RoPE rotation, RMSNorm scaling).
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/device_reduce.h"
#include "backend/cuda/kernels.h"

namespace agentd::inference::cuda {
namespace {

__device__ __forceinline__ float* frow(const DevTensor& t, std::int64_t r) {
    return reinterpret_cast<float*>(static_cast<std::uint8_t*>(t.data) +
                                    static_cast<std::size_t>(r) * t.stride);
}

/// Threads for one block per row of `cols` elements (a multiple of 32, at most 256).
unsigned row_threads(std::int64_t cols) {
    if (cols >= 256) {
        return 256;
    }
    return cols >= 128 ? 128u : (cols >= 64 ? 64u : 32u);
}

unsigned grid_for(std::int64_t n, unsigned threads) {
    const std::int64_t blocks = (n + threads - 1) / threads;
    return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > (1 << 30) ? (1 << 30) : blocks));
}

__global__ void embed_kernel(DevTensor table, DevTensor out, const std::int32_t* tokens) {
    const std::int64_t t = blockIdx.x;
    const std::uint8_t* row = static_cast<const std::uint8_t*>(table.data) +
                              static_cast<std::size_t>(tokens[t]) * table.stride;
    float* o = frow(out, t);
    for (std::int64_t i = threadIdx.x; i < out.cols; i += blockDim.x) {
        o[i] = dev::dequant(row, table.type, i);
    }
}

__global__ void rms_norm_kernel(DevTensor x, const float* w, float eps, DevTensor out) {
    __shared__ double scratch[32];
    const float* xi = frow(x, blockIdx.x);
    float* yo = frow(out, blockIdx.x);
    // As the CPU backend (and ggml): squares in float, summed in double.
    double sum = 0.0;
    for (std::int64_t i = threadIdx.x; i < x.cols; i += blockDim.x) {
        sum += static_cast<double>(dev::mul_rn(xi[i], xi[i]));
    }
    sum = dev::block_sum(sum, scratch);
    const float mean = static_cast<float>(sum / static_cast<double>(x.cols));
    const float scale = 1.0f / sqrtf(mean + eps);
    for (std::int64_t i = threadIdx.x; i < x.cols; i += blockDim.x) {
        yo[i] = dev::mul_rn(dev::mul_rn(xi[i], scale), w[i]);
    }
}

__global__ void rope_table_kernel(const std::int32_t* positions, int n_tokens, dev::RopeConsts c,
                                  const float* freq_factors, float* table) {
    const int t = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
    if (t < n_tokens) {
        dev::rope_angles(positions[t], c, freq_factors,
                         table + static_cast<std::size_t>(t) * static_cast<std::size_t>(c.n_dims));
    }
}

__global__ void rope_kernel(DevTensor x, int n_heads, int head_dim, bool neox, int n_dims,
                            const float* table) {
    const int pairs = n_dims / 2;
    const std::int64_t total = x.rows * n_heads * pairs;
    for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
         i < total; i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        const int p = static_cast<int>(i % pairs);
        const int h = static_cast<int>((i / pairs) % n_heads);
        const std::int64_t t = i / (static_cast<std::int64_t>(pairs) * n_heads);
        float* v = frow(x, t) + static_cast<std::ptrdiff_t>(h) * head_dim;
        const float* cs = table + t * n_dims + 2 * p;
        int a = 0;
        int b = 0;
        dev::rope_pair(neox, n_dims, p, a, b);
        const float x0 = v[a];
        const float x1 = v[b];
        v[a] = dev::sub_rn(dev::mul_rn(x0, cs[0]), dev::mul_rn(x1, cs[1]));
        v[b] = dev::add_rn(dev::mul_rn(x0, cs[1]), dev::mul_rn(x1, cs[0]));
    }
}

__global__ void swiglu_kernel(DevTensor gate, DevTensor up, DevTensor out) {
    const std::int64_t total = gate.rows * gate.cols;
    for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
         i < total; i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        const std::int64_t r = i / gate.cols;
        const std::int64_t c = i % gate.cols;
        const float g = frow(gate, r)[c];
        frow(out, r)[c] = g / (1.0f + expf(-g)) * frow(up, r)[c];
    }
}

__global__ void binary_kernel(BinaryOp op, DevTensor a, DevTensor b, DevTensor out) {
    const std::int64_t total = a.rows * a.cols;
    for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
         i < total; i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        const std::int64_t r = i / a.cols;
        const std::int64_t c = i % a.cols;
        const float x = frow(a, r)[c];
        const float y = frow(b, b.rows == 1 ? 0 : r)[c];
        frow(out, r)[c] = op == BinaryOp::add ? x + y : x * y;
    }
}

__global__ void softmax_kernel(DevTensor x) {
    __shared__ float scratch[32];
    float* v = frow(x, blockIdx.x);
    float m = -INFINITY;
    for (std::int64_t i = threadIdx.x; i < x.cols; i += blockDim.x) {
        m = fmaxf(m, v[i]);
    }
    m = dev::block_max(m, scratch);
    float sum = 0.0f;
    for (std::int64_t i = threadIdx.x; i < x.cols; i += blockDim.x) {
        const float e = expf(v[i] - m);
        v[i] = e;
        sum += e;
    }
    sum = dev::block_sum(sum, scratch);
    const float inv = 1.0f / sum;
    for (std::int64_t i = threadIdx.x; i < x.cols; i += blockDim.x) {
        v[i] *= inv;
    }
}

__global__ void gather_rows_kernel(DevTensor x, DevTensor out, const std::int32_t* rows) {
    const float* src = frow(x, rows[blockIdx.x]);
    float* dst = frow(out, blockIdx.x);
    for (std::int64_t i = threadIdx.x; i < out.cols; i += blockDim.x) {
        dst[i] = src[i];
    }
}

__global__ void add_bias_kernel(float* out, std::int64_t stride, std::int64_t rows,
                                std::int64_t cols, const float* bias) {
    const std::int64_t total = rows * cols;
    for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
         i < total; i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        out[(i / cols) * stride + i % cols] += bias[i % cols];
    }
}

} // namespace

void launch_embed(const DevTensor& table, const DevTensor& out, const std::int32_t* tokens,
                  cudaStream_t stream) {
    if (out.rows == 0) {
        return;
    }
    embed_kernel<<<static_cast<unsigned>(out.rows), row_threads(out.cols), 0, stream>>>(table, out,
                                                                                        tokens);
    AGENTD_CUDA_CHECK_LAUNCH();
}

void launch_rms_norm(const DevTensor& x, const float* weight, float eps, const DevTensor& out,
                     cudaStream_t stream) {
    if (x.rows == 0) {
        return;
    }
    rms_norm_kernel<<<static_cast<unsigned>(x.rows), row_threads(x.cols), 0, stream>>>(x, weight,
                                                                                       eps, out);
    AGENTD_CUDA_CHECK_LAUNCH();
}

void launch_rope_table(const std::int32_t* positions, int n_tokens, const dev::RopeConsts& c,
                       const float* freq_factors, float* table, cudaStream_t stream) {
    if (n_tokens == 0) {
        return;
    }
    rope_table_kernel<<<grid_for(n_tokens, 64), 64, 0, stream>>>(positions, n_tokens, c,
                                                                 freq_factors, table);
    AGENTD_CUDA_CHECK_LAUNCH();
}

void launch_rope(const DevTensor& x, int n_heads, int head_dim, bool neox, int n_dims,
                 const float* table, cudaStream_t stream) {
    const std::int64_t total = x.rows * n_heads * (n_dims / 2);
    if (total == 0) {
        return;
    }
    rope_kernel<<<grid_for(total, 256), 256, 0, stream>>>(x, n_heads, head_dim, neox, n_dims,
                                                          table);
    AGENTD_CUDA_CHECK_LAUNCH();
}

void launch_swiglu(const DevTensor& gate, const DevTensor& up, const DevTensor& out,
                   cudaStream_t stream) {
    const std::int64_t total = gate.rows * gate.cols;
    if (total == 0) {
        return;
    }
    swiglu_kernel<<<grid_for(total, 256), 256, 0, stream>>>(gate, up, out);
    AGENTD_CUDA_CHECK_LAUNCH();
}

void launch_binary(BinaryOp op, const DevTensor& a, const DevTensor& b, const DevTensor& out,
                   cudaStream_t stream) {
    const std::int64_t total = a.rows * a.cols;
    if (total == 0) {
        return;
    }
    binary_kernel<<<grid_for(total, 256), 256, 0, stream>>>(op, a, b, out);
    AGENTD_CUDA_CHECK_LAUNCH();
}

void launch_softmax(const DevTensor& x, cudaStream_t stream) {
    if (x.rows == 0) {
        return;
    }
    softmax_kernel<<<static_cast<unsigned>(x.rows), row_threads(x.cols), 0, stream>>>(x);
    AGENTD_CUDA_CHECK_LAUNCH();
}

void launch_gather_rows(const DevTensor& x, const DevTensor& out, const std::int32_t* rows,
                        cudaStream_t stream) {
    if (out.rows == 0) {
        return;
    }
    gather_rows_kernel<<<static_cast<unsigned>(out.rows), row_threads(out.cols), 0, stream>>>(
        x, out, rows);
    AGENTD_CUDA_CHECK_LAUNCH();
}

void launch_add_bias(float* out, std::int64_t out_stride, std::int64_t rows, std::int64_t cols,
                     const float* bias, cudaStream_t stream) {
    const std::int64_t total = rows * cols;
    if (total == 0) {
        return;
    }
    add_bias_kernel<<<grid_for(total, 256), 256, 0, stream>>>(out, out_stride, rows, cols, bias);
    AGENTD_CUDA_CHECK_LAUNCH();
}

} // namespace agentd::inference::cuda
