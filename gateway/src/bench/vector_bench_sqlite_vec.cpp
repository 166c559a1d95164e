// The sqlite-vec side of `agentd bench vector`: a vec0 table on its own connection, loaded from
// the extension file given on the command line, fed the same rows and queries as the memory store.
#include "bench/vector_bench_sqlite_vec.h"

#include <sqlite3.h>

#include <dlfcn.h>

#include <chrono>
#include <filesystem>
#include <system_error>

namespace agentd::gateway::bench {

struct SqliteVecBench::Impl {
    sqlite3* db = nullptr;
    sqlite3_stmt* query = nullptr;

    ~Impl() {
        sqlite3_finalize(query);
        sqlite3_close_v2(db);
    }

    [[noreturn]] void fail(const std::string& what) const {
        throw std::runtime_error("sqlite-vec: " + what + ": " + sqlite3_errmsg(db));
    }

    void exec(const std::string& sql) const {
        char* err = nullptr;
        if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
            std::string msg = err != nullptr ? err : "unknown error";
            sqlite3_free(err);
            throw std::runtime_error("sqlite-vec: " + sql + ": " + msg);
        }
    }

    sqlite3_stmt* prepare(const std::string& sql) const {
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
            fail(sql);
        }
        return st;
    }
};

namespace {

/// Loads the extension through the C API only: SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION leaves the
/// SQL function load_extension() disabled, and loading is switched off again afterwards.
void load_extension(sqlite3* db, const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        throw SqliteVecLoadError("--sqlite-vec " + path + ": no such file");
    }
    // SQLite retries a failed load with ".so" appended and reports only that second failure, so
    // the file itself is tried first for a message about the right file.
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char* why = ::dlerror();
        throw SqliteVecLoadError("--sqlite-vec " + path + " is not a loadable library: " +
                                 (why != nullptr ? why : "dlopen failed"));
    }
    ::dlclose(handle);
    int enabled = 0;
    if (sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 1, &enabled) != SQLITE_OK ||
        enabled != 1) {
        throw SqliteVecLoadError("--sqlite-vec: this SQLite cannot load extensions");
    }
    char* err = nullptr;
    // sqlite-vec's entry point, named explicitly so the file may be called anything.
    const int rc = sqlite3_load_extension(db, path.c_str(), "sqlite3_vec_init", &err);
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        throw SqliteVecLoadError("--sqlite-vec " + path + " is not a loadable sqlite-vec: " + msg);
    }
}

} // namespace

SqliteVecBench::SqliteVecBench(const std::string& extension_path, const std::string& db_path)
    : impl_(std::make_unique<Impl>()) {
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(db_path.c_str(), &impl_->db, flags, nullptr) != SQLITE_OK) {
        impl_->fail("open " + db_path);
    }
    load_extension(impl_->db, extension_path);
    sqlite3_stmt* st = impl_->prepare("SELECT vec_version()");
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != nullptr) {
        // Kept to plain printable characters: it is printed into the --json object verbatim.
        for (const char* c = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
             *c != '\0' && version_.size() < 64; ++c) {
            if (*c > ' ' && *c < 127 && *c != '"' && *c != '\\') {
                version_ += *c;
            }
        }
    }
    sqlite3_finalize(st);
    if (version_.empty()) {
        throw SqliteVecLoadError("--sqlite-vec " + extension_path + ": vec_version() failed");
    }
}

SqliteVecBench::~SqliteVecBench() = default;

void SqliteVecBench::create(const SqliteVecTable& t) {
    if (t.metric != "l2" && t.metric != "cosine") {
        throw std::runtime_error("sqlite-vec: metric " + t.metric + " has no vec0 equivalent");
    }
    dim_ = t.dim;
    // The same journal and sync settings as the memory store's database.
    impl_->exec("PRAGMA journal_mode=WAL");
    impl_->exec(t.full_sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    if (t.cache_mib > 0) {
        impl_->exec("PRAGMA cache_size=-" + std::to_string(t.cache_mib * 1024));
    }
    const std::string d = std::to_string(t.dim);
    const bool column = t.int8 && t.int8_form == SqliteVecInt8::column;
    declaration_ = "CREATE VIRTUAL TABLE v USING vec0(embedding " +
                   std::string(column ? "int8[" : "float[") + d + "] distance_metric=" + t.metric;
    if (t.int8 && !column) {
        declaration_ +=
            " indexed by rescore(quantizer=int8, oversample=" + std::to_string(t.oversample) + ")";
    }
    declaration_ += ")";
    impl_->exec(declaration_);
    // The int8 column takes sqlite-vec's own quantization of the float rows and queries.
    const std::string value = column ? "vec_quantize_int8(?2, 'unit')" : "?2";
    insert_sql_ = "INSERT INTO v(rowid, embedding) VALUES (?1, " + value + ")";
    impl_->query =
        impl_->prepare(std::string("SELECT rowid FROM v WHERE embedding MATCH ") +
                       (column ? "vec_quantize_int8(?1, 'unit')" : "?1") + " AND k = ?2");
    if (t.cache_mib > 0) {
        declaration_ += "; PRAGMA cache_size=-" + std::to_string(t.cache_mib * 1024);
    }
}

double SqliteVecBench::insert(const std::vector<float>& rows, std::size_t batch) {
    const auto t0 = std::chrono::steady_clock::now();
    sqlite3_stmt* st = impl_->prepare(insert_sql_);
    const std::size_t n = rows.size() / dim_;
    const int bytes = static_cast<int>(dim_ * sizeof(float));
    try {
        for (std::size_t r = 0; r < n; ++r) {
            if (r % batch == 0) {
                impl_->exec("BEGIN");
            }
            sqlite3_bind_int64(st, 1, static_cast<sqlite3_int64>(r + 1));
            sqlite3_bind_blob(st, 2, &rows[r * dim_], bytes, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE) {
                impl_->fail("insert row " + std::to_string(r));
            }
            sqlite3_reset(st);
            if ((r + 1) % batch == 0 || r + 1 == n) {
                impl_->exec("COMMIT");
            }
        }
    } catch (...) {
        sqlite3_finalize(st);
        throw;
    }
    sqlite3_finalize(st);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<std::int64_t> SqliteVecBench::search(const float* query, std::size_t k) {
    sqlite3_stmt* st = impl_->query;
    sqlite3_bind_blob(st, 1, query, static_cast<int>(dim_ * sizeof(float)), SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, static_cast<sqlite3_int64>(k));
    std::vector<std::int64_t> out;
    out.reserve(k);
    int rc = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        out.push_back(sqlite3_column_int64(st, 0));
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        impl_->fail("k-NN query");
    }
    return out;
}

} // namespace agentd::gateway::bench
