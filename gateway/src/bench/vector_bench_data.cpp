// Data helpers of `agentd bench vector` (see vector_bench_data.h).
#include "bench/vector_bench_data.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>
#include <utility>

namespace agentd::gateway::bench {
namespace {

using Clock = std::chrono::steady_clock;

volatile std::uint64_t sink_ = 0;

} // namespace

/// vecdata.py's stream: element i of seed s is splitmix64(s * 2^32 + i), mapped to [-1, 1).
std::vector<float> generate(std::uint64_t seed, std::size_t rows, std::size_t dim) {
    std::vector<float> out(rows * dim);
    const std::uint64_t base = seed << 32;
    for (std::size_t i = 0; i < out.size(); ++i) {
        std::uint64_t z = (base + i + 1) * 0x9E3779B97F4A7C15ULL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        z ^= z >> 31;
        out[i] = static_cast<float>(static_cast<double>(z >> 40) * 0x1p-23 - 1.0);
    }
    return out;
}

void parallel(std::size_t count, const std::function<void(std::size_t, std::size_t)>& fn) {
    const std::size_t t = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < t; ++i) {
        threads.emplace_back([&, i] { fn(count * i / t, count * (i + 1) / t); });
    }
    for (auto& th : threads) {
        th.join();
    }
}

/// Exact top-k under L2 in double precision: an oracle independent of the store's kernels.
std::vector<std::int32_t> ground_truth(const std::vector<float>& base,
                                       const std::vector<float>& queries, std::size_t dim,
                                       std::size_t k) {
    const std::size_t n = base.size() / dim;
    const std::size_t q = queries.size() / dim;
    std::vector<std::int32_t> out(q * k, -1);
    parallel(q, [&](std::size_t begin, std::size_t end) {
        std::vector<std::pair<double, std::int32_t>> best;
        for (std::size_t qi = begin; qi < end; ++qi) {
            best.clear();
            const float* qv = &queries[qi * dim];
            for (std::size_t r = 0; r < n; ++r) {
                const float* rv = &base[r * dim];
                double d = 0;
                for (std::size_t j = 0; j < dim; ++j) {
                    const double x = double{qv[j]} - rv[j];
                    d += x * x;
                }
                if (best.size() < k || d < best.front().first) {
                    best.emplace_back(d, static_cast<std::int32_t>(r));
                    std::push_heap(best.begin(), best.end());
                    if (best.size() > k) {
                        std::pop_heap(best.begin(), best.end());
                        best.pop_back();
                    }
                }
            }
            std::sort_heap(best.begin(), best.end());
            for (std::size_t j = 0; j < best.size(); ++j) {
                out[qi * k + j] = best[j].second;
            }
        }
    });
    return out;
}

/// Sequential read bandwidth of this machine with every core reading (GB/s), for the
/// "bytes scanned / bandwidth" floor of an exact scan.
double read_bandwidth_gbps() {
    const std::size_t bytes = std::size_t{512} << 20;
    std::vector<std::uint64_t> buf(bytes / 8, 1);
    double best = 0;
    for (int rep = 0; rep < 3; ++rep) {
        std::vector<std::uint64_t> sums(64);
        const auto t0 = Clock::now();
        parallel(buf.size(), [&](std::size_t b, std::size_t e) {
            std::uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (std::size_t i = b; i + 4 <= e; i += 4) {
                s0 += buf[i];
                s1 += buf[i + 1];
                s2 += buf[i + 2];
                s3 += buf[i + 3];
            }
            sums[(b * 8 / bytes) % 64] = s0 + s1 + s2 + s3;
        });
        const double s = std::chrono::duration<double>(Clock::now() - t0).count();
        std::uint64_t total = 0;
        for (auto v : sums) {
            total += v;
        }
        sink_ = total; // the sums stay observable, so the reads are not optimized away
        best = std::max(best, static_cast<double>(bytes) / s / 1e9);
    }
    return best;
}

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    const auto idx = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size()))) - 1;
    return v[std::min(idx, v.size() - 1)];
}

} // namespace agentd::gateway::bench
