#pragma once
/// Value types shared by the memory stores: limits, pages, timestamps.
///
/// Every store call names a tenant; rows of other tenants are invisible to it (reads, counts,
/// searches, updates and deletes alike). JSON columns travel as std::string holding one JSON
/// value; the stores validate them (well-formed, size and nesting bounded) and return
/// errc::invalid_argument otherwise.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace agentd::memory {

/// Bounds on what callers may store; violations are errc::invalid_argument with the field named.
struct Limits {
    std::size_t max_tenant_bytes = 128;
    std::size_t max_id_bytes = 256;        // session, task, artifact, tool names, namespaces
    std::size_t max_json_bytes = 4u << 20; // any JSON column
    std::size_t max_json_depth = 64;       // nesting of any JSON column
    std::size_t max_text_bytes = 1u << 20; // memory text, summaries
    std::size_t max_dim = 4096;            // embedding dimensions
    std::size_t max_batch = 100000;        // rows per put_many
    std::size_t max_page = 1000;           // rows per list page
    std::size_t max_k = 1000;              // search results
};

/// A page request: at most `limit` rows (0 → 100, clamped to Limits::max_page) after the opaque
/// `cursor` returned by the previous page (empty → first page).
struct PageRequest {
    std::size_t limit = 100;
    std::string cursor;
};

/// One page of results; `next_cursor` is empty on the last page.
template <class T>
struct Page {
    std::vector<T> items;
    std::string next_cursor;
};

} // namespace agentd::memory
