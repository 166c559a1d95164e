#include "agentd/tools/rest_tool_service.h"

#include "agentd/memory/errc.h"
#include "agentd/memory/tool_store.h"
#include "agentd/tools/errc.h"

#include "util/str_cat.h"

#include <nlohmann/json.hpp>

#include <utility>

namespace agentd::tools {
namespace {

using util::str_cat;

constexpr std::size_t load_page_size = 500;

/// A stored row. The store has no columns for title and annotations; they travel inside the
/// endpoint JSON under "title" / "annotations" next to url, method and headers.
memory::ToolRecord to_record(const RestToolSpec& spec) {
    const nlohmann::json full = rest_spec_to_json(spec, /*redact=*/false);
    memory::ToolRecord record;
    record.name = spec.definition.name;
    record.description = spec.definition.description;
    record.input_schema_json = full.at("input_schema").dump();
    if (full.contains("output_schema")) {
        record.output_schema_json = full.at("output_schema").dump();
    }
    nlohmann::json endpoint = full.at("endpoint");
    if (full.contains("title")) {
        endpoint["title"] = full.at("title");
    }
    if (full.contains("annotations")) {
        endpoint["annotations"] = full.at("annotations");
    }
    record.endpoint_json = endpoint.dump();
    record.timeout_ms = spec.timeout.count();
    return record;
}

/// The registration JSON a stored row came from (or a discarded value when a column is not
/// JSON).
nlohmann::json from_record(const memory::ToolRecord& record) {
    nlohmann::json body = {{"name", record.name},
                           {"description", record.description},
                           {"timeout_ms", record.timeout_ms}};
    body["input_schema"] = nlohmann::json::parse(record.input_schema_json, nullptr, false);
    if (!record.output_schema_json.empty()) {
        body["output_schema"] = nlohmann::json::parse(record.output_schema_json, nullptr, false);
    }
    nlohmann::json endpoint = nlohmann::json::parse(record.endpoint_json, nullptr, false);
    if (endpoint.is_object()) {
        for (const char* moved : {"title", "annotations"}) {
            if (const auto it = endpoint.find(moved); it != endpoint.end()) {
                body[moved] = *it;
                endpoint.erase(moved);
            }
        }
    }
    body["endpoint"] = std::move(endpoint);
    return body;
}

base::Error storage_error(const base::Error& e, std::string_view action) {
    if (e.code == memory::errc::conflict) {
        return base::fail(errc::conflict, e.message);
    }
    if (e.code == memory::errc::not_found) {
        return base::fail(errc::not_found, e.message);
    }
    if (e.code == memory::errc::invalid_argument) {
        return base::fail(errc::invalid_argument, e.message);
    }
    if (e.code == memory::errc::queue_full || e.code == memory::errc::busy) {
        return base::fail(errc::busy, str_cat("the tool store is busy: ", e.message));
    }
    return base::fail(errc::storage_failed, str_cat("could not ", action, ": ", e.what()));
}

} // namespace

RestToolService::RestToolService(ToolRegistry& registry, memory::ToolStore& store,
                                 std::shared_ptr<HttpClient> client, RestToolPolicy policy)
    : registry_(registry), store_(store), client_(std::move(client)), policy_(std::move(policy)) {}

base::Result<ToolPtr> RestToolService::register_tool(std::string_view tenant,
                                                     const nlohmann::json& body) {
    auto spec = parse_rest_registration(body, policy_);
    if (!spec) {
        return spec.error();
    }
    const std::string name = spec->definition.name;
    if (registry_.find(tenant, name)) {
        return base::fail(errc::conflict, str_cat("a tool named \"", name, "\" already exists"));
    }
    const memory::ToolRecord record = to_record(*spec);
    auto tool = make_rest_tool(std::move(*spec), client_, policy_);
    if (!tool) {
        return tool.error();
    }
    if (auto stored = store_.create(tenant, record); !stored) {
        if (stored.error().code == memory::errc::conflict) {
            return base::fail(errc::conflict,
                              str_cat("a tool named \"", name, "\" already exists"));
        }
        return storage_error(stored.error(), "store the tool");
    }
    if (auto added = registry_.add(tenant, *tool); !added) {
        // Keep the store and the registry in step: the row must not outlive the refusal.
        (void)store_.remove(tenant, name);
        return added.error();
    }
    return *tool;
}

base::Result<void> RestToolService::unregister(std::string_view tenant, std::string_view name) {
    const ToolPtr tool = registry_.find(tenant, name);
    if (!tool) {
        return base::fail(errc::not_found, str_cat("no tool named \"", name, "\""));
    }
    if (tool->definition().source != ToolSource::rest) {
        return base::fail(errc::conflict,
                          str_cat("\"", name, "\" is a ", to_string(tool->definition().source),
                                  " tool; only REST tools can be deleted here"));
    }
    auto removed = store_.remove(tenant, name);
    if (!removed) {
        return storage_error(removed.error(), "delete the tool");
    }
    if (auto gone = registry_.remove(tenant, name); !gone && gone.error().code != errc::not_found) {
        return gone.error();
    }
    return {};
}

base::Result<RestToolService::LoadReport> RestToolService::load_tenant(std::string_view tenant) {
    LoadReport report;
    memory::PageRequest page;
    page.limit = load_page_size;
    CatalogEdit edit;
    do {
        auto rows = store_.list(tenant, page);
        if (!rows) {
            return storage_error(rows.error(), "load the stored tools");
        }
        for (const auto& record : rows->items) {
            auto spec = parse_rest_registration(from_record(record), policy_);
            auto tool = spec ? make_rest_tool(std::move(*spec), client_, policy_)
                             : base::Result<ToolPtr>(spec.error());
            if (!tool) {
                report.skipped.push_back(str_cat(record.name, ": ", tool.error().message));
                continue;
            }
            if (registry_.find(tenant, record.name)) {
                report.skipped.push_back(str_cat(record.name, ": the name is already taken"));
                continue;
            }
            edit.add.push_back(std::move(*tool));
        }
        page.cursor = rows->next_cursor;
    } while (!page.cursor.empty());
    if (!edit.add.empty()) {
        if (auto ok = registry_.apply(tenant, edit); !ok) {
            return ok.error();
        }
    }
    report.loaded = edit.add.size();
    return report;
}

} // namespace agentd::tools
