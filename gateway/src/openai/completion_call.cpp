// One chat or text completion after preparation: submit to the scheduler, then turn its updates
// (posted to a per-call strand) into a JSON response or an SSE stream of chunks.
#include "agentd/inference/errc.h"

#include "log/logging.h"
#include "openai/openai_module.h"
#include "openai/response_json.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <mutex>
#include <random>

namespace agentd::gateway::openai {
namespace net = boost::asio;

using inference::Array;
using inference::ChatDelta;
using inference::FinishReason;
using inference::GenerationUpdate;
using inference::Object;
using inference::Value;

namespace {

class CompletionCall : public ActiveStream, public std::enable_shared_from_this<CompletionCall> {
public:
    CompletionCall(std::shared_ptr<OpenAiModule> module, http::ResponseWriterPtr writer,
                   CallOptions options)
        : module_(std::move(module)), writer_(std::move(writer)), options_(std::move(options)),
          strand_(net::make_strand(*module_->io)) {
        info_.id = make_call_id(options_.kind);
        info_.model = options_.model;
        info_.created = unix_now();
        info_.kind = options_.kind;
    }

    void start(inference::GenerationRequest request);
    void abort_for_shutdown() override;

private:
    [[nodiscard]] inference::Scheduler& scheduler() const { return module_->model->scheduler(); }
    void cancel();
    void ensure_stream();
    void on_update(GenerationUpdate&& u);
    void stream_update(GenerationUpdate& u);
    void collect_update(GenerationUpdate& u);
    void finish_stream(const GenerationUpdate& u);
    void respond_full(const GenerationUpdate& u);
    void send(std::string data);
    [[nodiscard]] Value chat_delta(const ChatDelta& d);
    [[nodiscard]] std::string_view piece(inference::TokenId id) const {
        return module_->model->tokenizer().piece(id, options_.special_pieces);
    }

    std::shared_ptr<OpenAiModule> module_;
    http::ResponseWriterPtr writer_;
    CallOptions options_;
    CallInfo info_;
    net::strand<net::io_context::executor_type> strand_;
    std::shared_ptr<http::SseStream> stream_;
    std::mutex stream_mutex_; // guards stream_ for abort_for_shutdown (other threads)
    std::atomic<inference::RequestId> id_{0};
    std::atomic<bool> cancel_wanted_{false};
    bool done_ = false;   // strand
    bool broken_ = false; // strand: the stream refused an event

    // Accumulated for a full response (strand).
    std::string content_;
    std::string reasoning_;
    std::vector<ToolCallOut> calls_;
    Array chat_logprobs_;
    TextLogprobs text_logprobs_;
};

void CompletionCall::cancel() {
    cancel_wanted_ = true;
    if (const auto id = id_.load(); id != 0) {
        scheduler().cancel(id);
    }
}

void CompletionCall::start(inference::GenerationRequest request) {
    auto self = shared_from_this();
    std::weak_ptr<CompletionCall> weak = self;
    writer_->on_client_gone([weak] {
        if (auto call = weak.lock()) {
            call->cancel();
        }
    });
    auto module = module_;
    auto submitted = scheduler().submit(std::move(request), [self, module](GenerationUpdate&& u) {
        if (module->stopping.load(std::memory_order_acquire)) {
            return; // the App is going away: its connections are being closed
        }
        net::post(self->strand_,
                  [self, u = std::move(u)]() mutable { self->on_update(std::move(u)); });
    });
    if (!submitted) {
        // Refused before anything was sent: a plain HTTP error, streaming or not.
        writer_->respond(error_response(from_error(submitted.error())));
        return;
    }
    id_ = *submitted;
    if (cancel_wanted_.load()) {
        scheduler().cancel(*submitted);
    }
    if (options_.stream) {
        // Headers and the role chunk go out now, not with the first token.
        net::post(strand_, [self] { self->ensure_stream(); });
    }
}

/// Switches the response to SSE (strand; once).
void CompletionCall::ensure_stream() {
    if (stream_ || done_) {
        return;
    }
    {
        std::lock_guard lock(stream_mutex_);
        stream_ = writer_->start_sse(200);
    }
    module_->track(shared_from_this());
    std::weak_ptr<CompletionCall> weak = shared_from_this();
    stream_->on_close([weak] {
        if (auto call = weak.lock()) {
            call->cancel();
        }
    });
    if (options_.kind == CallOptions::Kind::chat) {
        // The first chunk announces the role, as OpenAI's does.
        send(chunk_json(info_, Value(Object{{"role", "assistant"}, {"content", ""}}),
                        Value(nullptr), nullptr, options_.include_usage));
    }
}

void CompletionCall::abort_for_shutdown() {
    std::shared_ptr<http::SseStream> stream;
    {
        std::lock_guard lock(stream_mutex_);
        stream = stream_;
    }
    cancel();
    if (stream) {
        ApiError e;
        e.status = 503;
        e.type = "server_error";
        e.code = "shutting_down";
        e.message = "the server is shutting down";
        stream->send(http::SseEvent{error_body(e), {}, {}, {}});
        stream->close();
    }
}

void CompletionCall::send(std::string data) {
    if (!stream_ || broken_) {
        return;
    }
    if (!stream_->send(http::SseEvent{std::move(data), {}, {}, {}})) {
        // A client that does not read its stream (queue full) or went away: stop generating.
        broken_ = true;
        cancel();
        stream_->close();
    }
}

Value CompletionCall::chat_delta(const ChatDelta& d) {
    switch (d.kind) {
    case ChatDelta::Kind::content:
        return Value(Object{{"content", d.text}});
    case ChatDelta::Kind::reasoning:
        return Value(Object{{"reasoning_content", d.text}});
    case ChatDelta::Kind::tool_call_begin: {
        thread_local std::mt19937_64 rng{std::random_device{}()};
        std::string id =
            d.id.empty() ? inference::make_tool_call_id(options_.tool_format, rng()) : d.id;
        if (calls_.size() <= d.index) {
            calls_.resize(d.index + 1);
        }
        calls_[d.index].id = id;
        calls_[d.index].name = d.text;
        return Value(Object{
            {"tool_calls",
             Array{Value(Object{{"index", static_cast<long long>(d.index)},
                                {"id", std::move(id)},
                                {"type", "function"},
                                {"function", Object{{"name", d.text}, {"arguments", ""}}}})}}});
    }
    case ChatDelta::Kind::tool_call_args:
        if (calls_.size() <= d.index) {
            calls_.resize(d.index + 1);
        }
        calls_[d.index].arguments += d.text;
        return Value(Object{
            {"tool_calls", Array{Value(Object{{"index", static_cast<long long>(d.index)},
                                              {"function", Object{{"arguments", d.text}}}})}}});
    case ChatDelta::Kind::tool_call_end:
        break;
    }
    return Value(nullptr);
}

void CompletionCall::on_update(GenerationUpdate&& u) {
    if (done_) {
        return;
    }
    if (options_.stream) {
        ensure_stream();
        stream_update(u);
    } else {
        collect_update(u);
    }
    if (u.finish == FinishReason::none) {
        return;
    }
    done_ = true;
    if (u.tool_call_error) {
        log::log_event(log::Level::debug, "the model left a tool call broken",
                       {{"call", info_.id}, {"error", *u.tool_call_error}});
    }
    if (options_.stream) {
        finish_stream(u);
    } else {
        respond_full(u);
    }
}

/// Sends the update's deltas as chunks (consecutive text merged); its tokens' log-probabilities
/// ride on the first chunk, or on an empty one when the text is still held back.
void CompletionCall::stream_update(GenerationUpdate& u) {
    const bool chat = options_.kind == CallOptions::Kind::chat;
    const auto tokens_logprobs = [&]() -> Value {
        if (!options_.logprobs || u.tokens.empty()) {
            return Value(nullptr);
        }
        if (chat) {
            Array content;
            append_chat_logprobs(content, u.tokens, options_.top_logprobs,
                                 [this](auto id) { return piece(id); });
            return Value(Object{{"content", std::move(content)}});
        }
        TextLogprobs lp;
        lp.add(u.tokens, options_.top_logprobs, [this](auto id) { return piece(id); });
        return lp.value();
    };
    Value logprobs = tokens_logprobs();
    bool sent = false;
    std::string text;
    ChatDelta::Kind text_kind = ChatDelta::Kind::content;
    const auto flush_text = [&] {
        if (text.empty()) {
            return;
        }
        Value delta = !chat ? Value(text)
                      : text_kind == ChatDelta::Kind::content
                          ? Value(Object{{"content", text}})
                          : Value(Object{{"reasoning_content", text}});
        send(chunk_json(info_, std::move(delta), sent ? Value(nullptr) : std::move(logprobs),
                        nullptr, options_.include_usage));
        sent = true;
        text.clear();
    };
    for (const auto& d : u.deltas) {
        const bool is_text =
            d.kind == ChatDelta::Kind::content || (chat && d.kind == ChatDelta::Kind::reasoning);
        if (is_text) {
            if (d.kind != text_kind) {
                flush_text();
                text_kind = d.kind;
            }
            text += d.text;
            continue;
        }
        flush_text();
        Value delta = chat_delta(d);
        if (delta.is_null()) {
            continue;
        }
        send(chunk_json(info_, std::move(delta), sent ? Value(nullptr) : std::move(logprobs),
                        nullptr, options_.include_usage));
        sent = true;
    }
    flush_text();
    if (!sent && !logprobs.is_null()) {
        send(chunk_json(info_, chat ? Value(Object{}) : Value(""), std::move(logprobs), nullptr,
                        options_.include_usage));
    }
}

void CompletionCall::collect_update(GenerationUpdate& u) {
    for (const auto& d : u.deltas) {
        if (d.kind == ChatDelta::Kind::content) {
            content_ += d.text;
        } else if (d.kind == ChatDelta::Kind::reasoning) {
            reasoning_ += d.text;
        } else {
            (void)chat_delta(d); // accumulates the tool call
        }
    }
    if (options_.logprobs && !u.tokens.empty()) {
        if (options_.kind == CallOptions::Kind::chat) {
            append_chat_logprobs(chat_logprobs_, u.tokens, options_.top_logprobs,
                                 [this](auto id) { return piece(id); });
        } else {
            text_logprobs_.add(u.tokens, options_.top_logprobs,
                               [this](auto id) { return piece(id); });
        }
    }
}

void CompletionCall::finish_stream(const GenerationUpdate& u) {
    if (u.error) {
        send(error_body(from_error(*u.error)));
    } else if (u.finish != FinishReason::cancelled) {
        const bool chat = options_.kind == CallOptions::Kind::chat;
        send(chunk_json(info_, chat ? Value(Object{}) : Value(""), Value(nullptr),
                        finish_reason_name(u.finish), options_.include_usage));
        if (options_.include_usage) {
            send(usage_chunk_json(info_, u.usage));
        }
        send("[DONE]");
    }
    if (!broken_) {
        stream_->close();
    }
}

void CompletionCall::respond_full(const GenerationUpdate& u) {
    if (u.error) {
        writer_->respond(error_response(from_error(*u.error)));
        return;
    }
    if (u.finish == FinishReason::cancelled) {
        return; // the client went away; nobody is waiting for an answer
    }
    std::string body;
    if (options_.kind == CallOptions::Kind::chat) {
        Value logprobs =
            options_.logprobs ? Value(Object{{"content", chat_logprobs_}}) : Value(nullptr);
        body = chat_response_json(info_, content_, reasoning_, calls_, std::move(logprobs),
                                  finish_reason_name(u.finish), u.usage);
    } else {
        body = text_response_json(info_, content_,
                                  options_.logprobs ? text_logprobs_.value() : Value(nullptr),
                                  finish_reason_name(u.finish), u.usage);
    }
    writer_->respond(http::Response::json(200, std::move(body)));
}

} // namespace

void OpenAiModule::track(const std::shared_ptr<ActiveStream>& stream) {
    std::lock_guard lock(streams_mutex_);
    std::erase_if(streams_, [](const std::weak_ptr<ActiveStream>& w) { return w.expired(); });
    streams_.push_back(stream);
}

void OpenAiModule::abort_streams() {
    std::vector<std::weak_ptr<ActiveStream>> streams;
    {
        std::lock_guard lock(streams_mutex_);
        streams.swap(streams_);
    }
    for (const auto& w : streams) {
        if (auto s = w.lock()) {
            s->abort_for_shutdown();
        }
    }
}

void run_completion(const std::shared_ptr<OpenAiModule>& module, http::ResponseWriterPtr writer,
                    CallOptions options, inference::GenerationRequest request) {
    auto call = std::make_shared<CompletionCall>(module, std::move(writer), std::move(options));
    call->start(std::move(request));
}

} // namespace agentd::gateway::openai
