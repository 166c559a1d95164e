#include "builtin/memory_service.h"

#include "agentd/memory/errc.h"
#include "agentd/memory/memory_store.h"

#include "builtin/memory_embedder.h"
#include "openai/openai_module.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <set>

namespace agentd::gateway::builtin {
namespace {

using json = nlohmann::json;

constexpr std::size_t kMaxBatch = 100;
constexpr std::size_t kMaxIds = 1000;
constexpr std::size_t kMaxK = 100;
constexpr std::size_t kMaxQueryBytes = 8192;

MemoryReply error_reply(unsigned status, std::string code, std::string message) {
    return {status, json{{"error", {{"code", std::move(code)}, {"message", std::move(message)}}}}};
}

MemoryReply invalid(const std::string& field, const std::string& what) {
    return error_reply(400, "invalid_request", field + ": " + what);
}

MemoryReply from_error(const base::Error& e) {
    using memory::errc;
    if (e.code == errc::invalid_argument) {
        return error_reply(400, "invalid_request", e.what());
    }
    if (e.code == errc::not_found) {
        return error_reply(404, "memory_not_found", e.what());
    }
    if (e.code == errc::busy || e.code == errc::queue_full || e.code == errc::shutting_down) {
        return error_reply(503, "busy", e.what());
    }
    if (e.code == errc::disk_full || e.code == errc::read_only) {
        return error_reply(507, "storage_full", e.what());
    }
    return error_reply(500, "storage_failed", e.what());
}

/// Refuses fields outside `allowed`; nullopt when all are known.
std::optional<MemoryReply> unknown_field(const json& body,
                                         std::initializer_list<const char*> allowed) {
    for (const auto& [k, v] : body.items()) {
        if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return k == a; })) {
            return invalid(k, "unknown field");
        }
    }
    return std::nullopt;
}

/// "namespace": a string or an array of strings (absent → every namespace).
std::optional<MemoryReply> read_namespaces(const json& body, std::vector<std::string>& out) {
    const auto it = body.find("namespace");
    if (it == body.end() || it->is_null()) {
        return std::nullopt;
    }
    if (it->is_string()) {
        out.push_back(it->get<std::string>());
        return std::nullopt;
    }
    if (!it->is_array() || it->size() > 100) {
        return invalid("namespace", "must be a string or an array of at most 100 strings");
    }
    for (const auto& v : *it) {
        if (!v.is_string()) {
            return invalid("namespace", "must be a string or an array of strings");
        }
        out.push_back(v.get<std::string>());
    }
    return std::nullopt;
}

std::optional<MemoryReply> read_filter(const json& body, std::string& out) {
    const auto it = body.find("filter");
    if (it == body.end() || it->is_null()) {
        return std::nullopt;
    }
    if (!it->is_object()) {
        return invalid("filter", "must be a JSON object (see docs/MEMORY.md)");
    }
    out = it->dump();
    return std::nullopt;
}

/// One memory of a store request, and whether it still needs an embedding.
std::optional<MemoryReply> read_new_memory(const json& item, const std::string& where,
                                           memory::NewMemory& m) {
    if (!item.is_object()) {
        return invalid(where, "must be a JSON object");
    }
    for (const auto& [k, v] : item.items()) {
        if (k == "text" && v.is_string() && !v.get_ref<const std::string&>().empty()) {
            m.text = v.get<std::string>();
        } else if (k == "namespace" && v.is_string()) {
            m.ns = v.get<std::string>();
        } else if (k == "metadata" && v.is_object()) {
            m.metadata_json = v.dump();
        } else if (k == "pinned" && v.is_boolean()) {
            m.pinned = v.get<bool>();
        } else if (k == "embedding_model" && v.is_string()) {
            m.model = v.get<std::string>();
        } else if (k == "embedding" && v.is_array() && !v.empty()) {
            for (const auto& f : v) {
                if (!f.is_number()) {
                    return invalid(where + ".embedding", "must be an array of numbers");
                }
                m.embedding.push_back(f.get<float>());
            }
        } else {
            const bool known = k == "text" || k == "namespace" || k == "metadata" ||
                               k == "pinned" || k == "embedding_model" || k == "embedding";
            return known ? invalid(where + "." + k, k == "text"       ? "must be a non-empty string"
                                                    : k == "metadata" ? "must be a JSON object"
                                                    : k == "pinned"   ? "must be a boolean"
                                                    : k == "embedding"
                                                        ? "must be a non-empty array of numbers"
                                                        : "must be a string")
                         : invalid(where + "." + k, "unknown field");
        }
    }
    if (m.text.empty()) {
        return invalid(where + ".text", "is required");
    }
    if (m.embedding.empty() != m.model.empty()) {
        return invalid(where + ".embedding_model", "goes with embedding (both or neither)");
    }
    return std::nullopt;
}

/// The memories of a store request: one object, or {"memories": [...]}.
std::optional<MemoryReply> read_store_request(const json& body,
                                              std::vector<memory::NewMemory>& items) {
    if (!body.is_object()) {
        return invalid("body", "must be a JSON object");
    }
    if (!body.contains("memories")) {
        items.emplace_back();
        return read_new_memory(body, "body", items.back());
    }
    if (auto bad = unknown_field(body, {"memories"})) {
        return bad;
    }
    const json& list = body["memories"];
    if (!list.is_array() || list.empty() || list.size() > kMaxBatch) {
        return invalid("memories",
                       "must be an array of 1 to " + std::to_string(kMaxBatch) + " memories");
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
        items.emplace_back();
        if (auto bad =
                read_new_memory(list[i], "memories[" + std::to_string(i) + "]", items.back())) {
            return bad;
        }
    }
    return std::nullopt;
}

/// A search request: the query (namespaces, filter, k), its text and the requested mode.
std::optional<MemoryReply> read_search_request(const json& body, memory::SearchQuery& q,
                                               std::string& text, std::string& mode) {
    if (!body.is_object()) {
        return invalid("body", "must be a JSON object");
    }
    if (auto bad = unknown_field(body, {"query", "namespace", "filter", "k", "mode"})) {
        return bad;
    }
    const auto query = body.find("query");
    if (query == body.end() || !query->is_string() ||
        query->get_ref<const std::string&>().empty() ||
        query->get_ref<const std::string&>().size() > kMaxQueryBytes) {
        return invalid("query", "must be a non-empty string of at most " +
                                    std::to_string(kMaxQueryBytes) + " bytes");
    }
    text = query->get<std::string>();
    if (auto bad = read_namespaces(body, q.namespaces)) {
        return bad;
    }
    if (auto bad = read_filter(body, q.filter_json)) {
        return bad;
    }
    if (const auto k = body.find("k"); k != body.end()) {
        if (!k->is_number_integer() || k->get<std::int64_t>() < 1 ||
            k->get<std::int64_t>() > static_cast<std::int64_t>(kMaxK)) {
            return invalid("k", "must be an integer from 1 to " + std::to_string(kMaxK));
        }
        q.k = k->get<std::size_t>();
    }
    const json mode_value = body.value("mode", json("auto"));
    mode = mode_value.is_string() ? mode_value.get<std::string>() : "";
    if (mode != "auto" && mode != "hybrid" && mode != "keyword" && mode != "vector") {
        return invalid("mode", "must be \"auto\", \"hybrid\", \"keyword\" or \"vector\"");
    }
    return std::nullopt;
}

json parse_or_string(const std::string& text) {
    try {
        return json::parse(text);
    } catch (const json::exception&) {
        return text;
    }
}

json hit_json(const memory::SearchHit& h) {
    json j = h.memory ? memory_json(*h.memory) : json{{"id", h.id}};
    j["score"] = h.score;
    if (h.vector_score) {
        j["vector_score"] = *h.vector_score;
    }
    if (h.keyword_score) {
        j["keyword_score"] = *h.keyword_score;
    }
    return j;
}

} // namespace

std::string MemoryReply::message() const {
    if (body.is_object() && body.contains("error")) {
        return body["error"].value("message", std::string("error"));
    }
    return {};
}

json memory_json(const memory::Memory& m) {
    json j = {{"id", m.id},
              {"namespace", m.ns},
              {"text", m.text},
              {"metadata", parse_or_string(m.metadata_json)},
              {"pinned", m.pinned},
              {"created_at_ms", m.created_at_ms},
              {"updated_at_ms", m.updated_at_ms}};
    if (!m.model.empty()) {
        j["embedding_model"] = m.model;
        j["dim"] = m.dim;
    }
    return j;
}

MemoryService::MemoryService(std::shared_ptr<memory::Database> database,
                             std::shared_ptr<openai::OpenAiModule> model,
                             boost::asio::thread_pool& blocking)
    : database_(std::move(database)), model_(std::move(model)), blocking_(blocking) {}

bool MemoryService::has_model() const {
    return model_ && model_->model;
}

void MemoryService::store(std::string tenant, json body, Done done) {
    boost::asio::post(blocking_, [self = shared_from_this(), tenant = std::move(tenant),
                                  body = std::move(body), done = std::move(done)]() mutable {
        auto items = std::make_shared<std::vector<memory::NewMemory>>();
        if (auto bad = read_store_request(body, *items)) {
            return done(*bad);
        }
        std::vector<std::string> texts;
        std::vector<std::size_t> which;
        for (std::size_t i = 0; i < items->size(); ++i) {
            if ((*items)[i].embedding.empty()) {
                texts.push_back((*items)[i].text);
                which.push_back(i);
            }
        }
        auto finish = [self, tenant, items, which, done](std::vector<std::vector<float>> vectors,
                                                         std::string error) {
            const std::string model_id = self->has_model() ? self->model_->model->model_id() : "";
            for (std::size_t j = 0; j < vectors.size() && j < which.size(); ++j) {
                (*items)[which[j]].embedding = std::move(vectors[j]);
                (*items)[which[j]].model = model_id;
            }
            auto ids = self->database_->memories().put_many(tenant, *items);
            if (!ids) {
                return done(from_error(ids.error()));
            }
            const bool embedded = std::all_of(items->begin(), items->end(),
                                              [](const auto& m) { return !m.embedding.empty(); });
            json out = {{"ids", *ids}, {"embedded", embedded}};
            if (!embedded) {
                out["note"] = which.empty() || error.empty()
                                  ? std::string("stored for keyword search only")
                                  : "stored for keyword search only: " + error;
            }
            if (!model_id.empty() && !vectors.empty()) {
                out["embedding_model"] = model_id;
            }
            done({201, std::move(out)});
        };
        if (texts.empty() || !self->has_model()) {
            return finish({}, self->has_model() ? "" : "no model is loaded");
        }
        embed_texts(*self->model_, self->blocking_, texts, std::move(finish));
    });
}

void MemoryService::search(std::string tenant, json body, Done done) {
    boost::asio::post(blocking_, [self = shared_from_this(), tenant = std::move(tenant),
                                  body = std::move(body), done = std::move(done)]() mutable {
        memory::SearchQuery q;
        std::string text;
        std::string mode;
        if (auto bad = read_search_request(body, q, text, mode)) {
            return done(*bad);
        }
        if ((mode == "hybrid" || mode == "vector") && !self->has_model()) {
            return done(error_reply(503, "model_not_loaded",
                                    "mode \"" + mode +
                                        "\" needs a loaded model for embeddings; "
                                        "use \"keyword\" (or \"auto\")"));
        }
        auto run = [self, tenant, q, mode, text, done](std::vector<std::vector<float>> vectors,
                                                       std::string error) mutable {
            std::string used = mode;
            if (!vectors.empty()) {
                q.embedding = std::move(vectors[0]);
                q.model = self->model_->model->model_id();
                used = mode == "auto" ? "hybrid" : mode;
            } else if (mode != "keyword" && mode != "auto") {
                return done(error_reply(503, "embedding_failed", error));
            } else {
                used = "keyword";
            }
            if (used != "vector") {
                q.text = text;
            }
            auto hits = self->database_->memories().search(tenant, q);
            if (!hits) {
                return done(from_error(hits.error()));
            }
            json results = json::array();
            for (const auto& h : *hits) {
                results.push_back(hit_json(h));
            }
            json out = {{"results", std::move(results)}, {"mode", used}};
            if (used == "keyword" && mode == "auto") {
                out["note"] = error.empty() ? std::string("keyword search only")
                                            : "keyword search only: " + error;
            }
            if (!q.model.empty()) {
                out["embedding_model"] = q.model;
            }
            done({200, std::move(out)});
        };
        if (mode == "keyword" || !self->has_model()) {
            return run({}, self->has_model() ? "" : "no model is loaded");
        }
        embed_texts(*self->model_, self->blocking_, {text}, std::move(run));
    });
}

void MemoryService::get(std::string tenant, std::int64_t id, Done done) {
    boost::asio::post(blocking_, [self = shared_from_this(), tenant = std::move(tenant), id,
                                  done = std::move(done)] {
        auto m = self->database_->memories().get(tenant, id);
        done(m ? MemoryReply{200, memory_json(*m)} : from_error(m.error()));
    });
}

void MemoryService::remove(std::string tenant, std::int64_t id, Done done) {
    boost::asio::post(blocking_, [self = shared_from_this(), tenant = std::move(tenant), id,
                                  done = std::move(done)] {
        auto removed = self->database_->memories().remove(tenant, id);
        if (!removed) {
            return done(from_error(removed.error()));
        }
        if (!*removed) {
            return done(
                error_reply(404, "memory_not_found", "no memory with id " + std::to_string(id)));
        }
        done({200, json{{"deleted", 1}}});
    });
}

void MemoryService::remove_many(std::string tenant, json body, Done done) {
    boost::asio::post(blocking_, [self = shared_from_this(), tenant = std::move(tenant),
                                  body = std::move(body), done = std::move(done)] {
        if (!body.is_object()) {
            return done(invalid("body", "must be a JSON object"));
        }
        if (auto bad = unknown_field(body, {"ids", "namespace", "filter", "all"})) {
            return done(*bad);
        }
        auto& store = self->database_->memories();
        if (const auto ids = body.find("ids"); ids != body.end()) {
            if (body.size() != 1) {
                return done(invalid("ids", "cannot be combined with namespace, filter or all"));
            }
            if (!ids->is_array() || ids->empty() || ids->size() > kMaxIds) {
                return done(invalid("ids", "must be an array of 1 to " + std::to_string(kMaxIds) +
                                               " memory ids"));
            }
            std::vector<std::int64_t> list;
            for (const auto& v : *ids) {
                if (!v.is_number_integer() || v.get<std::int64_t>() < 1) {
                    return done(invalid("ids", "must hold positive integers"));
                }
                list.push_back(v.get<std::int64_t>());
            }
            auto n = store.remove_many(tenant, list);
            return done(n ? MemoryReply{200, json{{"deleted", *n}}} : from_error(n.error()));
        }
        std::vector<std::string> namespaces;
        std::string filter;
        if (auto bad = read_namespaces(body, namespaces)) {
            return done(*bad);
        }
        if (auto bad = read_filter(body, filter)) {
            return done(*bad);
        }
        const auto all = body.find("all");
        if (all != body.end() && !all->is_boolean()) {
            return done(invalid("all", "must be a boolean"));
        }
        const bool everything = all != body.end() && all->get<bool>();
        if (namespaces.empty() && filter.empty() && !everything) {
            return done(invalid("body", "name ids, a namespace, a filter, or \"all\": true"));
        }
        auto n = store.remove_where(tenant, namespaces, filter);
        done(n ? MemoryReply{200, json{{"deleted", *n}}} : from_error(n.error()));
    });
}

void MemoryService::list(std::string tenant, json query, Done done) {
    boost::asio::post(blocking_, [self = shared_from_this(), tenant = std::move(tenant),
                                  query = std::move(query), done = std::move(done)] {
        memory::MemoryListQuery q;
        if (auto bad = read_namespaces(query, q.namespaces)) {
            return done(*bad);
        }
        q.page.limit = query.value("limit", std::size_t{100});
        q.page.cursor = query.value("cursor", std::string());
        auto page = self->database_->memories().list(tenant, q);
        if (!page) {
            return done(from_error(page.error()));
        }
        json items = json::array();
        for (const auto& m : page->items) {
            items.push_back(memory_json(m));
        }
        json out = {{"memories", std::move(items)}};
        if (!page->next_cursor.empty()) {
            out["next_cursor"] = page->next_cursor;
        }
        done({200, std::move(out)});
    });
}

} // namespace agentd::gateway::builtin
