#pragma once
/// Data helpers of `agentd bench vector`: vecdata.py's deterministic vectors, the exact
/// ground truth, raw row files, the machine's read bandwidth and percentiles. Internal to the
/// benchmark; single-threaded callers (parallel() and ground_truth() use their own threads).
/// Errors: UsageError for a bad file named on the command line (exit 2), std::runtime_error
/// otherwise.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace agentd::gateway::bench {

/// A command-line mistake: reported with exit status 2 (CONTRACT.md usage errors).
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// vecdata.py's stream for `seed`: rows * dim values in [-1, 1).
std::vector<float> generate(std::uint64_t seed, std::size_t rows, std::size_t dim);

/// Runs fn(begin, end) over [0, count) split across every core; returns when all are done.
void parallel(std::size_t count, const std::function<void(std::size_t, std::size_t)>& fn);

/// The exact top-k rows of each query under L2, nearest first (double precision).
std::vector<std::int32_t> ground_truth(const std::vector<float>& base,
                                       const std::vector<float>& queries, std::size_t dim,
                                       std::size_t k);

/// Sequential read bandwidth with every core reading, GB/s (best of 3 passes over 512 MiB).
double read_bandwidth_gbps();

/// The p-quantile (0..1] of `v` by the nearest-rank method; `v` must not be empty.
double percentile(std::vector<double> v, double p);

/// A file of whole rows of row_len T values; sets `rows`.
template <class T>
std::vector<T> read_file(const std::string& path, std::size_t row_len, std::size_t& rows) {
    std::ifstream f(path, std::ios::binary | std::ios::ate);
    if (!f) {
        throw UsageError("cannot read " + path);
    }
    const auto bytes = static_cast<std::size_t>(f.tellg());
    if (bytes % (row_len * sizeof(T)) != 0) {
        throw UsageError(path + " is not a whole number of rows");
    }
    rows = bytes / (row_len * sizeof(T));
    std::vector<T> out(bytes / sizeof(T));
    f.seekg(0);
    f.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(bytes));
    return out;
}

template <class T>
void write_file(const std::filesystem::path& path, const std::vector<T>& data) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(data.data()),
            static_cast<std::streamsize>(data.size() * sizeof(T)));
    if (!f) {
        throw std::runtime_error("bench vector: cannot write " + path.string());
    }
}

} // namespace agentd::gateway::bench
