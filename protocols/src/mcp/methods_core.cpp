// Request admission for 2026-07-28, the method table, and the small methods: logging/setLevel,
// server/discover, completion/complete, subscriptions/listen.

#include "agentd/protocols/errc.h"

#include "mcp/codec.h"
#include "mcp/connection_impl.h"
#include "mcp/methods.h"

#include <algorithm>
#include <array>

namespace agentd::protocols::mcp::detail {

using nlohmann::json;

namespace {

enum Era : unsigned { legacy = 1, modern = 2, both = 3 };

struct MethodEntry {
    std::string_view name;
    MethodHandler handler;
    unsigned eras;
    char capability; // 't' tools, 'r' resources, 'p' prompts, 'c' completions, 0 none
};

constexpr std::array<MethodEntry, 15> kMethods = {{
    {"tools/list", &tools_list, both, 't'},
    {"tools/call", &tools_call, both, 't'},
    {"resources/list", &resources_list, both, 'r'},
    {"resources/templates/list", &resources_templates_list, both, 'r'},
    {"resources/read", &resources_read, both, 'r'},
    {"resources/subscribe", &resources_subscribe, legacy, 'r'},
    {"resources/unsubscribe", &resources_unsubscribe, legacy, 'r'},
    {"prompts/list", &prompts_list, both, 'p'},
    {"prompts/get", &prompts_get, both, 'p'},
    {"completion/complete", &completion_complete, both, 'c'},
    {"logging/setLevel", &logging_set_level, legacy, 0},
    {"server/discover", &server_discover, modern, 0},
    {"subscriptions/listen", &subscriptions_listen, modern, 0},
    // ping and initialize are served by the connection; listed so that a 2026-07-28 request for
    // them gets method-not-found like any other method of the session revisions.
    {"ping", nullptr, legacy, 0},
    {"initialize", nullptr, legacy, 0},
}};

bool capability_present(const ServerImpl& server, char capability) {
    switch (capability) {
    case 't':
        return server.has_tools();
    case 'r':
        return server.has_resources();
    case 'p':
        return server.has_prompts();
    case 'c':
        return server.has_resources() || server.has_prompts();
    default:
        return true;
    }
}

void reject(RequestChannel& channel, const jsonrpc::RequestId& id, int code, std::string_view text,
            const json* data = nullptr) {
    channel.send_response(data != nullptr ? jsonrpc::make_error(id, code, text, *data)
                                          : jsonrpc::make_error(id, code, text),
                          ResponseStatus::rejected);
}

} // namespace

void invalid_params(const ExchangePtr& ex, std::string message) {
    ex->respond_error(base::Error(errc::invalid_params, std::move(message)));
}

std::optional<std::string> cursor_last_key(const ExchangePtr& ex, std::string_view kind) {
    const json& cursor = ex->params().at("cursor");
    if (!cursor.is_string()) {
        invalid_params(ex, "cursor must be a string");
        return std::nullopt;
    }
    auto last = decode_cursor(kind, cursor.get_ref<const std::string&>());
    if (!last) {
        invalid_params(ex, "invalid cursor");
    }
    return last;
}

void run_flow(ServerImpl& server, const ExchangePtr& ex, std::shared_ptr<Flow> flow) {
    json inputs = json::object();
    std::string state;
    const json& params = ex->params();
    if (ex->modern()) {
        if (auto it = params.find("inputResponses"); it != params.end()) {
            if (!it->is_object() ||
                !std::all_of(it->begin(), it->end(), [](const json& v) { return v.is_object(); })) {
                invalid_params(ex, "inputResponses must be an object of result objects");
                return;
            }
            inputs = *it;
        }
        if (auto it = params.find("requestState"); it != params.end()) {
            if (!it->is_string()) {
                invalid_params(ex, "requestState must be a string");
                return;
            }
            auto opened = server.open(*ex, flow->target, it->get<std::string>());
            if (!opened) {
                invalid_params(ex, "requestState is invalid, expired, or belongs to another "
                                   "request");
                return;
            }
            state = std::move(*opened);
        }
    }
    auto attempt =
        std::make_shared<Attempt>(ex, std::move(flow), std::move(inputs), std::move(state));
    attempt->run();
}

// ---- admission and dispatch ------------------------------------------------------------------

namespace {

/// What a valid 2026-07-28 request declares in `_meta`.
struct StatelessMeta {
    Version version = latest_version;
    JsonPtr capabilities;
    std::optional<LogLevel> level;
    std::optional<json> progress_token;
};

/// Validates `_meta` (and the mirrored headers); answers on `channel` and returns nullopt when
/// the request is refused.
std::optional<StatelessMeta> admit_meta(const jsonrpc::Message& message,
                                        const MirroredHeaders* headers, RequestChannel& channel) {
    const json& params = message.params();
    const json* meta = meta_of(params);
    const auto& id = message.id();
    constexpr std::string_view version_key = "io.modelcontextprotocol/protocolVersion";
    constexpr std::string_view caps_key = "io.modelcontextprotocol/clientCapabilities";
    if (meta == nullptr || !meta->contains(version_key) || !meta->at(version_key).is_string()) {
        reject(channel, id, rpc_code::invalid_params,
               "params._meta must carry io.modelcontextprotocol/protocolVersion (a string)");
        return std::nullopt;
    }
    if (headers != nullptr) {
        if (auto problem = check_mirrored_headers(message, *headers)) {
            reject(channel, id, rpc_code::header_mismatch, "Header mismatch: " + *problem);
            return std::nullopt;
        }
    }
    const auto requested = meta->at(version_key).get<std::string>();
    const auto version = parse_version(requested);
    if (!version || !is_modern(*version)) {
        const json data = {{"supported", supported_version_strings()}, {"requested", requested}};
        reject(channel, id, rpc_code::unsupported_protocol_version,
               version ? "Unsupported protocol version: " + requested +
                             " is served only in sessions (send initialize)"
                       : "Unsupported protocol version: " + requested,
               &data);
        return std::nullopt;
    }
    if (!meta->contains(caps_key) || !meta->at(caps_key).is_object()) {
        reject(channel, id, rpc_code::invalid_params,
               "params._meta must carry io.modelcontextprotocol/clientCapabilities (an object)");
        return std::nullopt;
    }
    StatelessMeta out;
    out.version = *version;
    out.capabilities = share_json(meta->at(caps_key));
    if (auto it = meta->find("io.modelcontextprotocol/logLevel"); it != meta->end()) {
        out.level = it->is_string() ? parse_log_level(it->get<std::string>()) : std::nullopt;
        if (!out.level) {
            reject(channel, id, rpc_code::invalid_params,
                   "io.modelcontextprotocol/logLevel is not a log level");
            return std::nullopt;
        }
    }
    auto token = read_progress_token(params);
    if (!token) {
        reject(channel, id, rpc_code::invalid_params, token.error().what());
        return std::nullopt;
    }
    out.progress_token = std::move(*token);
    return out;
}

} // namespace

std::shared_ptr<Exchange> ServerImpl::start_stateless(const jsonrpc::Message& message,
                                                      const Caller& caller,
                                                      const MirroredHeaders* headers,
                                                      std::shared_ptr<RequestChannel> channel,
                                                      const std::shared_ptr<ConnectionImpl>& conn) {
    auto meta = admit_meta(message, headers, *channel);
    if (!meta) {
        return nullptr;
    }
    if (is_shut_down()) {
        channel->send_response(jsonrpc::make_error(message.id(), rpc_code::internal_error,
                                                   "the server is shutting down"),
                               ResponseStatus::busy);
        return nullptr;
    }
    Exchange::Init init;
    init.id = message.id();
    init.method = message.method();
    init.params = share_json(message.params());
    init.version = meta->version;
    init.caller = caller;
    init.client_caps = std::move(meta->capabilities);
    init.log_level = meta->level;
    init.progress_token = std::move(meta->progress_token);
    init.channel = std::move(channel);
    init.connection = conn;
    auto exchange = std::make_shared<Exchange>(shared_from_this(), std::move(init));
    if (conn && !conn->admit(exchange)) {
        return nullptr;
    }
    dispatch(exchange, headers);
    return exchange;
}

void ServerImpl::dispatch(const ExchangePtr& exchange, const MirroredHeaders* headers) {
    const unsigned era = exchange->modern() ? modern : legacy;
    const auto* entry = std::find_if(kMethods.begin(), kMethods.end(), [&](const MethodEntry& m) {
        return m.name == exchange->method();
    });
    if (entry == kMethods.end() || (entry->eras & era) == 0 || entry->handler == nullptr ||
        !capability_present(*this, entry->capability)) {
        exchange->respond_error(
            base::Error(errc::method_not_found, "Method not found: " + exchange->method()),
            ResponseStatus::method_not_found);
        return;
    }
    try {
        entry->handler(*this, exchange, headers);
    } catch (const std::exception& e) {
        exchange->respond_error(base::Error(errc::internal_error, e.what()));
    }
}

// ---- small methods ---------------------------------------------------------------------------

void logging_set_level(ServerImpl& /*server*/, const ExchangePtr& ex,
                       const MirroredHeaders* /*headers*/) {
    const json& params = ex->params();
    std::optional<LogLevel> level;
    if (params.contains("level") && params.at("level").is_string()) {
        level = parse_log_level(params.at("level").get<std::string>());
    }
    if (!level) {
        invalid_params(ex, "level must be one of debug, info, notice, warning, error, critical, "
                           "alert, emergency");
        return;
    }
    if (auto conn = ex->connection()) {
        conn->set_log_level(*level);
    }
    ex->respond(json::object());
}

void server_discover(ServerImpl& server, const ExchangePtr& ex,
                     const MirroredHeaders* /*headers*/) {
    json result = {{"supportedVersions", supported_version_strings()},
                   {"capabilities", server.capabilities()}};
    if (!server.options().instructions.empty()) {
        result["instructions"] = server.options().instructions;
    }
    server.decorate(*ex, result, server.options().discover_ttl, /*public_scope=*/true);
    ex->respond(result);
}

namespace {

/// Reads completion/complete params into `query`; answers -32602 and returns false when they
/// are malformed. `type` receives the ref type.
bool read_completion(const ExchangePtr& ex, CompletionQuery& query, std::string& type) {
    const json& params = ex->params();
    const json* ref = params.contains("ref") ? &params.at("ref") : nullptr;
    const json* argument = params.contains("argument") ? &params.at("argument") : nullptr;
    constexpr const char* ref_shape = "ref must be {\"type\": \"ref/prompt\", \"name\"} or "
                                      "{\"type\": \"ref/resource\", \"uri\"}";
    if (ref == nullptr || !ref->is_object() || !ref->contains("type") ||
        !ref->at("type").is_string()) {
        invalid_params(ex, ref_shape);
        return false;
    }
    if (argument == nullptr || !argument->is_object() || !argument->contains("name") ||
        !argument->at("name").is_string() || !argument->contains("value") ||
        !argument->at("value").is_string()) {
        invalid_params(ex, "argument must be {\"name\": string, \"value\": string}");
        return false;
    }
    query.argument = argument->at("name").get<std::string>();
    query.value = argument->at("value").get<std::string>();
    if (auto ctx = params.find("context"); ctx != params.end()) {
        const json* args =
            ctx->is_object() && ctx->contains("arguments") ? &ctx->at("arguments") : nullptr;
        if (!ctx->is_object() || (args != nullptr && !args->is_object())) {
            invalid_params(ex, "context.arguments must be an object of strings");
            return false;
        }
        if (args != nullptr) {
            for (const auto& [k, v] : args->items()) {
                if (!v.is_string()) {
                    invalid_params(ex, "context.arguments must be an object of strings");
                    return false;
                }
                query.context.emplace(k, v.get<std::string>());
            }
        }
    }
    type = ref->at("type").get<std::string>();
    const char* key = type == "ref/prompt" ? "name" : (type == "ref/resource" ? "uri" : nullptr);
    if (key == nullptr || !ref->contains(key) || !ref->at(key).is_string()) {
        invalid_params(ex, ref_shape);
        return false;
    }
    query.ref = ref->at(key).get<std::string>();
    return true;
}

} // namespace

void completion_complete(ServerImpl& server, const ExchangePtr& ex,
                         const MirroredHeaders* /*headers*/) {
    CompletionQuery query;
    std::string type;
    if (!read_completion(ex, query, type)) {
        return;
    }
    auto flow = std::make_shared<Flow>();
    flow->target = query.ref;
    flow->finish = [&server](const ExchangePtr& e, json&& result) {
        json& completion = result["completion"];
        if (!completion.is_object() || !completion.contains("values") ||
            !completion.at("values").is_array()) {
            e->respond_error(base::Error(errc::internal_error, "provider returned no values"));
            return;
        }
        json& values = completion.at("values");
        if (values.size() > 100) { // the spec caps a response at 100 values
            values.erase(values.begin() + 100, values.end());
            completion["hasMore"] = true;
        }
        server.decorate(*e, result, std::nullopt);
        e->respond(result);
    };
    if (type == "ref/prompt") {
        PromptInfo prompt;
        auto owner = server.prompt_owner(ex->caller(), query.ref, prompt);
        if (!owner) {
            invalid_params(ex, "Unknown prompt: " + query.ref);
            return;
        }
        flow->invoke = [owner, query](const std::shared_ptr<Attempt>& a) {
            owner->complete(query, a);
        };
    } else {
        auto owner = server.template_owner(ex->caller(), query.ref);
        if (!owner) {
            invalid_params(ex, "Unknown resource template: " + query.ref);
            return;
        }
        flow->invoke = [owner, query](const std::shared_ptr<Attempt>& a) {
            owner->complete(query, a);
        };
    }
    run_flow(server, ex, std::move(flow));
}

void subscriptions_listen(ServerImpl& server, const ExchangePtr& ex,
                          const MirroredHeaders* /*headers*/) {
    const json& params = ex->params();
    if (!params.contains("notifications") || !params.at("notifications").is_object()) {
        invalid_params(ex, "notifications (a SubscriptionFilter object) is required");
        return;
    }
    const json& filter = params.at("notifications");
    auto listen = std::make_shared<Listen>();
    listen->exchange = ex;
    auto conn = ex->connection();
    listen->stdio = conn && conn->stdio();
    json ack = json::object();
    for (const auto* field : {"toolsListChanged", "promptsListChanged", "resourcesListChanged"}) {
        if (!filter.contains(field)) {
            continue;
        }
        if (!filter.at(field).is_boolean()) {
            invalid_params(ex, std::string("notifications.") + field + " must be a boolean");
            return;
        }
        const bool wanted = filter.at(field).get<bool>();
        const std::string_view f(field);
        const bool supported = f == "toolsListChanged"     ? server.has_tools()
                               : f == "promptsListChanged" ? server.has_prompts()
                                                           : server.has_resources();
        if (wanted && supported) {
            ack[field] = true;
            (f == "toolsListChanged"     ? listen->tools
             : f == "promptsListChanged" ? listen->prompts
                                         : listen->resources) = true;
        }
    }
    if (filter.contains("resourceSubscriptions")) {
        const json& uris = filter.at("resourceSubscriptions");
        if (!uris.is_array() || uris.size() > server.options().max_listen_uris ||
            !std::all_of(uris.begin(), uris.end(), [](const json& u) { return u.is_string(); })) {
            invalid_params(ex, "notifications.resourceSubscriptions must be an array of at most " +
                                   std::to_string(server.options().max_listen_uris) + " URIs");
            return;
        }
        if (server.has_resources()) {
            for (const auto& u : uris) {
                listen->uris.push_back(u.get<std::string>());
            }
            std::sort(listen->uris.begin(), listen->uris.end());
            listen->uris.erase(std::unique(listen->uris.begin(), listen->uris.end()),
                               listen->uris.end());
            ack["resourceSubscriptions"] = listen->uris;
        }
    }
    // The acknowledgment is the first message carrying the subscription id (the request id); it
    // goes out before the stream is registered, so no change notification can precede it.
    json ack_params = {{"notifications", ack}};
    ex->id().write(ack_params["_meta"]["io.modelcontextprotocol/subscriptionId"]);
    ex->send_related(
        jsonrpc::make_notification("notifications/subscriptions/acknowledged", ack_params));
    if (!server.add_listen(listen)) {
        ex->respond_error(base::Error(errc::busy, "too many subscriptions/listen streams"),
                          ResponseStatus::busy);
    }
}

} // namespace agentd::protocols::mcp::detail
