// Every op of the CUDA backend against the CPU backend (the oracle), as test-backend-ops does:
// the same inputs on both, the outputs compared by normalised mean squared error. Each type,
// shape and layout the forward pass produces is covered: all weight types through embed and
// matmul (matrix-vector and tensor-core paths, bias, accumulate, several outputs), RoPE
// variants, KV writes and paged attention for decode and prefill (f32 / f16 cache, GQA groups,
// head sizes, block sizes, key splits), block copies and the elementwise ops. Label gpu: without
// a CUDA device every test skips, naming the reason.
#include "agentd/inference/errc.h"

#include "backend/backend.h"
#include "backend/cpu/cpu_backend.h"
#include "quant/block_formats.h"
#include "quant/quantize_ref.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

namespace agentd::inference {
namespace {

using backend::Backend;
using backend::Tensor;

std::vector<float> random_floats(std::mt19937& rng, std::size_t n, float scale) {
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(n);
    for (auto& x : v) {
        x = d(rng);
    }
    return v;
}

/// Rows of floats stored as `type` (the file format a weight tensor would have).
std::vector<std::uint8_t> encode(TensorType type, const std::vector<float>& x, std::int64_t rows,
                                 std::int64_t cols) {
    const std::size_t rb = *row_bytes(type, cols);
    std::vector<std::uint8_t> out(rb * static_cast<std::size_t>(rows));
    for (std::int64_t r = 0; r < rows; ++r) {
        const float* src = x.data() + r * cols;
        std::uint8_t* dst = out.data() + static_cast<std::size_t>(r) * rb;
        switch (type) {
        case TensorType::f32:
            std::memcpy(dst, src, rb);
            break;
        case TensorType::f16:
        case TensorType::bf16:
            for (std::int64_t i = 0; i < cols; ++i) {
                const std::uint16_t h = type == TensorType::f16 ? quant::float_to_half(src[i])
                                                                : quant::float_to_bf16(src[i]);
                std::memcpy(dst + 2 * i, &h, 2);
            }
            break;
        case TensorType::q8_0:
            quant::quantize_row_q8_0(src, reinterpret_cast<quant::BlockQ8_0*>(dst), cols);
            break;
        case TensorType::q4_0:
            quant::quantize_row_q4_0(src, reinterpret_cast<quant::BlockQ4_0*>(dst), cols);
            break;
        case TensorType::q4_k:
            quant::quantize_row_q4_k(src, reinterpret_cast<quant::BlockQ4K*>(dst), cols);
            break;
        case TensorType::q6_k:
            quant::quantize_row_q6_k(src, reinterpret_cast<quant::BlockQ6K*>(dst), cols);
            break;
        case TensorType::i32:
            break;
        }
    }
    return out;
}

/// The same tensor on the CPU and on the GPU.
struct Pair {
    backend::BufferPtr cpu_buf;
    backend::BufferPtr gpu_buf;
    Tensor cpu;
    Tensor gpu;
};

class CudaParity : public ::testing::Test {
protected:
    void SetUp() override {
        auto g = backend::make_backend(BackendKind::cuda, backend::BackendOptions{0, 0});
        if (!g) {
            GTEST_SKIP() << "no CUDA device or backend here (" << g.error().what()
                         << "): the CUDA parity tests need a GPU";
        }
        gpu_ = std::move(*g);
        cpu_ = std::make_unique<cpu::CpuBackend>(2, cpu::best_isa());
        backend::WorkspaceHint h;
        h.max_tokens = 512;
        h.max_k = 8192;
        h.max_n = 8192;
        h.n_head = 64;
        h.n_kv_head = 8;
        h.head_dim = 256;
        h.rope_dims = 256;
        h.n_ctx = 4096;
        h.kv_block_size = 16;
        auto r = gpu_->reserve_workspace(h);
        ASSERT_TRUE(r) << r.error().what();
    }

    Pair upload(TensorType type, std::int64_t rows, std::int64_t cols,
                const std::vector<std::uint8_t>& bytes) {
        Pair p;
        auto c = cpu_->alloc(bytes.size(), true);
        auto g = gpu_->alloc(bytes.size(), false);
        EXPECT_TRUE(c && g);
        p.cpu_buf = std::move(*c);
        p.gpu_buf = std::move(*g);
        cpu_->upload(*p.cpu_buf, 0, std::as_bytes(std::span(bytes)));
        gpu_->upload(*p.gpu_buf, 0, std::as_bytes(std::span(bytes)));
        p.cpu = Tensor::contiguous(p.cpu_buf->data(), type, rows, cols);
        p.gpu = Tensor::contiguous(p.gpu_buf->data(), type, rows, cols);
        return p;
    }

    Pair floats(std::int64_t rows, std::int64_t cols, const std::vector<float>& v) {
        std::vector<std::uint8_t> b(v.size() * sizeof(float));
        std::memcpy(b.data(), v.data(), b.size());
        return upload(TensorType::f32, rows, cols, b);
    }

    Pair random(std::mt19937& rng, std::int64_t rows, std::int64_t cols, float scale = 1.0f) {
        return floats(rows, cols, random_floats(rng, static_cast<std::size_t>(rows * cols), scale));
    }

    static std::vector<float> read(Backend& b, const Tensor& t) {
        std::vector<float> v(static_cast<std::size_t>(t.rows * t.cols));
        b.download_rows(t, v);
        return v;
    }

    /// sum (cpu - gpu)^2 / sum cpu^2 of a tensor computed by both.
    double nmse(const Pair& p) {
        const auto c = read(*cpu_, p.cpu);
        const auto g = read(*gpu_, p.gpu);
        double num = 0.0;
        double den = 0.0;
        for (std::size_t i = 0; i < c.size(); ++i) {
            if (!std::isfinite(g[i])) {
                return INFINITY;
            }
            num += (static_cast<double>(c[i]) - g[i]) * (static_cast<double>(c[i]) - g[i]);
            den += static_cast<double>(c[i]) * c[i];
        }
        return den > 0.0 ? num / den : num;
    }

    void set_step(const backend::StepLayout& l) {
        cpu_->set_step(l);
        gpu_->set_step(l);
    }

    /// A one-sequence step of n tokens at positions 0..n-1 (for ops that only need tokens).
    void simple_step(std::int64_t n, std::vector<std::int32_t> tokens = {}) {
        if (tokens.empty()) {
            tokens.assign(static_cast<std::size_t>(n), 1);
        }
        tokens_ = std::move(tokens);
        positions_.resize(static_cast<std::size_t>(n));
        std::iota(positions_.begin(), positions_.end(), 0);
        slots_ = positions_;
        seq_ = {0, static_cast<std::int32_t>(n), static_cast<std::int32_t>(n), 0,
                static_cast<std::int32_t>((n + 15) / 16)};
        tables_.resize(static_cast<std::size_t>(seq_.table_len));
        std::iota(tables_.begin(), tables_.end(), 0);
        out_rows_.assign(positions_.begin(), positions_.end());
        set_step({tokens_, positions_, slots_, std::span(&seq_, 1), tables_, out_rows_});
    }

    std::unique_ptr<Backend> cpu_;
    std::unique_ptr<Backend> gpu_;
    std::vector<std::int32_t> tokens_, positions_, slots_, tables_, out_rows_;
    backend::SeqSlice seq_{};
};

constexpr TensorType kWeightTypes[] = {TensorType::f32,  TensorType::f16,  TensorType::bf16,
                                       TensorType::q8_0, TensorType::q4_0, TensorType::q4_k,
                                       TensorType::q6_k};

TEST_F(CudaParity, EmbeddingRowsOfEveryTypeAreExact) {
    std::mt19937 rng(1);
    for (TensorType type : kWeightTypes) {
        const auto w = random_floats(rng, 37 * 512, 0.5f);
        Pair table = upload(type, 37, 512, encode(type, w, 37, 512));
        simple_step(6, {0, 36, 5, 5, 20, 1});
        Pair out = floats(6, 512, std::vector<float>(6 * 512, 0.0f));
        cpu_->embed(table.cpu, out.cpu);
        gpu_->embed(table.gpu, out.gpu);
        EXPECT_EQ(nmse(out), 0.0) << type_traits(type).name;
    }
}

TEST_F(CudaParity, RmsNormMatches) {
    std::mt19937 rng(2);
    for (const auto& [rows, cols] : {std::pair{1, 4096}, {7, 64}, {33, 100}, {3, 8}}) {
        Pair x = random(rng, rows, cols, 3.0f);
        Pair w = random(rng, 1, cols);
        Pair out = floats(rows, cols, std::vector<float>(static_cast<std::size_t>(rows * cols)));
        cpu_->rms_norm(x.cpu, w.cpu, 1e-5f, out.cpu);
        gpu_->rms_norm(x.gpu, w.gpu, 1e-5f, out.gpu);
        EXPECT_LT(nmse(out), 1e-12) << rows << "x" << cols;
        cpu_->rms_norm(x.cpu, w.cpu, 1e-6f, x.cpu); // in place
        gpu_->rms_norm(x.gpu, w.gpu, 1e-6f, x.gpu);
        EXPECT_LT(nmse(x), 1e-12) << rows << "x" << cols << " in place";
    }
}

struct MatmulCase {
    TensorType type;
    std::int64_t n;
    std::int64_t k;
};

TEST_F(CudaParity, MatmulEveryTypeRowCountAndShape) {
    std::mt19937 rng(3);
    std::vector<MatmulCase> cases;
    for (TensorType t : kWeightTypes) {
        cases.push_back({t, 70, 256});
        cases.push_back({t, 257, 1024});
        if (t != TensorType::q4_k && t != TensorType::q6_k) {
            cases.push_back({t, 33, 96}); // K not a multiple of the tensor-core K step
        }
    }
    for (const MatmulCase& c : cases) {
        const auto wf = random_floats(rng, static_cast<std::size_t>(c.n * c.k), 0.3f);
        Pair w = upload(c.type, c.n, c.k, encode(c.type, wf, c.n, c.k));
        Pair bias = random(rng, 1, c.n);
        for (std::int64_t rows : {1, 2, 5, 8, 9, 33, 130}) {
            simple_step(rows);
            Pair x = random(rng, rows, c.k, 2.0f);
            Pair out = random(rng, rows, c.n); // accumulated into
            Pair out2 = floats(rows, c.n, std::vector<float>(static_cast<std::size_t>(rows * c.n)));
            const backend::MatmulOut cpu_outs[] = {{&w.cpu, &bias.cpu, out.cpu, true},
                                                   {&w.cpu, nullptr, out2.cpu, false}};
            const backend::MatmulOut gpu_outs[] = {{&w.gpu, &bias.gpu, out.gpu, true},
                                                   {&w.gpu, nullptr, out2.gpu, false}};
            cpu_->matmul(x.cpu, cpu_outs);
            gpu_->matmul(x.gpu, gpu_outs);
            EXPECT_LT(nmse(out), 1e-9) << type_traits(c.type).name << " " << c.n << "x" << c.k
                                       << " rows " << rows << " (bias, accumulate)";
            EXPECT_LT(nmse(out2), 1e-9)
                << type_traits(c.type).name << " " << c.n << "x" << c.k << " rows " << rows;
        }
    }
}

TEST_F(CudaParity, MatmulWithMixedWeightTypesSharesTheInput) {
    std::mt19937 rng(4);
    const TensorType types[] = {TensorType::q4_k, TensorType::q6_k, TensorType::q8_0,
                                TensorType::f16, TensorType::bf16};
    std::vector<Pair> ws;
    for (TensorType t : types) {
        ws.push_back(upload(t, 96, 512, encode(t, random_floats(rng, 96 * 512, 0.3f), 96, 512)));
    }
    for (std::int64_t rows : {1, 7, 100}) {
        simple_step(rows);
        Pair x = random(rng, rows, 512);
        std::vector<Pair> outs;
        std::vector<backend::MatmulOut> co;
        std::vector<backend::MatmulOut> go;
        for (std::size_t i = 0; i < ws.size(); ++i) {
            outs.push_back(
                floats(rows, 96, std::vector<float>(static_cast<std::size_t>(rows * 96))));
        }
        for (std::size_t i = 0; i < ws.size(); ++i) {
            co.push_back({&ws[i].cpu, nullptr, outs[i].cpu, false});
            go.push_back({&ws[i].gpu, nullptr, outs[i].gpu, false});
        }
        cpu_->matmul(x.cpu, co);
        gpu_->matmul(x.gpu, go);
        for (std::size_t i = 0; i < outs.size(); ++i) {
            EXPECT_LT(nmse(outs[i]), 1e-9) << type_traits(types[i]).name << " rows " << rows;
        }
    }
}

TEST_F(CudaParity, RopeLayoutsAndScalings) {
    std::mt19937 rng(5);
    std::vector<float> factors(32);
    for (std::size_t i = 0; i < factors.size(); ++i) {
        factors[i] = 1.0f + static_cast<float>(i) / 8.0f;
    }
    struct Case {
        backend::RopeKind kind;
        int n_dims;
        float freq_scale;
        float ext_factor;
        bool factors;
    };
    for (const Case c : {Case{backend::RopeKind::normal, 64, 1.0f, 0.0f, false},
                         Case{backend::RopeKind::neox, 64, 1.0f, 0.0f, false},
                         Case{backend::RopeKind::neox, 32, 0.5f, 0.0f, false},
                         Case{backend::RopeKind::normal, 64, 0.25f, 1.0f, false},
                         Case{backend::RopeKind::normal, 64, 1.0f, 0.0f, true}}) {
        simple_step(9);
        positions_ = {0, 3, 9, 100, 1000, 4095, 7, 8, 65000};
        set_step({tokens_, positions_, slots_, std::span(&seq_, 1), tables_, out_rows_});
        Pair x = random(rng, 9, 4 * 64);
        backend::RopeParams p;
        p.kind = c.kind;
        p.n_dims = c.n_dims;
        p.freq_base = 10000.0f;
        p.freq_scale = c.freq_scale;
        p.ext_factor = c.ext_factor;
        p.n_ctx_orig = 4096;
        if (c.factors) {
            p.freq_factors = std::span(factors).first(static_cast<std::size_t>(c.n_dims / 2));
        }
        cpu_->rope(x.cpu, 4, 64, p);
        gpu_->rope(x.gpu, 4, 64, p);
        EXPECT_LT(nmse(x), 1e-11) << "n_dims " << c.n_dims << " ext " << c.ext_factor;
    }
}

/// A paged-attention scenario: sequences with a cached prefix and new tokens.
struct SeqSpec {
    std::int32_t cached;
    std::int32_t fresh;
};

class CudaAttention : public CudaParity {
public:
    void run(TensorType kv_type, int head_dim, int group, int block_size,
             const std::vector<SeqSpec>& specs) {
        const int n_kv = 2;
        const int n_head = n_kv * group;
        backend::KvSpec spec;
        spec.n_layers = 2;
        spec.n_blocks = 512;
        spec.block_size = block_size;
        spec.n_kv_heads = n_kv;
        spec.head_dim = head_dim;
        spec.type = kv_type;
        auto ckv = cpu_->alloc_kv(spec);
        auto gkv = gpu_->alloc_kv(spec);
        ASSERT_TRUE(ckv && gkv);
        std::mt19937 rng(static_cast<unsigned>(head_dim * 131 + group * 7 + block_size));
        // Block tables: distinct blocks in a shuffled order.
        std::vector<std::int32_t> pool(static_cast<std::size_t>(spec.n_blocks));
        std::iota(pool.begin(), pool.end(), 0);
        std::shuffle(pool.begin(), pool.end(), rng);
        std::vector<std::vector<std::int32_t>> tables;
        std::size_t next = 0;
        for (const SeqSpec& s : specs) {
            const int blocks = (s.cached + s.fresh + block_size - 1) / block_size;
            tables.emplace_back(pool.begin() + static_cast<std::ptrdiff_t>(next),
                                pool.begin() + static_cast<std::ptrdiff_t>(next + blocks));
            next += static_cast<std::size_t>(blocks);
        }
        // Pass 1 writes the cached prefixes, pass 2 the fresh tokens and attends.
        for (int pass = 0; pass < 2; ++pass) {
            std::vector<std::int32_t> tokens, positions, slots, all_tables;
            std::vector<backend::SeqSlice> slices;
            for (std::size_t i = 0; i < specs.size(); ++i) {
                const std::int32_t from = pass == 0 ? 0 : specs[i].cached;
                const std::int32_t to =
                    pass == 0 ? specs[i].cached : specs[i].cached + specs[i].fresh;
                if (to == from) {
                    continue;
                }
                const std::int32_t table_len = (to + block_size - 1) / block_size;
                slices.push_back({static_cast<std::int32_t>(tokens.size()), to - from, to,
                                  static_cast<std::int32_t>(all_tables.size()), table_len});
                all_tables.insert(all_tables.end(), tables[i].begin(),
                                  tables[i].begin() + table_len);
                for (std::int32_t p = from; p < to; ++p) {
                    tokens.push_back(1);
                    positions.push_back(p);
                    slots.push_back(tables[i][static_cast<std::size_t>(p / block_size)] *
                                        block_size +
                                    p % block_size);
                }
            }
            if (tokens.empty()) {
                continue;
            }
            const auto n = static_cast<std::int64_t>(tokens.size());
            std::vector<std::int32_t> outs(tokens.size());
            std::iota(outs.begin(), outs.end(), 0);
            set_step({tokens, positions, slots, slices, all_tables, outs});
            for (int layer = 0; layer < 2; ++layer) {
                Pair k = random(rng, n, n_kv * head_dim);
                Pair v = random(rng, n, n_kv * head_dim);
                cpu_->kv_write(**ckv, layer, k.cpu, v.cpu);
                gpu_->kv_write(**gkv, layer, k.gpu, v.gpu);
                if (pass == 1) {
                    Pair q = random(rng, n, n_head * head_dim);
                    Pair out =
                        floats(n, n_head * head_dim,
                               std::vector<float>(static_cast<std::size_t>(n * n_head * head_dim)));
                    const backend::AttentionParams ap{
                        n_head, n_kv, head_dim, 1.0f / std::sqrt(static_cast<float>(head_dim))};
                    cpu_->attention(**ckv, layer, q.cpu, ap, out.cpu);
                    gpu_->attention(**gkv, layer, q.gpu, ap, out.gpu);
                    EXPECT_LT(nmse(out), kv_type == TensorType::f32 ? 1e-10 : 1e-9)
                        << type_traits(kv_type).name << " head_dim " << head_dim << " group "
                        << group << " block " << block_size << " layer " << layer;
                }
            }
        }
        // Copy-on-write: copy the blocks of sequence 0 elsewhere, then attend through the copies.
        std::vector<backend::BlockCopy> copies;
        for (std::size_t b = 0; b < tables[0].size() && next + b < pool.size(); ++b) {
            copies.push_back({tables[0][b], pool[next + b]});
        }
        if (copies.size() == tables[0].size()) {
            cpu_->copy_kv_blocks(**ckv, copies);
            gpu_->copy_kv_blocks(**gkv, copies);
            std::vector<std::int32_t> copied;
            for (const auto& c : copies) {
                copied.push_back(c.dst);
            }
            const std::int32_t ctx = specs[0].cached + specs[0].fresh;
            std::vector<std::int32_t> tok = {1};
            std::vector<std::int32_t> pos = {ctx - 1};
            std::vector<std::int32_t> slot = {
                copied[static_cast<std::size_t>((ctx - 1) / block_size)] * block_size +
                (ctx - 1) % block_size};
            const backend::SeqSlice sl{0, 1, ctx, 0, static_cast<std::int32_t>(copied.size())};
            std::vector<std::int32_t> outs = {0};
            set_step({tok, pos, slot, std::span(&sl, 1), copied, outs});
            Pair q = random(rng, 1, n_head * head_dim);
            Pair out = floats(1, n_head * head_dim,
                              std::vector<float>(static_cast<std::size_t>(n_head * head_dim)));
            const backend::AttentionParams ap{n_head, n_kv, head_dim, 0.125f};
            cpu_->attention(**ckv, 1, q.cpu, ap, out.cpu);
            gpu_->attention(**gkv, 1, q.gpu, ap, out.gpu);
            EXPECT_LT(nmse(out), 1e-9) << "through copied blocks";
        }
    }
};

TEST_F(CudaAttention, DecodeAndPrefillOverPagedBlocks) {
    // Decode rows (one token after a long prefix), a prefill from empty, a prefill chunk after a
    // prefix, a one-token context and a long decode that splits the keys several ways.
    const std::vector<SeqSpec> mix = {{200, 1}, {0, 37}, {50, 20}, {0, 1}, {900, 1}};
    for (TensorType kv : {TensorType::f32, TensorType::f16}) {
        for (int hd : {8, 64, 80, 128, 256}) {
            for (int group : {1, 4, 8, 16}) {
                run(kv, hd, group, 16, mix);
            }
        }
        run(kv, 128, 4, 32, mix);
    }
}

TEST_F(CudaAttention, ManyDecodingSequences) {
    std::vector<SeqSpec> seqs;
    for (int i = 0; i < 40; ++i) {
        seqs.push_back({1 + 7 * i, 1});
    }
    run(TensorType::f16, 128, 4, 16, seqs);
    run(TensorType::f32, 64, 8, 16, seqs);
}

TEST_F(CudaParity, ElementwiseOpsAndGather) {
    std::mt19937 rng(6);
    simple_step(11);
    Pair g = random(rng, 11, 300, 3.0f);
    Pair u = random(rng, 11, 300);
    Pair out = floats(11, 300, std::vector<float>(11 * 300));
    cpu_->swiglu(g.cpu, u.cpu, out.cpu);
    gpu_->swiglu(g.gpu, u.gpu, out.gpu);
    EXPECT_LT(nmse(out), 1e-12) << "swiglu";
    Pair row = random(rng, 1, 300);
    cpu_->add(g.cpu, row.cpu, out.cpu);
    gpu_->add(g.gpu, row.gpu, out.gpu);
    EXPECT_EQ(nmse(out), 0.0) << "add (broadcast)";
    cpu_->mul(g.cpu, u.cpu, out.cpu);
    gpu_->mul(g.gpu, u.gpu, out.gpu);
    EXPECT_EQ(nmse(out), 0.0) << "mul";
    cpu_->softmax(g.cpu);
    gpu_->softmax(g.gpu);
    EXPECT_LT(nmse(g), 1e-12) << "softmax";
    // Output rows in any order.
    out_rows_ = {10, 0, 4, 4};
    set_step({tokens_, positions_, slots_, std::span(&seq_, 1), tables_, out_rows_});
    Pair sel = floats(4, 300, std::vector<float>(4 * 300));
    cpu_->gather_rows(u.cpu, sel.cpu);
    gpu_->gather_rows(u.gpu, sel.gpu);
    EXPECT_EQ(nmse(sel), 0.0) << "gather_rows";
}

TEST_F(CudaParity, OutOfMemoryIsAnErrorAndTheBackendStaysUsable) {
    auto huge = gpu_->alloc(std::size_t{1} << 50, false);
    ASSERT_FALSE(huge);
    EXPECT_EQ(huge.error().code, make_error_code(errc::device_oom));
    backend::KvSpec spec;
    spec.n_layers = 1000;
    spec.n_blocks = 1 << 20;
    spec.block_size = 16;
    spec.n_kv_heads = 8;
    spec.head_dim = 128;
    auto kv = gpu_->alloc_kv(spec);
    ASSERT_FALSE(kv);
    EXPECT_EQ(kv.error().code, make_error_code(errc::device_oom));
    spec.head_dim = 512;
    spec.n_layers = 1;
    spec.n_blocks = 4;
    EXPECT_EQ(gpu_->alloc_kv(spec).error().code, make_error_code(errc::unsupported));
    std::mt19937 rng(7);
    simple_step(3);
    Pair x = random(rng, 3, 64);
    Pair w = random(rng, 1, 64);
    cpu_->rms_norm(x.cpu, w.cpu, 1e-5f, x.cpu);
    gpu_->rms_norm(x.gpu, w.gpu, 1e-5f, x.gpu);
    EXPECT_LT(nmse(x), 1e-12);
}

} // namespace
} // namespace agentd::inference
