// CpuBackend::matmul: one pool dispatch per call. Phase 1 converts the shared input rows into
// each activation kind the weights need (kernels.h); after a barrier, phase 2 hands out tiles of
// (weight rows x tokens) through an atomic counter. Tiles are sized for the caches: decode
// splits the rows finely across threads (a bandwidth-bound GEMV), prefill uses 64-row x
// 128-token tiles, token chunk outermost, so a chunk of activations stays in L2 while the
// weight rows stream past.
#include "agentd/base/check.h"

#include "backend/cpu/cpu_backend.h"

#include <algorithm>
#include <cstring>

namespace agentd::inference::cpu {
namespace {

constexpr std::int64_t kPrefillRows = 64;
constexpr std::int64_t kTokenChunk = 128;

std::int64_t round_up(std::int64_t v, std::int64_t m) {
    return (v + m - 1) / m * m;
}

} // namespace

void CpuBackend::matmul(const backend::Tensor& x, std::span<const backend::MatmulOut> outs) {
    AGENTD_CHECK(x.type == TensorType::f32, "matmul input is f32");
    const std::int64_t T = x.rows;
    const std::int64_t K = x.cols;
    if (T == 0 || outs.empty()) {
        return;
    }
    bool need[kActKinds] = {};
    for (const auto& o : outs) {
        AGENTD_CHECK(o.weight != nullptr && o.weight->cols == K, "matmul weight shape");
        AGENTD_CHECK(o.out.rows == T && o.out.cols == o.weight->rows, "matmul output shape");
        AGENTD_CHECK(kt_->gemm[static_cast<int>(o.weight->type)] != nullptr,
                     "weight type has a kernel (checked at model load)");
        AGENTD_CHECK(o.bias == nullptr || o.bias->cols == o.weight->rows, "matmul bias shape");
        need[static_cast<int>(act_kind_for(o.weight->type))] = true;
    }
    // F32 weights read a contiguous input directly.
    const bool direct_f32 = x.stride == static_cast<std::size_t>(K) * sizeof(float);
    const std::uint8_t* act[kActKinds] = {};
    std::size_t act_stride[kActKinds] = {};
    for (int k = 0; k < kActKinds; ++k) {
        if (!need[k]) {
            continue;
        }
        act_stride[k] = act_row_bytes(static_cast<ActKind>(k), K);
        if (k == static_cast<int>(ActKind::f32) && direct_f32) {
            act[k] = static_cast<const std::uint8_t*>(x.data);
            act_stride[k] = x.stride;
            need[k] = false;
            continue;
        }
        const std::size_t bytes = act_stride[k] * static_cast<std::size_t>(T);
        if (act_[k].size() < bytes) {
            act_[k].resize(bytes);
        }
        act[k] = act_[k].data();
    }

    // Work items.
    const int threads = pool_.size();
    std::vector<MatmulItem>& items = mm_items_;
    items.clear();
    for (int oi = 0; oi < static_cast<int>(outs.size()); ++oi) {
        const std::int64_t N = outs[oi].weight->rows;
        std::int64_t rows_per;
        std::int64_t tok_per;
        if (T <= 4) {
            rows_per =
                std::max<std::int64_t>(32, round_up((N + threads * 8 - 1) / (threads * 8), 32));
            tok_per = T;
        } else {
            rows_per = kPrefillRows;
            tok_per = kTokenChunk;
        }
        for (std::int64_t t0 = 0; t0 < T; t0 += tok_per) {
            for (std::int64_t r0 = 0; r0 < N; r0 += rows_per) {
                items.push_back(
                    {oi, r0, std::min(N, r0 + rows_per), t0, std::min(T, t0 + tok_per)});
            }
        }
    }

    // A few rows (decode) are converted by the caller before the dispatch, which saves the
    // barrier between the phases; larger batches convert in parallel inside it.
    const bool convert_first = T <= 4;
    auto convert = [&](std::int64_t b, std::int64_t e) {
        for (int k = 0; k < kActKinds; ++k) {
            if (need[k] && b < e) {
                kt_->quantize[k](x.row<float>(b), x.stride / sizeof(float),
                                 const_cast<std::uint8_t*>(act[k]) + b * act_stride[k],
                                 act_stride[k], e - b, K);
            }
        }
    };
    if (convert_first) {
        convert(0, T);
    }
    std::atomic<std::size_t> next{0};
    auto body = [&](const ThreadPool::Context& ctx) {
        if (!convert_first) {
            const std::int64_t per = (T + ctx.count() - 1) / ctx.count();
            const std::int64_t b = per * ctx.index();
            convert(b, std::min(T, b + per));
            ctx.barrier();
        }
        for (std::size_t i = next.fetch_add(1, std::memory_order_relaxed); i < items.size();
             i = next.fetch_add(1, std::memory_order_relaxed)) {
            const MatmulItem& it = items[i];
            const backend::MatmulOut& o = outs[it.out];
            const int kind = static_cast<int>(act_kind_for(o.weight->type));
            GemmArgs a{static_cast<const std::uint8_t*>(o.weight->data),
                       o.weight->stride,
                       act[kind],
                       act_stride[kind],
                       static_cast<float*>(o.out.data),
                       o.out.stride / sizeof(float),
                       K,
                       o.accumulate};
            kt_->gemm[static_cast<int>(o.weight->type)](a, it.r0, it.r1, it.t0, it.t1);
            if (o.bias != nullptr) {
                const float* bias = o.bias->row<float>(0);
                for (std::int64_t t = it.t0; t < it.t1; ++t) {
                    float* y = o.out.row<float>(t);
                    for (std::int64_t r = it.r0; r < it.r1; ++r) {
                        y[r] += bias[r];
                    }
                }
            }
        }
    };
    // Tiny products (small models, short batches) are not worth waking the workers for.
    std::int64_t macs = 0;
    for (const auto& o : outs) {
        macs += o.weight->rows * K * T;
    }
    if (pool_.size() == 1 || macs < 64 * 1024) {
        body(ThreadPool::Context::single());
    } else {
        pool_.run(body);
    }
}

} // namespace agentd::inference::cpu
