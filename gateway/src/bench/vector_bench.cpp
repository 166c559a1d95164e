// agentd bench vector: insert throughput, query latency and recall of the memory store's
// exact k-NN (optionally int8 + re-scoring) on the canonical vecdata.py data, generated here
// bit-exactly from its formula or read from its files. With --sqlite-vec PATH the same rows and
// queries also run through a vec0 table of that run-time loaded extension, printed side by side.
#include "agentd/memory/database.h"
#include "agentd/memory/memory_store.h"

#include "bench/benches.h"
#include "bench/vector_bench_data.h"
#include "bench/vector_bench_sqlite_vec.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
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
    std::string save_data;  // directory: write the base/query/ground-truth files vecdata.py names
    std::string sqlite_vec; // loadable sqlite-vec extension to measure side by side
    std::string sqlite_vec_int8 = "rescore";
    std::size_t sqlite_vec_cache_mib = 0;
    unsigned threads = 0;
    bool help = false;
};

constexpr const char* kUsage =
    "usage: agentd bench vector [options] [--json]\n"
    "  --n N                 rows to insert (default 100000; with --data: the file's rows)\n"
    "  --dim D               vector dimension (default 384)\n"
    "  --k K                 neighbours per query (default 10)\n"
    "  --queries Q           measured queries (default 200; with --queries-file: its rows)\n"
    "  --int8                search the int8 copy, then re-score candidates in float32\n"
    "  --rescore F           int8 candidates per result, k * F (default 8)\n"
    "  --metric M            l2 | cosine | dot (default l2; computed ground truth is l2)\n"
    "  --data FILE.f32       base vectors, row-major float32 (with --queries-file)\n"
    "  --queries-file FILE   query vectors, row-major float32 (with --data)\n"
    "  --ground-truth FILE   int32 ids, k per query (default: computed exactly, l2)\n"
    "  --durability D        full | normal: SQLite synchronous=FULL or NORMAL (default full)\n"
    "  --threads T           search workers of the store (default 0: cores, at most 8)\n"
    "  --save-data DIR       write the base, query and ground-truth files vecdata.py names\n"
    "  --sqlite-vec PATH     also measure this sqlite-vec loadable extension (vec0.so) on the\n"
    "                        same data: float[D] exact, or with --int8 a float[D] column\n"
    "                        indexed by rescore(quantizer=int8, oversample=F)\n"
    "  --sqlite-vec-int8 FORM  rescore (default, as above) | column: an int8[D] column of\n"
    "                        vec_quantize_int8(v, 'unit'), int8 distances only, no re-score\n"
    "  --sqlite-vec-cache-mib M  sqlite-vec connection's PRAGMA cache_size in MiB (default:\n"
    "                        room for every vector it stores, so both stores scan from RAM)\n"
    "  --json                print one JSON object as the last line of stdout\n"
    "  --help                this text\n";

std::size_t parse_count(const std::string& flag, const std::string& v, std::size_t max,
                        std::size_t min = 1) {
    std::size_t out = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc() || end != v.data() + v.size() || out < min || out > max) {
        throw UsageError(flag + " needs a whole number between " + std::to_string(min) + " and " +
                         std::to_string(max) + ", got '" + v + "'");
    }
    return out;
}

Options parse(const cli::Args& args) {
    Options o;
    auto next = [&](std::size_t& i) -> const std::string& {
        if (i + 1 >= args.size()) {
            throw UsageError(args[i] + " needs a value");
        }
        return args[++i];
    };
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--n") {
            o.n = parse_count(a, next(i), std::size_t{1} << 31);
        } else if (a == "--dim") {
            o.dim = parse_count(a, next(i), 65536);
        } else if (a == "--k") {
            o.k = parse_count(a, next(i), 4096);
        } else if (a == "--queries") {
            o.queries = parse_count(a, next(i), 1000000);
        } else if (a == "--int8") {
            o.int8 = true;
        } else if (a == "--json") {
            o.json = true;
        } else if (a == "--rescore") {
            o.rescore = static_cast<std::uint32_t>(parse_count(a, next(i), 128));
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
        } else if (a == "--save-data") {
            o.save_data = next(i);
        } else if (a == "--sqlite-vec") {
            o.sqlite_vec = next(i);
        } else if (a == "--sqlite-vec-int8") {
            o.sqlite_vec_int8 = next(i);
            if (o.sqlite_vec_int8 != "rescore" && o.sqlite_vec_int8 != "column") {
                throw UsageError("--sqlite-vec-int8 must be rescore or column");
            }
        } else if (a == "--sqlite-vec-cache-mib") {
            o.sqlite_vec_cache_mib = parse_count(a, next(i), 1 << 20);
        } else if (a == "--threads") {
            o.threads = static_cast<unsigned>(parse_count(a, next(i), 256, 0));
        } else if (a == "--help" || a == "-h") {
            o.help = true;
        } else {
            throw UsageError("unknown option " + a);
        }
    }
    if (o.data.empty() != o.queries_file.empty()) {
        throw UsageError("--data and --queries-file go together");
    }
    if (o.durability != "full" && o.durability != "normal") {
        throw UsageError("--durability must be full or normal");
    }
    if (o.metric != "l2" && o.metric != "cosine" && o.metric != "dot") {
        throw UsageError("--metric must be l2, cosine or dot");
    }
    if (!o.sqlite_vec.empty() && o.metric == "dot") {
        throw UsageError("--sqlite-vec: vec0 has no dot metric; use l2 or cosine");
    }
    return o;
}

memory::Metric metric_of(const std::string& m) {
    if (m == "cosine") {
        return memory::Metric::cosine;
    }
    return m == "dot" ? memory::Metric::dot : memory::Metric::l2;
}

/// What one store achieved on the run's data.
struct Measured {
    double insert_per_s = 0;
    double p50_ms = 0;
    double p99_ms = 0;
    double recall = 0;
};

/// The data every store is measured on: rows, queries and the true k nearest rows per query.
struct Data {
    std::vector<float> base, queries;
    std::vector<std::int32_t> truth;
};

/// Runs 10 warm-up queries, then every query once timed; `search` returns the hits as row
/// indexes into the base set.
Measured run_queries(const Options& o, const Data& d,
                     const std::function<std::vector<std::int64_t>(const float*)>& search) {
    Measured m;
    std::vector<double> latencies;
    double recall_sum = 0;
    for (std::size_t qi = 0; qi < std::min<std::size_t>(10, o.queries); ++qi) {
        search(&d.queries[qi * o.dim]);
    }
    for (std::size_t qi = 0; qi < o.queries; ++qi) {
        const auto t0 = Clock::now();
        const std::vector<std::int64_t> rows = search(&d.queries[qi * o.dim]);
        latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        const auto first = d.truth.begin() + static_cast<std::ptrdiff_t>(qi * o.k);
        std::size_t found = 0;
        for (const std::int64_t row : rows) {
            found += static_cast<std::size_t>(
                std::count(first, first + static_cast<std::ptrdiff_t>(o.k), row));
        }
        recall_sum += static_cast<double>(found) / static_cast<double>(o.k);
    }
    m.p50_ms = percentile(latencies, 0.5);
    m.p99_ms = percentile(latencies, 0.99);
    m.recall = recall_sum / static_cast<double>(o.queries);
    return m;
}

/// The memory store: SQLite rows + the in-memory mirror, 10k rows per transaction.
Measured measure_agentd(const Options& o, const Data& d, const std::filesystem::path& dir,
                        std::string& kernel) {
    memory::DatabaseOptions dbo;
    dbo.path = (dir / "agentd.db").string();
    dbo.durability =
        o.durability == "normal" ? memory::Durability::normal : memory::Durability::full;
    dbo.search_threads = o.threads;
    auto db = memory::Database::open(dbo).value();
    std::vector<std::int64_t> ids;
    ids.reserve(o.n);
    const auto t_insert = Clock::now();
    std::vector<memory::NewMemory> batch;
    for (std::size_t r = 0; r < o.n; ++r) {
        memory::NewMemory m;
        m.embedding.assign(d.base.begin() + static_cast<std::ptrdiff_t>(r * o.dim),
                           d.base.begin() + static_cast<std::ptrdiff_t>((r + 1) * o.dim));
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
    q.metric = metric_of(o.metric);
    q.k = o.k;
    q.int8 = o.int8;
    q.rescore_factor = o.rescore;
    q.fetch_rows = false;
    Measured m = run_queries(o, d, [&](const float* v) {
        q.embedding.assign(v, v + o.dim);
        std::vector<std::int64_t> rows;
        for (const auto& h : db->memories().search("bench", q).value()) {
            rows.push_back(std::lower_bound(ids.begin(), ids.end(), h.id) - ids.begin());
        }
        return rows;
    });
    m.insert_per_s = static_cast<double>(o.n) / insert_s;
    kernel = db->stats().vector_kernel;
    return m;
}

/// The same rows (rowid = row + 1) and queries through sqlite-vec's vec0 table.
Measured measure_sqlite_vec(const Options& o, const Data& d, SqliteVecBench& sv) {
    SqliteVecTable t;
    t.dim = o.dim;
    t.metric = o.metric;
    t.int8 = o.int8;
    t.int8_form = o.sqlite_vec_int8 == "column" ? SqliteVecInt8::column : SqliteVecInt8::rescore;
    t.oversample = o.rescore;
    // Unless told otherwise, SQLite's page cache gets room for all it stores (float rows, int8
    // rows, or both for the rescore index), as the memory store keeps its mirror in RAM: the
    // default 2 MiB cache would measure re-reads through the OS page cache instead.
    const std::size_t per_row = !o.int8                                ? o.dim * 4
                                : t.int8_form == SqliteVecInt8::column ? o.dim
                                                                       : o.dim * 5;
    t.cache_mib =
        o.sqlite_vec_cache_mib > 0 ? o.sqlite_vec_cache_mib : (o.n * per_row * 5 / 4 >> 20) + 16;
    t.full_sync = o.durability == "full";
    sv.create(t);
    const double insert_s = sv.insert(d.base, 10000);
    Measured m = run_queries(o, d, [&](const float* v) {
        std::vector<std::int64_t> rows = sv.search(v, o.k);
        for (auto& r : rows) {
            --r;
        }
        return rows;
    });
    m.insert_per_s = static_cast<double>(o.n) / insert_s;
    return m;
}

Data load_data(Options& o) {
    Data d;
    if (!o.data.empty()) {
        d.base = read_file<float>(o.data, o.dim, o.n);
        d.queries = read_file<float>(o.queries_file, o.dim, o.queries);
        if (o.n == 0 || o.queries == 0) {
            throw UsageError("--data and --queries-file need at least one row each");
        }
    } else {
        d.base = generate(20261122, o.n, o.dim);
        d.queries = generate(20261123, o.queries, o.dim);
    }
    if (!o.ground_truth.empty()) {
        std::size_t rows = 0;
        d.truth = read_file<std::int32_t>(o.ground_truth, o.k, rows);
        if (rows != o.queries) {
            throw UsageError("ground truth has " + std::to_string(rows) + " rows for " +
                             std::to_string(o.queries) + " queries");
        }
    } else {
        if (o.metric != "l2") {
            throw UsageError("computed ground truth is L2; use --metric l2 or --ground-truth");
        }
        d.truth = ground_truth(d.base, d.queries, o.dim, o.k);
    }
    return d;
}

void save_data(const Options& o, const Data& d) {
    // The same names vecdata.py writes (default stream, no --normalize), for other tools.
    const std::filesystem::path out(o.save_data);
    std::filesystem::create_directories(out);
    const std::string nd = std::to_string(o.n) + "x" + std::to_string(o.dim);
    write_file(out / ("base_" + nd + ".f32"), d.base);
    write_file(out / ("query_" + std::to_string(o.queries) + "x" + std::to_string(o.dim) + ".f32"),
               d.queries);
    write_file(
        out / ("gt_" + nd + "_q" + std::to_string(o.queries) + "_k" + std::to_string(o.k) + ".i32"),
        d.truth);
}

struct TempDir {
    std::filesystem::path p;
    TempDir()
        : p(std::filesystem::temp_directory_path() /
            ("agentd-bench-vector-" + std::to_string(::getpid()))) {
        std::filesystem::create_directories(p);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(p, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

int run(Options& o) {
    TempDir dir;
    // The extension loads first, so a bad path fails before minutes of data generation.
    std::unique_ptr<SqliteVecBench> sv;
    if (!o.sqlite_vec.empty()) {
        sv = std::make_unique<SqliteVecBench>(o.sqlite_vec, (dir.p / "sqlite-vec.db").string());
    }
    const Data d = load_data(o);
    if (!o.save_data.empty()) {
        save_data(o, d);
    }
    std::string kernel;
    const Measured ours = measure_agentd(o, d, dir.p, kernel);
    std::optional<Measured> theirs;
    if (sv) {
        theirs = measure_sqlite_vec(o, d, *sv);
    }
    const double bw = read_bandwidth_gbps();
    const double scanned =
        static_cast<double>(o.n) *
        static_cast<double>(o.int8 ? (o.dim + 63) / 64 * 64 : (o.dim + 15) / 16 * 16 * 4);
    const double floor_ms = scanned / (bw * 1e9) * 1e3;
    std::printf("vector: n=%zu dim=%zu k=%zu queries=%zu %s metric=%s kernel=%s threads=%u\n", o.n,
                o.dim, o.k, o.queries, o.int8 ? "int8+rescore" : "float32", o.metric.c_str(),
                kernel.c_str(), o.threads);
    std::printf("  agentd:     insert %.0f vectors/s; query p50 %.3f ms, p99 %.3f ms; "
                "recall@%zu %.4f\n",
                ours.insert_per_s, ours.p50_ms, ours.p99_ms, o.k, ours.recall);
    if (theirs) {
        std::printf("  sqlite-vec: insert %.0f vectors/s; query p50 %.3f ms, p99 %.3f ms; "
                    "recall@%zu %.4f\n",
                    theirs->insert_per_s, theirs->p50_ms, theirs->p99_ms, o.k, theirs->recall);
        std::printf("  sqlite-vec %s: %s\n", sv->version().c_str(), sv->declaration().c_str());
        std::printf("  agentd vs sqlite-vec: p50 %.2fx faster, p99 %.2fx faster, insert %.2fx\n",
                    theirs->p50_ms / ours.p50_ms, theirs->p99_ms / ours.p99_ms,
                    ours.insert_per_s / theirs->insert_per_s);
    }
    std::printf("  read bandwidth %.1f GB/s -> scan floor %.3f ms (p50 / floor = %.2f)\n", bw,
                floor_ms, ours.p50_ms / floor_ms);
    if (o.json) {
        std::printf("{\"p50_ms\": %.4f, \"p99_ms\": %.4f, \"insert_per_s\": %.1f, "
                    "\"recall_at_k\": %.5f, \"floor_ms\": %.4f, \"read_gb_per_s\": %.2f, "
                    "\"kernel\": \"%s\", \"n\": %zu, \"dim\": %zu, \"k\": %zu, \"int8\": %s",
                    ours.p50_ms, ours.p99_ms, ours.insert_per_s, ours.recall, floor_ms, bw,
                    kernel.c_str(), o.n, o.dim, o.k, o.int8 ? "true" : "false");
        if (theirs) {
            std::printf(", \"sqlite_vec\": {\"version\": \"%s\", \"mode\": \"%s\", "
                        "\"p50_ms\": %.4f, \"p99_ms\": %.4f, \"insert_per_s\": %.1f, "
                        "\"recall_at_k\": %.5f, \"p50_speedup\": %.3f, \"p99_speedup\": %.3f, "
                        "\"insert_speedup\": %.3f}",
                        sv->version().c_str(),
                        !o.int8                         ? "float32"
                        : o.sqlite_vec_int8 == "column" ? "int8_column"
                                                        : "int8_rescore",
                        theirs->p50_ms, theirs->p99_ms, theirs->insert_per_s, theirs->recall,
                        theirs->p50_ms / ours.p50_ms, theirs->p99_ms / ours.p99_ms,
                        ours.insert_per_s / theirs->insert_per_s);
        }
        std::printf("}\n");
    }
    return 0;
}

} // namespace

int vector_bench(const cli::Args& args) {
    try {
        Options o = parse(args);
        if (o.help) {
            std::fputs(kUsage, stdout);
            return 0;
        }
        return run(o);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "agentd bench vector: %s (see --help)\n", e.what());
        return 2;
    } catch (const SqliteVecLoadError& e) {
        std::fprintf(stderr, "agentd bench vector: %s\n", e.what());
        return 2;
    }
}

} // namespace agentd::gateway::bench
