#include "routes/tools_runtime.h"

#include "app/app_context.h"
#include "http_client/beast_http_client.h"
#include "log/logging.h"
#include "routes/tools_routes.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <algorithm>
#include <stdexcept>

namespace agentd::gateway::routes {

std::filesystem::path database_path(const config::Config& config) {
    return config.data_dir / "agentd.db";
}

std::shared_ptr<memory::Database> open_database(const config::Config& config) {
    memory::DatabaseOptions options;
    options.path = database_path(config).string();
    auto db = memory::Database::open(std::move(options));
    if (!db) {
        throw std::runtime_error("database " + database_path(config).string() + ": " +
                                 db.error().what());
    }
    return std::shared_ptr<memory::Database>(std::move(*db));
}

std::vector<std::string> configured_tenants(const config::Config& config) {
    std::vector<std::string> tenants;
    for (const auto& key : config.api_keys) {
        if (std::find(tenants.begin(), tenants.end(), key.tenant) == tenants.end()) {
            tenants.push_back(key.tenant);
        }
    }
    if (tenants.empty()) {
        tenants.emplace_back("local");
    }
    return tenants;
}

std::shared_ptr<ToolsRuntime> make_tools_runtime(const config::Config& config,
                                                 boost::asio::io_context& io,
                                                 const std::vector<std::string>& tenants,
                                                 std::shared_ptr<memory::Database> database) {
    auto runtime = std::make_shared<ToolsRuntime>();
    runtime->database = database ? std::move(database) : open_database(config);
    runtime->registry = std::make_shared<tools::ToolRegistry>(config.tools.registry);
    runtime->http = http_client::make_beast_http_client(io, config.tools.http);
    runtime->rest = std::make_unique<tools::RestToolService>(
        *runtime->registry, runtime->database->tools(), runtime->http, config.tools.rest);
    for (const auto& tenant : tenants) {
        auto report = runtime->rest->load_tenant(tenant);
        if (!report) {
            throw std::runtime_error("loading the REST tools of tenant " + tenant + ": " +
                                     report.error().what());
        }
        for (const auto& skipped : report->skipped) {
            log::log_event(log::Level::warn, "stored REST tool skipped",
                           {{"tenant", tenant}, {"reason", skipped}});
        }
        if (report->loaded > 0) {
            log::log_event(log::Level::info, "REST tools loaded",
                           {{"tenant", tenant}, {"count", report->loaded}});
        }
    }
    return runtime;
}

void register_tools_module(app::AppContext& context) {
    auto database = context.find_service<memory::Database>();
    if (!database) {
        database = open_database(context.config());
        context.provide(database);
    }
    auto runtime = make_tools_runtime(context.config(), context.io(),
                                      configured_tenants(context.config()), database);
    context.provide(runtime->registry);
    auto& blocking = context.blocking();
    register_tools_routes(context.router(), {runtime->rest.get(), runtime->registry.get(),
                                             [&blocking](std::function<void()> job) {
                                                 boost::asio::post(blocking, std::move(job));
                                             }});
    context.keep(std::make_unique<std::shared_ptr<ToolsRuntime>>(std::move(runtime)));
}

} // namespace agentd::gateway::routes
