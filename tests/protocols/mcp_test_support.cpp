#include "mcp_test_support.h"

#include "agentd/protocols/errc.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace agentd::protocols::mcp::test {

// ---- ManualTimers ----------------------------------------------------------------------------

struct ManualTimers::Entry final : TimerHandle {
    std::chrono::milliseconds due{0};
    std::function<void()> callback;
    std::mutex mu;
    bool cancelled = false;
    void cancel() override {
        std::lock_guard lock(mu);
        cancelled = true;
    }
};

std::shared_ptr<TimerHandle> ManualTimers::schedule(std::chrono::milliseconds delay,
                                                    std::function<void()> callback) {
    auto entry = std::make_shared<Entry>();
    std::lock_guard lock(mu_);
    entry->due = now_ + delay;
    entry->callback = std::move(callback);
    entries_.push_back(entry);
    return entry;
}

void ManualTimers::advance(std::chrono::milliseconds by) {
    std::vector<std::shared_ptr<Entry>> due;
    {
        std::lock_guard lock(mu_);
        now_ += by;
        auto split = std::stable_partition(entries_.begin(), entries_.end(),
                                           [&](const auto& e) { return e->due > now_; });
        due.assign(split, entries_.end());
        entries_.erase(split, entries_.end());
    }
    for (auto& e : due) {
        bool run = false;
        {
            std::lock_guard lock(e->mu);
            run = !e->cancelled;
        }
        if (run) {
            e->callback();
        }
    }
}

std::size_t ManualTimers::pending() const {
    std::lock_guard lock(mu_);
    return static_cast<std::size_t>(std::count_if(entries_.begin(), entries_.end(), [](auto& e) {
        std::lock_guard l(e->mu);
        return !e->cancelled;
    }));
}

// ---- recording seams -------------------------------------------------------------------------

void RecordingChannel::send_related(std::string message) {
    std::lock_guard lock(mu_);
    EXPECT_FALSE(response_.has_value() || ended_) << "related message after the end: " << message;
    related_.push_back(json::parse(message));
}

void RecordingChannel::send_response(std::string message, ResponseStatus status) {
    std::lock_guard lock(mu_);
    EXPECT_FALSE(response_.has_value() || ended_) << "second response: " << message;
    response_ = json::parse(message);
    status_ = status;
}

void RecordingChannel::end_without_response() {
    std::lock_guard lock(mu_);
    EXPECT_FALSE(response_.has_value() || ended_);
    ended_ = true;
}

std::vector<json> RecordingChannel::related() const {
    std::lock_guard lock(mu_);
    return related_;
}

std::optional<json> RecordingChannel::response() const {
    std::lock_guard lock(mu_);
    return response_;
}

ResponseStatus RecordingChannel::status() const {
    std::lock_guard lock(mu_);
    return status_;
}

bool RecordingChannel::ended_without_response() const {
    std::lock_guard lock(mu_);
    return ended_;
}

json RecordingChannel::result() const {
    auto r = response();
    EXPECT_TRUE(r.has_value()) << "no response";
    return r ? *r : json();
}

int RecordingChannel::error_code() const {
    auto r = response();
    if (!r || !r->contains("error")) {
        return 0;
    }
    return r->at("error").at("code").get<int>();
}

void RecordingSink::send(std::string message) {
    std::lock_guard lock(mu_);
    messages_.push_back(json::parse(message));
}

std::vector<json> RecordingSink::messages() const {
    std::lock_guard lock(mu_);
    return messages_;
}

// ---- TestTools -------------------------------------------------------------------------------

namespace {

ToolInfo tool(std::string name, json input = {{"type", "object"}}, json output = nullptr) {
    ToolInfo t;
    t.name = std::move(name);
    t.description = "test tool " + t.name;
    t.input_schema = share_json(input);
    if (!output.is_null()) {
        t.output_schema = share_json(output);
    }
    return t;
}

json text_result(const std::string& text) {
    return {{"content", {{{"type", "text"}, {"text", text}}}}};
}

} // namespace

TestTools::TestTools(int generated) {
    std::vector<ToolInfo> list = {
        tool("echo", {{"type", "object"}, {"properties", {{"text", {{"type", "string"}}}}}}),
        tool("structured", {{"type", "object"}},
             {{"type", "object"}, {"properties", {{"n", {{"type", "integer"}}}}}}),
        tool("no_structured", {{"type", "object"}}, {{"type", "object"}}),
        tool("slow"),
        tool("progress"),
        tool("log"),
        tool("ask"),
        tool("ask_url"),
        tool("region", {{"type", "object"},
                        {"properties",
                         {{"region", {{"type", "string"}, {"x-mcp-header", "Region"}}},
                          {"opts",
                           {{"type", "object"},
                            {"properties",
                             {{"count", {{"type", "integer"}, {"x-mcp-header", "Count"}}}}}}}}}}),
        tool("throws"),
        tool("bad_result"),
    };
    for (int i = 0; i < generated; ++i) {
        char name[16];
        std::snprintf(name, sizeof name, "gen_%03d", i);
        list.push_back(tool(name));
    }
    std::sort(list.begin(), list.end(),
              [](const ToolInfo& a, const ToolInfo& b) { return a.name < b.name; });
    tools_ = std::make_shared<const std::vector<ToolInfo>>(std::move(list));
}

std::shared_ptr<const std::vector<ToolInfo>> TestTools::list_tools(const Caller& caller) const {
    if (caller.tenant == "empty") {
        return std::make_shared<const std::vector<ToolInfo>>();
    }
    return tools_;
}

void TestTools::call_tool(const ToolInfo& t, json&& args, std::shared_ptr<RequestContext> ctx) {
    const std::string& name = t.name;
    if (name == "echo") {
        ctx->complete(text_result("echo: " + args.value("text", std::string())));
    } else if (name == "structured") {
        ctx->complete({{"structuredContent", {{"n", 3}}}});
    } else if (name == "no_structured") {
        ctx->complete(text_result("plain"));
    } else if (name == "slow") {
        std::lock_guard lock(mu_);
        slow_.push_back(ctx);
        ctx->on_cancel([this] {
            std::lock_guard l(mu_);
            ++cancelled_;
        });
    } else if (name == "progress") {
        ctx->progress(1, 2);
        ctx->progress(1, 2); // not increasing: dropped
        ctx->progress(2, 2, "done");
        ctx->complete(text_result("finished"));
    } else if (name == "log") {
        ctx->log(LogLevel::debug, "test", "d");
        ctx->log(LogLevel::info, "test", "i");
        ctx->log(LogLevel::error, "test", json{{"e", 1}});
        ctx->complete(text_result("logged"));
    } else if (name == "ask") {
        if (const json* answer = ctx->input_response("llm")) {
            ctx->complete(text_result("LLM said: " + answer->at("content").value("text", "") +
                                      " state=" + ctx->request_state()));
            return;
        }
        ctx->input_required(
            {{"llm",
              {{"method", "sampling/createMessage"},
               {"params",
                {{"messages",
                  {{{"role", "user"}, {"content", {{"type", "text"}, {"text", "hi"}}}}}},
                 {"maxTokens", 100}}}}}},
            "round-1");
    } else if (name == "ask_url") {
        ctx->input_required(
            {{"u",
              {{"method", "elicitation/create"},
               {"params",
                {{"mode", "url"}, {"message", "open"}, {"url", "https://example.com/x"}}}}}});
    } else if (name == "region") {
        ctx->complete(text_result("region ok"));
    } else if (name == "throws") {
        throw std::runtime_error("boom");
    } else if (name == "bad_result") {
        ctx->complete(json("not an object"));
    } else {
        ctx->complete(text_result(name));
    }
}

Subscription TestTools::watch(ChangeListener listener) {
    std::lock_guard lock(mu_);
    listeners_.push_back(std::move(listener));
    return std::make_shared<int>(0);
}

void TestTools::fire(const ChangeEvent& event) {
    std::vector<ChangeListener> listeners;
    {
        std::lock_guard lock(mu_);
        listeners = listeners_;
    }
    for (auto& l : listeners) {
        l(event);
    }
}

std::vector<std::shared_ptr<RequestContext>> TestTools::slow_calls() const {
    std::lock_guard lock(mu_);
    return slow_;
}

int TestTools::cancellations() const {
    std::lock_guard lock(mu_);
    return cancelled_;
}

// ---- TestResources / TestPrompts -------------------------------------------------------------

std::shared_ptr<const std::vector<ResourceInfo>>
TestResources::list_resources(const Caller&) const {
    ResourceInfo a;
    a.uri = "test://a";
    a.name = "a";
    a.mime_type = "text/plain";
    ResourceInfo b;
    b.uri = "test://b";
    b.name = "b";
    return std::make_shared<const std::vector<ResourceInfo>>(std::vector<ResourceInfo>{a, b});
}

std::shared_ptr<const std::vector<ResourceTemplateInfo>>
TestResources::list_templates(const Caller&) const {
    ResourceTemplateInfo t;
    t.uri_template = "test://t/{id}";
    t.name = "t";
    return std::make_shared<const std::vector<ResourceTemplateInfo>>(
        std::vector<ResourceTemplateInfo>{t});
}

bool TestResources::owns(const Caller&, std::string_view uri) const {
    return uri == "test://a" || uri == "test://b" || uri.substr(0, 9) == "test://t/";
}

void TestResources::read(const std::string& uri, std::shared_ptr<RequestContext> ctx) {
    if (uri == "test://t/missing") {
        ctx->fail(base::Error(errc::resource_not_found, "no such item"));
        return;
    }
    const std::string text = uri.substr(0, 9) == "test://t/" ? uri.substr(9) : "content of " + uri;
    ctx->complete({{"contents", {{{"uri", uri}, {"mimeType", "text/plain"}, {"text", text}}}}});
}

void TestResources::complete(const CompletionQuery& query, std::shared_ptr<RequestContext> ctx) {
    json values = json::array();
    for (const char* v : {"alpha", "beta", "alps"}) {
        if (std::string_view(v).substr(0, query.value.size()) == query.value) {
            values.push_back(v);
        }
    }
    ctx->complete({{"completion", {{"values", values}, {"total", values.size()}}}});
}

Subscription TestResources::watch(ChangeListener listener) {
    std::lock_guard lock(mu_);
    listeners_.push_back(std::move(listener));
    return std::make_shared<int>(0);
}

void TestResources::fire(const ChangeEvent& event) {
    std::vector<ChangeListener> listeners;
    {
        std::lock_guard lock(mu_);
        listeners = listeners_;
    }
    for (auto& l : listeners) {
        l(event);
    }
}

std::shared_ptr<const std::vector<PromptInfo>> TestPrompts::list_prompts(const Caller&) const {
    PromptInfo p;
    p.name = "greet";
    p.description = "greets";
    p.arguments = {{"name", "", "who", true}, {"style", "", "", false}};
    return std::make_shared<const std::vector<PromptInfo>>(std::vector<PromptInfo>{p});
}

void TestPrompts::get_prompt(const PromptInfo&, std::map<std::string, std::string> arguments,
                             std::shared_ptr<RequestContext> ctx) {
    ctx->complete(
        {{"messages",
          {{{"role", "user"},
            {"content", {{"type", "text"}, {"text", "Hello " + arguments.at("name")}}}}}}});
}

void TestPrompts::complete(const CompletionQuery& query, std::shared_ptr<RequestContext> ctx) {
    json values = json::array();
    for (int i = 0; i < 150; ++i) {
        values.push_back(query.value + std::to_string(i));
    }
    ctx->complete({{"completion", {{"values", values}}}});
}

Subscription TestPrompts::watch(ChangeListener) {
    return std::make_shared<int>(0);
}

// ---- Harness ---------------------------------------------------------------------------------

Harness::Harness(ServerOptions options, bool stdio, int generated_tools)
    : tools(std::make_shared<TestTools>(generated_tools)) {
    options.request_state_key = "test key";
    Providers providers;
    providers.tools.push_back(tools);
    providers.resources.push_back(resources);
    providers.prompts.push_back(prompts);
    server = Server::create(options, providers, timers);
    connection = server->connect(Caller{}, sink, stdio);
}

std::shared_ptr<RecordingChannel> Harness::send(const json& message) {
    auto channel = std::make_shared<RecordingChannel>();
    auto frame = jsonrpc::parse(message.dump());
    EXPECT_TRUE(frame.ok);
    if (frame.batch) {
        connection->handle_batch(frame.messages, channel);
    } else {
        connection->handle(frame.messages.front(), channel);
    }
    return channel;
}

std::shared_ptr<RecordingChannel> Harness::send_stateless(const json& message,
                                                          const MirroredHeaders& headers) {
    auto channel = std::make_shared<RecordingChannel>();
    auto frame = jsonrpc::parse(message.dump());
    EXPECT_TRUE(frame.ok);
    (void)server->handle_stateless(frame.messages.front(), Caller{}, headers, channel);
    return channel;
}

json Harness::initialize(const std::string& version, json capabilities) {
    auto ch = send(request(0, "initialize",
                           {{"protocolVersion", version},
                            {"capabilities", std::move(capabilities)},
                            {"clientInfo", {{"name", "t"}, {"version", "1"}}}}));
    (void)send({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}});
    return ch->result().value("result", json());
}

json request(json id, const std::string& method, json params) {
    return {{"jsonrpc", "2.0"}, {"id", std::move(id)}, {"method", method}, {"params", params}};
}

json modern_request(json id, const std::string& method, json params, json capabilities,
                    json meta_extra) {
    json meta = {{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
                 {"io.modelcontextprotocol/clientInfo", {{"name", "t"}, {"version", "1"}}},
                 {"io.modelcontextprotocol/clientCapabilities", std::move(capabilities)}};
    meta.update(meta_extra);
    params["_meta"] = meta;
    return request(std::move(id), method, std::move(params));
}

MirroredHeaders mirror_of(const json& message) {
    MirroredHeaders h;
    h.protocol_version = "2026-07-28";
    h.method = message.at("method").get<std::string>();
    const json& params = message.at("params");
    if (params.contains("name") && params.at("name").is_string()) {
        h.name = params.at("name").get<std::string>();
    } else if (params.contains("uri") && params.at("uri").is_string()) {
        h.name = params.at("uri").get<std::string>();
    }
    return h;
}

} // namespace agentd::protocols::mcp::test
