#pragma once
/// sqlite-vec side of `agentd bench vector --sqlite-vec PATH`: the same vectors and queries run
/// through a vec0 virtual table of a run-time loaded sqlite-vec extension, so the benchmark can
/// print both stores side by side. sqlite-vec is never a build or run-time dependency of agentd:
/// nothing here links it, the extension is loaded only when the flag names a file.
///
/// Ownership: SqliteVecBench owns its own SQLite connection (separate from the memory store's)
/// and closes it on destruction. Thread affinity: one thread. Errors: the constructor throws
/// SqliteVecLoadError when the extension cannot be loaded (a usage error of the CLI, exit 2);
/// every later SQLite failure throws std::runtime_error with SQLite's message.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace agentd::gateway::bench {

/// The extension file is missing or is not a loadable sqlite-vec build.
struct SqliteVecLoadError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// sqlite-vec's two int8 forms.
enum class SqliteVecInt8 {
    rescore, ///< float[dim] indexed by rescore(quantizer=int8, oversample=F): int8 scan, then
             ///< float32 re-scoring of k * F candidates (what agentd's --int8 does)
    column,  ///< int8[dim] filled with vec_quantize_int8(v, 'unit'): int8 scan only, no re-score
};

/// How the vec0 column is declared, chosen to match the agentd mode being measured.
struct SqliteVecTable {
    std::size_t dim = 0;
    std::string metric = "l2"; ///< "l2" or "cosine" (vec0 has no inner-product metric)
    bool int8 = false;         ///< quantized search in the form `int8_form`
    SqliteVecInt8 int8_form = SqliteVecInt8::rescore;
    unsigned oversample = 8;   ///< rescore candidates = k * oversample (1..128)
    bool full_sync = true;     ///< PRAGMA synchronous=FULL (else NORMAL), WAL either way
    std::size_t cache_mib = 0; ///< PRAGMA cache_size in MiB; 0 keeps SQLite's default (2 MiB)
};

class SqliteVecBench {
public:
    /// Opens a new database file at `db_path` and loads the extension at `extension_path` on it.
    SqliteVecBench(const std::string& extension_path, const std::string& db_path);
    ~SqliteVecBench();
    SqliteVecBench(const SqliteVecBench&) = delete;
    SqliteVecBench& operator=(const SqliteVecBench&) = delete;

    /// vec_version() of the loaded extension, e.g. "v0.1.6".
    [[nodiscard]] const std::string& version() const { return version_; }
    /// The CREATE VIRTUAL TABLE statement used, for the report.
    [[nodiscard]] const std::string& declaration() const { return declaration_; }

    /// Creates the vec0 table; call once before insert().
    void create(const SqliteVecTable& table);
    /// Inserts row r of `rows` (row-major, dim floats each) with rowid r + 1, `batch` rows per
    /// transaction. Returns the wall time in seconds.
    double insert(const std::vector<float>& rows, std::size_t batch);
    /// Exact (or int8 + rescore) k-NN: rowids of the k nearest, nearest first.
    std::vector<std::int64_t> search(const float* query, std::size_t k);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::string version_;
    std::string declaration_;
    std::size_t dim_ = 0;
    std::string insert_sql_;
};

} // namespace agentd::gateway::bench
