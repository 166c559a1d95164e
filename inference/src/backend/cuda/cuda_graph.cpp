// Decode graphs: a step whose sequences each add one token (and want its logits) is padded to
// its batch-size bucket (launch_policy.h) and run as one CUDA graph launch. The graph of a
// bucket is captured from the step's recorded ops the first time; later steps whose recorded
// ops are equal (same tensors, same shapes after padding; the step data lives at fixed device
// addresses and is uploaded before the launch) replay it. Different ops re-capture the bucket,
// updating the instantiated graph in place when CUDA allows.
#include "agentd/base/check.h"

#include "backend/cuda/cuda_backend.h"

namespace agentd::inference::cuda {

bool CudaBackend::pad_records(std::vector<OpRecord>& ops, std::vector<MatmulRecord>& mms) const {
    const auto n = static_cast<std::int64_t>(tokens_.size());
    const std::int64_t bucket = pad_rows_;
    // An activation of n * c rows becomes bucket * c rows; the padded view must stay inside the
    // allocation it points into (the forward pass's scratch holds max_tokens rows).
    auto pad = [&](DevTensor& t) {
        if (n == 0 || t.rows % n != 0) {
            return false;
        }
        t.rows = t.rows / n * bucket;
        return view_fits(t);
    };
    for (OpRecord& r : ops) {
        bool ok = true;
        switch (r.kind) {
        case OpKind::embed:
            ok = pad(r.t1);
            break;
        case OpKind::rms_norm:
            ok = pad(r.t0) && pad(r.t2);
            break;
        case OpKind::matmul:
            ok = pad(r.t0);
            for (std::uint32_t i = r.mm_begin; ok && i < r.mm_begin + r.mm_count; ++i) {
                ok = pad(mms[i].out);
            }
            break;
        case OpKind::rope:
        case OpKind::softmax:
            ok = r.kind == OpKind::rope && pad(r.t0);
            break;
        case OpKind::kv_write:
        case OpKind::attention:
        case OpKind::gather_rows:
            ok = pad(r.t0) && pad(r.t1);
            break;
        case OpKind::swiglu:
            ok = pad(r.t0) && pad(r.t1) && pad(r.t2);
            break;
        case OpKind::add:
        case OpKind::mul:
            ok = false; // a broadcast operand cannot be told from a one-row batch
            break;
        }
        if (!ok) {
            return false;
        }
    }
    return true;
}

bool CudaBackend::run_graph() {
    std::vector<OpRecord> ops = ops_;
    std::vector<MatmulRecord> mms = mm_;
    if (!pad_records(ops, mms)) {
        return false;
    }
    const Exec x{true, &mms};
    prepare(ops, mms, x); // may reallocate workspace, which drops every graph
    cudaStream_t s = stream_.get();
    Graph& g = graphs_[pad_rows_];
    if (g.exec && g.ops == ops && g.mm == mms) {
        AGENTD_CUDA_CHECK(cudaGraphLaunch(g.exec.get(), s));
        ++stats_.graph_replays;
        return true;
    }
    // Capture: the launches below are recorded into a graph instead of running. Nothing in
    // execute() allocates or synchronizes (prepare() sized the workspace; cuBLAS has its own).
    AGENTD_CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
    for (const OpRecord& r : ops) {
        execute(r, x);
    }
    cudaGraph_t raw = nullptr;
    AGENTD_CUDA_CHECK(cudaStreamEndCapture(s, &raw));
    const GraphPtr graph(raw);
    if (g.exec) {
        cudaGraphExecUpdateResultInfo info{};
        if (cudaGraphExecUpdate(g.exec.get(), graph.get(), &info) != cudaSuccess) {
            (void)cudaGetLastError(); // a different topology: instantiate afresh
            g.exec.reset();
        }
    }
    if (!g.exec) {
        cudaGraphExec_t exec = nullptr;
        AGENTD_CUDA_CHECK(cudaGraphInstantiate(&exec, graph.get(), 0));
        g.exec.reset(exec);
    }
    g.ops = std::move(ops);
    g.mm = std::move(mms);
    AGENTD_CUDA_CHECK(cudaGraphLaunch(g.exec.get(), s));
    ++stats_.graph_captures;
    return true;
}

void CudaBackend::clear_graphs() noexcept {
    graphs_.clear();
}

void CudaBackend::set_graphs_enabled(bool on) {
    flush();
    graphs_enabled_ = on;
    if (!on) {
        AGENTD_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
        clear_graphs();
    }
}

} // namespace agentd::inference::cuda
