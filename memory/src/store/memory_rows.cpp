#include "store/memory_rows.h"

#include "agentd/memory/errc.h"

#include "store/validate.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>

namespace agentd::memory::store::memories {

Memory read_memory(const sqlite::Statement& s, bool include_embedding) {
    Memory m;
    m.id = s.int64(0);
    m.ns = s.text(1);
    m.text = s.text(2);
    m.metadata_json = s.text(3);
    m.pinned = s.int64(4) != 0;
    m.dim = s.is_null(5) ? 0 : static_cast<std::uint32_t>(s.int64(5));
    m.model = s.is_null(6) ? std::string() : s.text(6);
    m.provenance_json = s.text(7);
    m.created_at_ms = s.int64(8);
    m.updated_at_ms = s.int64(9);
    if (include_embedding && !s.is_null(10)) {
        const auto blob = s.blob(10);
        m.embedding.resize(blob.size() / sizeof(float));
        std::memcpy(m.embedding.data(), blob.data(), m.embedding.size() * sizeof(float));
    }
    return m;
}

base::Result<std::optional<Memory>> load(sqlite::Connection& c, std::string_view tenant,
                                         std::int64_t id, bool include_embedding) {
    static const std::string sql =
        std::string("SELECT ") + kColumns + " FROM memories WHERE tenant_id = ? AND id = ?";
    auto stmt = c.prepare(sql);
    if (!stmt) {
        return stmt.error();
    }
    auto row = stmt->bind_all(tenant, id).step();
    if (!row) {
        return row.error();
    }
    if (!*row) {
        return std::optional<Memory>();
    }
    return std::optional<Memory>(read_memory(*stmt, include_embedding));
}

base::Result<void> check_embedding(const Limits& l, std::span<const float> e,
                                   std::string_view model) {
    if (e.empty()) {
        if (!model.empty()) {
            return base::fail(errc::invalid_argument, "model: given without an embedding");
        }
        return {};
    }
    if (e.size() > l.max_dim) {
        return base::fail(errc::invalid_argument,
                          "embedding: more than " + std::to_string(l.max_dim) + " dimensions");
    }
    for (float x : e) {
        if (!std::isfinite(x)) {
            return base::fail(errc::invalid_argument, "embedding: contains NaN or infinity");
        }
    }
    return check_id(l, "model", model);
}

base::Result<void> check_namespaces(const Limits& l, std::span<const std::string> namespaces) {
    if (namespaces.size() > 64) {
        return base::fail(errc::invalid_argument, "namespaces: at most 64");
    }
    for (const auto& ns : namespaces) {
        if (auto r = check_name(l, "namespace", ns); !r) {
            return r;
        }
    }
    return {};
}

std::optional<std::string> namespaces_json(std::span<const std::string> namespaces) {
    if (namespaces.empty()) {
        return std::nullopt;
    }
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& ns : namespaces) {
        arr.push_back(ns);
    }
    return arr.dump();
}

} // namespace agentd::memory::store::memories
