#include "mcp/server_impl.h"

#include "agentd/protocols/errc.h"

#include "mcp/codec.h"
#include "mcp/connection_impl.h"

#include <algorithm>
#include <random>

namespace agentd::protocols::mcp::detail {

using nlohmann::json;

namespace {

std::string random_key() {
    std::random_device device;
    std::string key(32, '\0');
    for (auto& c : key) {
        c = static_cast<char>(device() & 0xff);
    }
    return key;
}

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Merges sorted provider snapshots by key; on a clash the earlier provider wins.
template <class T, class Provider, class List, class Key>
std::shared_ptr<const std::vector<T>> merge(const std::vector<std::shared_ptr<Provider>>& providers,
                                            List list, Key key) {
    if (providers.size() == 1) {
        auto only = list(*providers.front());
        return only ? only : std::make_shared<const std::vector<T>>();
    }
    std::vector<T> all;
    for (const auto& provider : providers) {
        auto part = list(*provider);
        if (!part) {
            continue;
        }
        for (const auto& item : *part) {
            all.push_back(item);
        }
    }
    std::stable_sort(all.begin(), all.end(),
                     [&](const T& a, const T& b) { return key(a) < key(b); });
    all.erase(std::unique(all.begin(), all.end(),
                          [&](const T& a, const T& b) { return key(a) == key(b); }),
              all.end());
    return std::make_shared<const std::vector<T>>(std::move(all));
}

} // namespace

const json* meta_of(const json& params) {
    if (!params.is_object()) {
        return nullptr;
    }
    auto it = params.find("_meta");
    return it != params.end() && it->is_object() ? &*it : nullptr;
}

base::Result<std::optional<json>> read_progress_token(const json& params) {
    const json* meta = meta_of(params);
    if (meta == nullptr || !meta->contains("progressToken")) {
        return std::optional<json>();
    }
    const json& token = meta->at("progressToken");
    if (!token.is_string() && !token.is_number_integer()) {
        return base::fail(errc::invalid_params,
                          "_meta.progressToken must be a string or an integer");
    }
    return std::optional<json>(token);
}

ServerImpl::ServerImpl(ServerOptions options, Providers providers, std::shared_ptr<Timers> timers)
    : options_(std::move(options)), providers_(std::move(providers)), timers_(std::move(timers)) {
    state_key_ = options_.request_state_key.empty() ? random_key() : options_.request_state_key;
    if (options_.page_size == 0) {
        options_.page_size = 1;
    }
}

ServerImpl::~ServerImpl() = default;

void ServerImpl::start() {
    std::weak_ptr<ServerImpl> weak = weak_from_this();
    auto listener = [weak](const ChangeEvent& event) {
        if (auto self = weak.lock()) {
            self->on_change(event);
        }
    };
    for (const auto& p : providers_.tools) {
        watches_.push_back(p->watch(listener));
    }
    for (const auto& p : providers_.resources) {
        watches_.push_back(p->watch(listener));
    }
    for (const auto& p : providers_.prompts) {
        watches_.push_back(p->watch(listener));
    }
}

json ServerImpl::server_info() const {
    json info = {{"name", options_.name}, {"version", options_.version}};
    if (!options_.title.empty()) {
        info["title"] = options_.title;
    }
    return info;
}

json ServerImpl::capabilities() const {
    json caps = {{"logging", json::object()}};
    if (has_tools()) {
        caps["tools"] = {{"listChanged", true}};
    }
    if (has_resources()) {
        caps["resources"] = {{"subscribe", true}, {"listChanged", true}};
    }
    if (has_prompts()) {
        caps["prompts"] = {{"listChanged", true}};
    }
    if (has_resources() || has_prompts()) {
        caps["completions"] = json::object();
    }
    return caps;
}

bool ServerImpl::is_shut_down() const {
    std::lock_guard lock(mu_);
    return shut_down_;
}

std::shared_ptr<Connection> ServerImpl::connect(Caller caller, std::shared_ptr<ConnectionSink> sink,
                                                bool stdio) {
    auto conn = std::make_shared<ConnectionImpl>(shared_from_this(), std::move(caller),
                                                 std::move(sink), stdio);
    register_connection(conn);
    return conn;
}

void ServerImpl::register_connection(const std::shared_ptr<ConnectionImpl>& conn) {
    std::lock_guard lock(mu_);
    std::erase_if(connections_, [](const auto& w) { return w.expired(); });
    connections_.push_back(conn);
}

std::function<void()> ServerImpl::handle_stateless(const jsonrpc::Message& message, Caller caller,
                                                   const MirroredHeaders& headers,
                                                   std::shared_ptr<RequestChannel> channel) {
    if (!message.is_request()) {
        if (message.kind() == jsonrpc::Message::Kind::invalid) {
            channel->send_response(jsonrpc::make_error(message.id(), rpc_code::invalid_request,
                                                       message.problem().what()),
                                   ResponseStatus::rejected);
        } else {
            channel->end_without_response();
        }
        return [] {};
    }
    auto exchange = start_stateless(message, caller, &headers, std::move(channel), nullptr);
    if (!exchange) {
        return [] {};
    }
    std::weak_ptr<Exchange> weak = exchange;
    return [weak] {
        if (auto ex = weak.lock()) {
            ex->cancel();
        }
    };
}

void ServerImpl::decorate(const Exchange& exchange, json& result,
                          std::optional<std::chrono::milliseconds> ttl, bool public_scope) const {
    if (!exchange.modern()) {
        return;
    }
    result["resultType"] = "complete";
    add_server_meta(result);
    if (ttl) {
        result["ttlMs"] = ttl->count();
        result["cacheScope"] = public_scope ? "public" : "private";
    }
}

void ServerImpl::add_server_meta(json& result) const {
    json& meta = result["_meta"];
    if (!meta.is_object()) {
        meta = json::object();
    }
    meta["io.modelcontextprotocol/serverInfo"] = server_info();
}

namespace {

std::string binding_of(const Exchange& exchange, const std::string& target) {
    const Caller& c = exchange.caller();
    std::string binding = c.tenant;
    binding.append(1, '\0').append(c.principal).append(1, '\0').append(exchange.method());
    binding.append(1, '\0').append(target);
    return binding;
}

} // namespace

std::string ServerImpl::seal(const Exchange& exchange, const std::string& target,
                             const std::string& state) const {
    return seal_state(state_key_, binding_of(exchange, target),
                      unix_now() + options_.request_state_ttl.count(), state);
}

std::optional<std::string> ServerImpl::open(const Exchange& exchange, const std::string& target,
                                            const std::string& sealed) const {
    return open_state(state_key_, binding_of(exchange, target), unix_now(), sealed);
}

// ---- listings --------------------------------------------------------------------------------

std::shared_ptr<const std::vector<ToolInfo>> ServerImpl::tools(const Caller& caller) const {
    return merge<ToolInfo>(
        providers_.tools, [&](const ToolCatalog& p) { return p.list_tools(caller); },
        [](const ToolInfo& t) -> const std::string& { return t.name; });
}

std::shared_ptr<ToolCatalog> ServerImpl::tool_owner(const Caller& caller, const std::string& name,
                                                    ToolInfo& out) const {
    for (const auto& provider : providers_.tools) {
        auto list = provider->list_tools(caller);
        if (!list) {
            continue;
        }
        auto it =
            std::lower_bound(list->begin(), list->end(), name,
                             [](const ToolInfo& t, const std::string& n) { return t.name < n; });
        if (it != list->end() && it->name == name) {
            out = *it;
            return provider;
        }
    }
    return nullptr;
}

std::shared_ptr<const std::vector<ResourceInfo>> ServerImpl::resources(const Caller& caller) const {
    return merge<ResourceInfo>(
        providers_.resources, [&](const ResourceProvider& p) { return p.list_resources(caller); },
        [](const ResourceInfo& r) -> const std::string& { return r.uri; });
}

std::shared_ptr<const std::vector<ResourceTemplateInfo>>
ServerImpl::templates(const Caller& caller) const {
    return merge<ResourceTemplateInfo>(
        providers_.resources, [&](const ResourceProvider& p) { return p.list_templates(caller); },
        [](const ResourceTemplateInfo& t) -> const std::string& { return t.uri_template; });
}

std::shared_ptr<ResourceProvider> ServerImpl::resource_owner(const Caller& caller,
                                                             std::string_view uri) const {
    for (const auto& provider : providers_.resources) {
        if (provider->owns(caller, uri)) {
            return provider;
        }
    }
    return nullptr;
}

std::shared_ptr<ResourceProvider> ServerImpl::template_owner(const Caller& caller,
                                                             std::string_view uri_template) const {
    for (const auto& provider : providers_.resources) {
        auto list = provider->list_templates(caller);
        if (list && std::any_of(list->begin(), list->end(), [&](const ResourceTemplateInfo& t) {
                return t.uri_template == uri_template;
            })) {
            return provider;
        }
    }
    return nullptr;
}

std::shared_ptr<const std::vector<PromptInfo>> ServerImpl::prompts(const Caller& caller) const {
    return merge<PromptInfo>(
        providers_.prompts, [&](const PromptProvider& p) { return p.list_prompts(caller); },
        [](const PromptInfo& p) -> const std::string& { return p.name; });
}

std::shared_ptr<PromptProvider>
ServerImpl::prompt_owner(const Caller& caller, const std::string& name, PromptInfo& out) const {
    for (const auto& provider : providers_.prompts) {
        auto list = provider->list_prompts(caller);
        if (!list) {
            continue;
        }
        for (const auto& p : *list) {
            if (p.name == name) {
                out = p;
                return provider;
            }
        }
    }
    return nullptr;
}

// ---- listens and fan-out ---------------------------------------------------------------------

bool ServerImpl::add_listen(const std::shared_ptr<Listen>& listen) {
    std::uint64_t key = 0;
    {
        std::lock_guard lock(mu_);
        if (shut_down_ || listens_.size() >= options_.max_listens) {
            return false;
        }
        key = next_listen_++;
        listens_.emplace_back(key, listen);
    }
    std::weak_ptr<ServerImpl> weak = weak_from_this();
    listen->exchange->on_done([weak, key] {
        if (auto self = weak.lock()) {
            std::lock_guard lock(self->mu_);
            std::erase_if(self->listens_, [key](const auto& entry) { return entry.first == key; });
        }
    });
    return true;
}

void ServerImpl::on_change(const ChangeEvent& event) {
    std::vector<std::shared_ptr<Listen>> listens;
    std::vector<std::shared_ptr<ConnectionImpl>> connections;
    {
        std::lock_guard lock(mu_);
        for (const auto& [key, listen] : listens_) {
            listens.push_back(listen);
        }
        for (const auto& weak : connections_) {
            if (auto conn = weak.lock()) {
                connections.push_back(std::move(conn));
            }
        }
    }
    const auto applies = [&](const Caller& caller) {
        return event.tenant.empty() || event.tenant == caller.tenant;
    };
    for (const auto& conn : connections) {
        if (!applies(conn->caller())) {
            continue;
        }
        if (event.kind == ChangeEvent::Kind::resource_updated) {
            conn->notify_resource_updated(event.uri);
        } else {
            conn->notify_list_changed(event.kind);
        }
    }
    for (const auto& listen : listens) {
        const Exchange& ex = *listen->exchange;
        if (!applies(ex.caller())) {
            continue;
        }
        const char* method = nullptr;
        json params = json::object();
        switch (event.kind) {
        case ChangeEvent::Kind::tools_list_changed:
            method = listen->tools ? "notifications/tools/list_changed" : nullptr;
            break;
        case ChangeEvent::Kind::prompts_list_changed:
            method = listen->prompts ? "notifications/prompts/list_changed" : nullptr;
            break;
        case ChangeEvent::Kind::resources_list_changed:
            method = listen->resources ? "notifications/resources/list_changed" : nullptr;
            break;
        case ChangeEvent::Kind::resource_updated:
            if (std::binary_search(listen->uris.begin(), listen->uris.end(), event.uri)) {
                method = "notifications/resources/updated";
                params["uri"] = event.uri;
            }
            break;
        }
        if (method == nullptr) {
            continue;
        }
        ex.id().write(params["_meta"]["io.modelcontextprotocol/subscriptionId"]);
        listen->exchange->send_related(jsonrpc::make_notification(method, params));
    }
}

void ServerImpl::end_listen(const std::shared_ptr<Listen>& listen) {
    Exchange& ex = *listen->exchange;
    json result = json::object();
    decorate(ex, result, std::nullopt);
    ex.id().write(result["_meta"]["io.modelcontextprotocol/subscriptionId"]);
    ex.respond(result);
    if (listen->stdio) {
        // On stdio every stream shares one channel: the server also cancels the subscription
        // explicitly (CancelledNotification: "solely to terminate a subscriptions/listen stream").
        if (auto conn = ex.connection()) {
            json params = {{"reason", "server shutting down"}};
            ex.id().write(params["requestId"]);
            conn->send_unrelated(jsonrpc::make_notification("notifications/cancelled", params));
        }
    }
}

void ServerImpl::shutdown() {
    std::vector<std::shared_ptr<Listen>> listens;
    std::vector<std::shared_ptr<ConnectionImpl>> connections;
    {
        std::lock_guard lock(mu_);
        if (shut_down_) {
            return;
        }
        shut_down_ = true;
        for (auto& [key, listen] : listens_) {
            listens.push_back(std::move(listen));
        }
        listens_.clear();
        for (const auto& weak : connections_) {
            if (auto conn = weak.lock()) {
                connections.push_back(std::move(conn));
            }
        }
    }
    for (const auto& listen : listens) {
        end_listen(listen);
    }
    for (const auto& conn : connections) {
        conn->close();
    }
    watches_.clear();
}

} // namespace agentd::protocols::mcp::detail

namespace agentd::protocols::mcp {

std::shared_ptr<Server> Server::create(ServerOptions options, Providers providers,
                                       std::shared_ptr<Timers> timers) {
    auto server = std::make_shared<detail::ServerImpl>(std::move(options), std::move(providers),
                                                       std::move(timers));
    server->start();
    return server;
}

} // namespace agentd::protocols::mcp
