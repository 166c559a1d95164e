// Registration of the OpenAI-compatible routes (route_modules.cpp lists them): loads the model
// given with --model and starts its engine thread; without one, model endpoints answer 503.
#include "agentd/inference/value_json.h"

#include "app/app_context.h"
#include "app/route_modules.h"
#include "log/logging.h"
#include "openai/handlers.h"
#include "openai/serving_metrics.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

namespace agentd::gateway::app {
namespace net = boost::asio;

using inference::Array;
using inference::Object;
using inference::Value;
using openai::OpenAiModule;

namespace {

using Work = void (*)(const std::shared_ptr<OpenAiModule>&, const http::Request&,
                      const http::ResponseWriterPtr&);

/// A POST handler that moves the request to the blocking pool (parsing and preparation are CPU
/// work) and answers 503 without a model.
http::Handler blocking_handler(const std::shared_ptr<OpenAiModule>& module, Work work) {
    return [module, work](http::Request&& request, http::ResponseWriterPtr writer) {
        if (!module->model) {
            writer->respond(openai::error_response(openai::no_model()));
            return;
        }
        net::post(*module->blocking,
                  [module, work, request = std::move(request), writer = std::move(writer)] {
                      try {
                          work(module, request, writer);
                      } catch (const std::exception& e) {
                          log::log_event(log::Level::error, "openai request failed",
                                         {{"request_id", request.request_id}, {"error", e.what()}});
                          openai::ApiError err;
                          err.status = 500;
                          err.type = "server_error";
                          err.message = "internal error";
                          writer->respond(openai::error_response(err));
                      }
                  });
    };
}

Value model_object(const openai::ModelService& svc) {
    const auto& info = svc.scheduler().model_info();
    return Value(Object{{"id", svc.model_id()},
                        {"object", "model"},
                        {"created", static_cast<long long>(svc.created())},
                        {"owned_by", "agentd"},
                        {"max_model_len", svc.scheduler().max_sequence_tokens()},
                        {"architecture", info.architecture}});
}

void register_model_routes(AppContext& context, const std::shared_ptr<OpenAiModule>& module,
                           const http::RouteOptions& options) {
    context.router().add(
        "GET", "/v1/models",
        [module](http::Request&&, http::ResponseWriterPtr writer) {
            Array data;
            if (module->model) {
                data.push_back(model_object(*module->model));
            }
            const Value body(Object{{"object", "list"}, {"data", std::move(data)}});
            writer->respond(http::Response::json(200, inference::to_json(body)));
        },
        options);
    http::RouteOptions one = options;
    one.metrics_name = "/v1/models/{id}";
    context.router().add(
        "GET", "/v1/models/{id}",
        [module](http::Request&& request, http::ResponseWriterPtr writer) {
            const auto id = request.path_param("id");
            if (!module->model || !id || *id != module->model->model_id()) {
                openai::ApiError e;
                e.status = 404;
                e.code = "model_not_found";
                e.param = "model";
                e.message = "The model '" + std::string(id.value_or("")) + "' does not exist";
                writer->respond(openai::error_response(e));
                return;
            }
            writer->respond(
                http::Response::json(200, inference::to_json(model_object(*module->model))));
        },
        one);
}

} // namespace

void register_openai_routes(AppContext& context) {
    auto module = std::make_shared<OpenAiModule>();
    module->io = &context.io();
    module->blocking = &context.blocking();
    module->limits.max_body_bytes = context.config().limits.max_body_bytes;
    if (!context.config().model.empty()) {
        auto observer = std::make_shared<openai::ServingMetrics>(context.metrics());
        module->model =
            openai::ModelService::load(context.config().model, context.config().engine, observer);
        openai::ServingMetrics::register_gauges(context.metrics(), module->model->scheduler_weak());
        std::weak_ptr<OpenAiModule> weak = module;
        context.readiness().add("model", [weak] {
            return weak.lock() ? std::string() : std::string("the model is unloaded");
        });
    }

    http::RouteOptions options;
    options.scope = "inference";
    http::RouteOptions chat = options;
    chat.metrics_name = "/v1/chat/completions";
    context.router().add("POST", "/v1/chat/completions",
                         blocking_handler(module, &openai::handle_chat), chat);
    http::RouteOptions completions = options;
    completions.metrics_name = "/v1/completions";
    context.router().add("POST", "/v1/completions",
                         blocking_handler(module, &openai::handle_completions), completions);
    http::RouteOptions embeddings = options;
    embeddings.metrics_name = "/v1/embeddings";
    context.router().add("POST", "/v1/embeddings",
                         blocking_handler(module, &openai::handle_embeddings), embeddings);
    http::RouteOptions models = options;
    models.metrics_name = "/v1/models";
    register_model_routes(context, module, models);

    context.provide(module); // the agent runtime shares the model and answers agent names
    std::weak_ptr<OpenAiModule> weak = module;
    context.on_shutdown([weak] {
        if (auto m = weak.lock(); m && m->model) {
            // New requests get 503; plain responses in flight may finish within the grace
            // period. The HTTP server ends open SSE streams now, so each gets a final error
            // event first and its generation stops.
            m->model->scheduler().stop_accepting();
            m->abort_streams();
        }
    });
    /// Kept by the App: on destruction, results stop flowing to connections first, then the
    /// engine thread is stopped (cancelling what is left) and joined.
    struct Holder {
        std::shared_ptr<OpenAiModule> module;
        Holder() = default;
        Holder(const Holder&) = delete;
        Holder& operator=(const Holder&) = delete;
        ~Holder() {
            if (!module) {
                return;
            }
            module->stopping.store(true, std::memory_order_release);
            if (module->model) {
                module->model->scheduler().shutdown();
            }
        }
    };
    auto holder = std::make_unique<Holder>();
    holder->module = std::move(module);
    context.keep(std::move(holder));
}

} // namespace agentd::gateway::app
