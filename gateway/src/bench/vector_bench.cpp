// agentd bench vector: insert throughput, query latency and recall of the memory store's
// exact k-NN (optionally int8 + re-scoring) on the canonical vecdata.py data, generated here
// bit-exactly from its formula or read from its files.
#include "agentd/memory/database.h"
#include "agentd/memory/memory_store.h"

#include "bench/benches.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace agentd::gateway::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
    std::size_t n = 100000;
    std::size_t dim = 384;
    std::size_t k = 10;
    std::size_t queries = 200;
    bool int8 = false;
    bool json = false;
    std::uint32_t rescore = 8;
    std::string metric = "l2";
    std::string data, queries_file, ground_truth;
    std::string durability = "full";
    unsigned threads = 0;
};

Options parse(const cli::Args& args) {
    Options o;
    auto next = [&](std::size_t& i) -> const std::string& {
        if (i + 1 >= args.size()) {
            throw std::runtime_error("bench vector: " + args[i] + " needs a value");
        }
        return args[++i];
    };
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--n") {
            o.n = std::stoull(next(i));
        } else if (a == "--dim") {
            o.dim = std::stoull(next(i));
        } else if (a == "--k") {
            o.k = std::stoull(next(i));
        } else if (a == "--queries") {
            o.queries = std::stoull(next(i));
        } else if (a == "--int8") {
            o.int8 = true;
        } else if (a == "--json") {
            o.json = true;
        } else if (a == "--rescore") {
            o.rescore = static_cast<std::uint32_t>(std::stoul(next(i)));
        } else if (a == "--metric") {
            o.metric = next(i);
        } else if (a == "--data") {
            o.data = next(i);
        } else if (a == "--queries-file") {
            o.queries_file = next(i);
        } else if (a == "--ground-truth") {
            o.ground_truth = next(i);
        } else if (a == "--durability") {
            o.durability = next(i);
        } else if (a == "--threads") {
            o.threads = static_cast<unsigned>(std::stoul(next(i)));
        } else {
            throw std::runtime_error("bench vector: unknown option " + a);
        }
    }
    if (o.dim == 0 || o.n == 0 || o.k == 0 || o.queries == 0) {
        throw std::runtime_error("bench vector: --n, --dim, --k and --queries must be positive");
    }
    if (o.data.empty() != o.queries_file.empty()) {
        throw std::runtime_error("bench vector: --data and --queries-file go together");
    }
    return o;
}

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

template <class T>
std::vector<T> read_file(const std::string& path, std::size_t row_len, std::size_t& rows) {
    std::ifstream f(path, std::ios::binary | std::ios::ate);
    if (!f) {
        throw std::runtime_error("bench vector: cannot read " + path);
    }
    const auto bytes = static_cast<std::size_t>(f.tellg());
    if (bytes % (row_len * sizeof(T)) != 0) {
        throw std::runtime_error("bench vector: " + path + " is not a whole number of rows");
    }
    rows = bytes / (row_len * sizeof(T));
    std::vector<T> out(bytes / sizeof(T));
    f.seekg(0);
    f.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(bytes));
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

volatile std::uint64_t sink_ = 0;

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

memory::Metric metric_of(const std::string& m) {
    if (m == "l2") {
        return memory::Metric::l2;
    }
    if (m == "cosine") {
        return memory::Metric::cosine;
    }
    if (m == "dot") {
        return memory::Metric::dot;
    }
    throw std::runtime_error("bench vector: --metric must be l2, cosine or dot");
}

} // namespace

int vector_bench(const cli::Args& args) {
    Options o = parse(args);
    const memory::Metric metric = metric_of(o.metric);
    std::vector<float> base, queries;
    if (!o.data.empty()) {
        base = read_file<float>(o.data, o.dim, o.n);
        queries = read_file<float>(o.queries_file, o.dim, o.queries);
    } else {
        base = generate(20261122, o.n, o.dim);
        queries = generate(20261123, o.queries, o.dim);
    }
    std::vector<std::int32_t> truth;
    if (!o.ground_truth.empty()) {
        std::size_t rows = 0;
        truth = read_file<std::int32_t>(o.ground_truth, o.k, rows);
        if (rows != o.queries) {
            throw std::runtime_error("bench vector: ground truth has " + std::to_string(rows) +
                                     " rows for " + std::to_string(o.queries) + " queries");
        }
    } else {
        if (metric != memory::Metric::l2) {
            throw std::runtime_error("bench vector: computed ground truth is L2; use --metric l2");
        }
        truth = ground_truth(base, queries, o.dim, o.k);
    }

    const auto dir = std::filesystem::temp_directory_path() /
                     ("agentd-bench-vector-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    struct Cleanup {
        std::filesystem::path p;
        ~Cleanup() {
            std::error_code ec;
            std::filesystem::remove_all(p, ec);
        }
    } cleanup{dir};
    memory::DatabaseOptions dbo;
    dbo.path = (dir / "agentd.db").string();
    dbo.durability =
        o.durability == "normal" ? memory::Durability::normal : memory::Durability::full;
    dbo.search_threads = o.threads;
    auto db = memory::Database::open(dbo).value();

    // Insert through the real store: SQLite rows + the mirror, 10k rows per transaction.
    std::vector<std::int64_t> ids;
    ids.reserve(o.n);
    const auto t_insert = Clock::now();
    std::vector<memory::NewMemory> batch;
    for (std::size_t r = 0; r < o.n; ++r) {
        memory::NewMemory m;
        m.embedding.assign(base.begin() + static_cast<std::ptrdiff_t>(r * o.dim),
                           base.begin() + static_cast<std::ptrdiff_t>((r + 1) * o.dim));
        m.model = "bench";
        batch.push_back(std::move(m));
        if (batch.size() == 10000 || r + 1 == o.n) {
            auto got = db->memories().put_many("bench", batch).value();
            ids.insert(ids.end(), got.begin(), got.end());
            batch.clear();
        }
    }
    const double insert_s = std::chrono::duration<double>(Clock::now() - t_insert).count();

    memory::SearchQuery q;
    q.model = "bench";
    q.metric = metric;
    q.k = o.k;
    q.int8 = o.int8;
    q.rescore_factor = o.rescore;
    q.fetch_rows = false;
    std::vector<double> latencies;
    double recall_sum = 0;
    for (std::size_t pass = 0; pass < 2; ++pass) { // pass 0 warms caches, pass 1 is measured
        for (std::size_t qi = 0; qi < o.queries; ++qi) {
            q.embedding.assign(queries.begin() + static_cast<std::ptrdiff_t>(qi * o.dim),
                               queries.begin() + static_cast<std::ptrdiff_t>((qi + 1) * o.dim));
            const auto t0 = Clock::now();
            auto hits = db->memories().search("bench", q).value();
            const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
            if (pass == 0 && qi >= 10) {
                break;
            }
            if (pass == 1) {
                latencies.push_back(ms);
                std::size_t found = 0;
                for (const auto& h : hits) {
                    const auto row = static_cast<std::int32_t>(
                        std::lower_bound(ids.begin(), ids.end(), h.id) - ids.begin());
                    found += static_cast<std::size_t>(std::count(
                        truth.begin() + static_cast<std::ptrdiff_t>(qi * o.k),
                        truth.begin() + static_cast<std::ptrdiff_t>((qi + 1) * o.k), row));
                }
                recall_sum += static_cast<double>(found) / static_cast<double>(o.k);
            }
        }
    }
    const double bw = read_bandwidth_gbps();
    const double scanned =
        static_cast<double>(o.n) *
        static_cast<double>(o.int8 ? (o.dim + 63) / 64 * 64 : (o.dim + 15) / 16 * 16 * 4);
    const double floor_ms = scanned / (bw * 1e9) * 1e3;
    const double p50 = percentile(latencies, 0.5);
    const double p99 = percentile(latencies, 0.99);
    const double recall = recall_sum / static_cast<double>(o.queries);
    const double insert_per_s = static_cast<double>(o.n) / insert_s;
    const auto stats = db->stats();
    std::printf("vector: n=%zu dim=%zu k=%zu queries=%zu %s metric=%s kernel=%s threads=%u\n", o.n,
                o.dim, o.k, o.queries, o.int8 ? "int8+rescore" : "float32", o.metric.c_str(),
                stats.vector_kernel, o.threads);
    std::printf("  insert %.0f vectors/s; query p50 %.3f ms, p99 %.3f ms; recall@%zu %.4f\n",
                insert_per_s, p50, p99, o.k, recall);
    std::printf("  read bandwidth %.1f GB/s -> scan floor %.3f ms (p50 / floor = %.2f)\n", bw,
                floor_ms, p50 / floor_ms);
    if (o.json) {
        std::printf("{\"p50_ms\": %.4f, \"p99_ms\": %.4f, \"insert_per_s\": %.1f, "
                    "\"recall_at_k\": %.5f, \"floor_ms\": %.4f, \"read_gb_per_s\": %.2f, "
                    "\"kernel\": \"%s\", \"n\": %zu, \"dim\": %zu, \"k\": %zu, \"int8\": %s}\n",
                    p50, p99, insert_per_s, recall, floor_ms, bw, stats.vector_kernel, o.n, o.dim,
                    o.k, o.int8 ? "true" : "false");
    }
    return 0;
}

} // namespace agentd::gateway::bench
