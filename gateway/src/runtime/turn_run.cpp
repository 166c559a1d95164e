// The turn loop (agent_runtime.h): prepare → engine → tools → repeat.

#include "runtime/turn_run.h"

#include "agentd/protocols/json_rpc.h"
#include "agentd/tools/errc.h"
#include "agentd/tools/tool_call.h"

#include "log/logging.h"
#include "openai/chat_request.h"
#include "openai/model_service.h"
#include "openai/request_fields.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>

namespace agentd::gateway::runtime {

namespace {

using nlohmann::json;

json tool_choice_json(const std::string& choice) {
    if (choice == "auto" || choice == "required" || choice == "none") {
        return choice;
    }
    return {{"type", "function"}, {"function", {{"name", choice}}}};
}

json message_json(const TurnMessage& m) {
    json out = {{"role", m.role}};
    if (m.role == "assistant" && !m.tool_calls.empty()) {
        out["content"] = m.content.empty() ? json() : json(m.content);
        json calls = json::array();
        for (const auto& c : m.tool_calls) {
            calls.push_back({{"id", c.id},
                             {"type", "function"},
                             {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
        }
        out["tool_calls"] = std::move(calls);
    } else {
        out["content"] = m.content;
    }
    if (m.role == "tool") {
        out["tool_call_id"] = m.tool_call_id;
    }
    return out;
}

std::string short_text(const std::string& s, std::size_t max = 200) {
    return s.size() <= max ? s : s.substr(0, max) + "…";
}

} // namespace

std::string TurnRun::body_for_step() const {
    json msgs = json::array();
    if (!spec->system_prompt.empty()) {
        msgs.push_back({{"role", "system"}, {"content", spec->system_prompt}});
    }
    for (const auto& m : messages) {
        msgs.push_back(message_json(m));
    }
    json tool_list = json::array();
    const auto catalog =
        runtime->registry() ? runtime->registry()->catalog(request.tenant) : nullptr;
    for (const auto& name : spec->tools) {
        const auto tool = catalog ? catalog->find(name) : nullptr;
        if (!tool) {
            continue; // e.g. a REST tool not registered (yet) for this tenant
        }
        json parameters = *tool->definition().input_schema;
        if (auto it = spec->tool_schemas.find(name); it != spec->tool_schemas.end()) {
            parameters = json::parse(it->second);
        }
        tool_list.push_back({{"type", "function"},
                             {"function",
                              {{"name", name},
                               {"description", tool->definition().description},
                               {"parameters", std::move(parameters)}}}});
    }
    const bool first = result.steps == 0;
    json body = {{"model", model->model_id()}, {"messages", std::move(msgs)}};
    if (!tool_list.empty()) {
        body["tools"] = std::move(tool_list);
        body["tool_choice"] =
            tool_choice_json(first ? spec->tool_choice : spec->followup_tool_choice);
    }
    const std::int32_t left = spec->token_budget - result.usage.completion_tokens;
    body["max_tokens"] = std::max<std::int32_t>(1, std::min(spec->sampling.max_tokens, left));
    body["temperature"] = spec->sampling.temperature;
    body["top_p"] = spec->sampling.top_p;
    if (spec->sampling.top_k > 0) {
        body["top_k"] = spec->sampling.top_k;
    }
    if (spec->sampling.seed != 0) {
        body["seed"] = spec->sampling.seed;
    }
    return protocols::jsonrpc::serialize(body);
}

void TurnRun::emit_span(std::string name, std::string parent, std::int64_t start_ns,
                        std::vector<std::pair<std::string, AttrValue>> attributes, bool error,
                        std::string status) {
    SpanRecord s;
    s.trace_id = result.trace_id;
    s.span_id = name == "turn" ? root_span : new_span_id();
    s.parent_id = std::move(parent);
    s.name = std::move(name);
    s.start_unix_ns = start_ns;
    s.end_unix_ns = unix_ns_now();
    s.attributes = std::move(attributes);
    s.error = error;
    s.status_message = std::move(status);
    runtime->tracer()->emit(std::move(s));
}

void TurnRun::start() {
    started_ns = unix_ns_now();
    if (auto tp = parse_traceparent(request.traceparent)) {
        result.trace_id = tp->trace_id;
        parent_span = tp->span_id;
    } else {
        result.trace_id = new_trace_id();
    }
    root_span = new_span_id();
    cache_hold_key = "turn:" + result.trace_id + ":" + root_span;
    messages = request.messages;
    deadline = std::chrono::steady_clock::now() + spec->time_budget;
    std::weak_ptr<TurnRun> weak = shared_from_this();
    deadline_timer = runtime->impl().timers->schedule(spec->time_budget, [weak] {
        auto self = weak.lock();
        if (!self) {
            return;
        }
        std::optional<inference::RequestId> id;
        {
            std::lock_guard lock(self->mu);
            self->time_up = true;
            id = self->engine_request;
        }
        if (id) {
            self->model->scheduler().cancel(*id);
        }
    });
    cancel->on_cancel([weak] {
        if (auto self = weak.lock()) {
            std::optional<inference::RequestId> id;
            {
                std::lock_guard lock(self->mu);
                id = self->engine_request;
            }
            if (id) {
                self->model->scheduler().cancel(*id);
            }
        }
    });
    step();
}

void TurnRun::step() {
    if (cancel->cancelled()) {
        fail(base::Error(tools::errc::cancelled, "the turn was cancelled"));
        return;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
        end("time_budget");
        return;
    }
    if (result.steps >= spec->max_steps) {
        end("max_steps");
        return;
    }
    if (result.usage.completion_tokens >= spec->token_budget) {
        end("token_budget");
        return;
    }
    const auto& limits = openai::RequestLimits{};
    auto body = openai::parse_body(body_for_step(), limits);
    if (!body) {
        fail(base::Error(tools::errc::upstream_error, "turn request: " + body.error().message));
        return;
    }
    auto chat = openai::parse_chat_request(*body, limits, model->scheduler().model_info().n_vocab);
    if (!chat) {
        fail(base::Error(tools::errc::upstream_error, "turn request: " + chat.error().message));
        return;
    }
    auto prepared = model->prepare_chat(*chat);
    if (!prepared) {
        fail(base::Error(tools::errc::upstream_error,
                         "rendering the turn: " + prepared.error().message));
        return;
    }
    // Same namespace for every step of every turn of this tenant: the conversation's prefix,
    // cached by the previous step, is reused (issue 5's radix cache).
    prepared->request.cache_namespace = model->cache_namespace(request.tenant);
    prepared->request.cache_hold = cache_hold_key;
    {
        std::lock_guard lock(mu);
        step_text.clear();
        step_calls.clear();
        step_started_ns = unix_ns_now();
        first_token_ns = 0;
    }
    auto self = shared_from_this();
    auto id = model->scheduler().submit(
        std::move(prepared->request),
        [self](inference::GenerationUpdate&& u) { self->on_update(std::move(u)); });
    if (!id) {
        fail(base::Error(id.error().code.message() == "overloaded" ? tools::errc::busy
                                                                   : tools::errc::upstream_error,
                         "the engine refused the step: " + id.error().what()));
        return;
    }
    bool stop_now = false;
    {
        std::lock_guard lock(mu);
        engine_request = *id;
        stop_now = time_up || cancel->cancelled();
    }
    if (stop_now) {
        model->scheduler().cancel(*id);
    }
}

void TurnRun::on_update(inference::GenerationUpdate&& update) {
    {
        std::lock_guard lock(mu);
        if (first_token_ns == 0 && !update.tokens.empty()) {
            first_token_ns = unix_ns_now();
        }
        for (const auto& d : update.deltas) {
            switch (d.kind) {
            case inference::ChatDelta::Kind::content:
                step_text += d.text;
                break;
            case inference::ChatDelta::Kind::reasoning:
                break;
            case inference::ChatDelta::Kind::tool_call_begin:
                step_calls[d.index].name = d.text;
                step_calls[d.index].id = d.id;
                break;
            case inference::ChatDelta::Kind::tool_call_args:
                step_calls[d.index].arguments += d.text;
                break;
            case inference::ChatDelta::Kind::tool_call_end:
                break;
            }
        }
    }
    if (update.finish == inference::FinishReason::none) {
        return;
    }
    auto self = shared_from_this();
    boost::asio::post(runtime->blocking(), [self, u = std::move(update)]() mutable {
        self->on_generated(std::move(u));
    });
}

void TurnRun::on_generated(inference::GenerationUpdate update) {
    std::string text;
    std::vector<ToolCallRecord> calls;
    std::int64_t step_start = 0;
    std::int64_t first = 0;
    bool timed_out = false;
    {
        std::lock_guard lock(mu);
        engine_request.reset();
        text = std::move(step_text);
        for (auto& [index, call] : step_calls) {
            if (call.id.empty()) {
                call.id = "call_" + std::to_string(result.steps) + "_" + std::to_string(index);
            }
            calls.push_back(std::move(call));
        }
        step_start = step_started_ns;
        first = first_token_ns != 0 ? first_token_ns : unix_ns_now();
        timed_out = time_up;
    }
    ++result.steps;
    const auto& u = update.usage;
    result.usage.prompt_tokens += u.prompt_tokens;
    result.usage.completion_tokens += u.completion_tokens;
    result.usage.cached_tokens += u.cached_tokens;
    const auto step = static_cast<std::int64_t>(result.steps);
    emit_span("prefill", root_span, step_start,
              {{"step", step},
               {"prompt_tokens", static_cast<std::int64_t>(u.prompt_tokens)},
               {"cached_tokens", static_cast<std::int64_t>(u.cached_tokens)},
               {"computed_tokens", static_cast<std::int64_t>(u.prompt_tokens - u.cached_tokens)}});
    emit_span("decode", root_span, first,
              {{"step", step},
               {"completion_tokens", static_cast<std::int64_t>(u.completion_tokens)},
               {"tool_calls", static_cast<std::int64_t>(calls.size())}});
    if (update.error && !cancel->cancelled() && !timed_out) {
        fail(
            base::Error(tools::errc::upstream_error, "the engine failed: " + update.error->what()));
        return;
    }
    if (cancel->cancelled()) {
        fail(base::Error(tools::errc::cancelled, "the turn was cancelled"));
        return;
    }
    if (timed_out) {
        result.text = text;
        end("time_budget");
        return;
    }
    if (calls.empty()) {
        result.text = std::move(text);
        end(update.finish == inference::FinishReason::length ? "length" : "stop");
        return;
    }
    TurnMessage assistant;
    assistant.role = "assistant";
    assistant.content = text;
    assistant.tool_calls = calls;
    messages.push_back(std::move(assistant));
    run_tools(std::move(calls));
}

void TurnRun::run_tools(std::vector<ToolCallRecord> calls) {
    struct Pending {
        std::mutex mu;
        std::vector<ToolCallRecord> calls;
        std::size_t left = 0;
    };
    auto pending = std::make_shared<Pending>();
    pending->calls = std::move(calls);
    pending->left = pending->calls.size();
    auto self = shared_from_this();
    const auto catalog =
        runtime->registry() ? runtime->registry()->catalog(request.tenant) : nullptr;
    const auto complete = [self, pending](std::size_t i, tools::ToolResult r, std::int64_t start) {
        bool last = false;
        ToolCallRecord done_call;
        {
            std::lock_guard lock(pending->mu);
            auto& c = pending->calls[i];
            c.result = r.joined_text();
            c.is_error = r.is_error;
            c.structured = r.structured_content;
            done_call = c;
            last = --pending->left == 0;
        }
        std::vector<std::pair<std::string, AttrValue>> attrs = {{"tool", done_call.name}};
        if (done_call.structured && done_call.structured->is_object()) {
            for (const char* key : {"wall_ms", "cpu_ms", "max_rss_kb", "exit_code"}) {
                const auto& s = *done_call.structured;
                if (s.contains(key) && s[key].is_number_integer()) {
                    attrs.emplace_back(std::string("sandbox.") + key, s[key].get<std::int64_t>());
                }
            }
        }
        self->emit_span("tool", self->root_span, start, std::move(attrs), done_call.is_error,
                        done_call.is_error ? short_text(done_call.result) : std::string());
        if (self->events.tool_done) {
            self->events.tool_done(done_call);
        }
        if (!last) {
            return;
        }
        boost::asio::post(self->runtime->blocking(), [self, pending] {
            for (auto& c : pending->calls) {
                TurnMessage tool;
                tool.role = "tool";
                tool.tool_call_id = c.id;
                tool.content = c.result;
                self->messages.push_back(std::move(tool));
                self->result.tool_calls.push_back(c);
            }
            self->step();
        });
    };
    for (std::size_t i = 0; i < pending->calls.size(); ++i) {
        const auto& call = pending->calls[i];
        const std::int64_t start = unix_ns_now();
        if (events.progress) {
            events.progress("calling " + call.name);
        }
        const bool allowed =
            std::find(spec->tools.begin(), spec->tools.end(), call.name) != spec->tools.end();
        const auto tool = allowed && catalog ? catalog->find(call.name) : nullptr;
        if (!tool) {
            complete(i,
                     tools::ToolResult::error("tool \"" + call.name +
                                              "\" is not available to this agent"),
                     start);
            continue;
        }
        json args = json::parse(call.arguments.empty() ? std::string("{}") : call.arguments,
                                nullptr, false);
        if (args.is_discarded() || !args.is_object()) {
            complete(i,
                     tools::ToolResult::error("the arguments of \"" + call.name +
                                              "\" are not a JSON object"),
                     start);
            continue;
        }
        tools::ToolInvocation inv;
        inv.tenant = request.tenant;
        inv.request_id = result.trace_id;
        inv.arguments = tools::share_json(args);
        inv.cancel = cancel;
        inv.deadline = deadline;
        std::weak_ptr<TurnRun> weak = self;
        inv.progress = [weak](double, std::optional<double>, std::string_view message) {
            if (auto s = weak.lock(); s && s->events.progress && !message.empty()) {
                s->events.progress(std::string(message));
            }
        };
        tools::call_tool(tool, std::move(inv), [complete, i, start](tools::ToolResult r) {
            complete(i, std::move(r), start);
        });
    }
}

void TurnRun::end(std::string finish) {
    if (finished.exchange(true)) {
        return;
    }
    if (model != nullptr) {
        model->scheduler().drop_cache_hold(cache_hold_key);
    }
    if (deadline_timer) {
        deadline_timer->cancel();
    }
    result.finish = std::move(finish);
    emit_span("turn", parent_span, started_ns,
              {{"agent", spec->name},
               {"face", request.face},
               {"steps", static_cast<std::int64_t>(result.steps)},
               {"finish", result.finish},
               {"prompt_tokens", static_cast<std::int64_t>(result.usage.prompt_tokens)},
               {"cached_tokens", static_cast<std::int64_t>(result.usage.cached_tokens)},
               {"completion_tokens", static_cast<std::int64_t>(result.usage.completion_tokens)}});
    {
        std::lock_guard lock(runtime->impl().mu);
        runtime->impl().running.erase(this);
    }
    done(std::move(result));
}

void TurnRun::fail(base::Error error) {
    if (finished.exchange(true)) {
        return;
    }
    if (model != nullptr) {
        model->scheduler().drop_cache_hold(cache_hold_key);
    }
    if (deadline_timer) {
        deadline_timer->cancel();
    }
    emit_span("turn", parent_span, started_ns,
              {{"agent", spec->name},
               {"face", request.face},
               {"steps", static_cast<std::int64_t>(result.steps)}},
              true, error.what());
    {
        std::lock_guard lock(runtime->impl().mu);
        runtime->impl().running.erase(this);
    }
    done(std::move(error));
}

} // namespace agentd::gateway::runtime
