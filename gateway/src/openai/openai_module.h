#pragma once
/// What the OpenAI-compatible routes share: the served model (or none), the executors, limits
/// and the shutdown flag. Created by register_openai_routes (openai_routes.cpp) and kept alive
/// by the App; handlers and in-flight calls hold it by shared_ptr.
///
/// Thread affinity: immutable after registration except `stopping`, an atomic. Errors: none.

#include "http/handler.h"
#include "openai/model_service.h"
#include "openai/request_fields.h"

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace boost::asio {
class io_context;
class thread_pool;
} // namespace boost::asio

namespace agentd::gateway::openai {

/// An SSE response in progress that must end cleanly when the server shuts down (the HTTP
/// server closes open streams when it begins to drain).
class ActiveStream {
public:
    virtual ~ActiveStream() = default;
    /// Sends a final error event, closes the stream and cancels the work. Thread-safe.
    virtual void abort_for_shutdown() = 0;
};

struct OpenAiModule {
    std::unique_ptr<ModelService> model; ///< null without --model
    boost::asio::io_context* io = nullptr;
    boost::asio::thread_pool* blocking = nullptr;
    RequestLimits limits;
    /// Set when the App shuts down: results are no longer posted to connections.
    std::atomic<bool> stopping{false};

    /// Streams in progress (weak: a finished call just expires).
    void track(const std::shared_ptr<ActiveStream>& stream);
    /// Ends every tracked stream (graceful shutdown).
    void abort_streams();

    /// Chat requests whose `model` names an agent (set at start-up by the agent runtime,
    /// gateway/src/runtime/faces.h): answers them and returns true. Runs on the blocking pool.
    std::function<bool(const http::Request&, const http::ResponseWriterPtr&)> agent_chat;

private:
    std::mutex streams_mutex_;
    std::vector<std::weak_ptr<ActiveStream>> streams_;
};

/// How a completion is answered.
struct CallOptions {
    enum class Kind : std::uint8_t { chat, text };
    Kind kind = Kind::chat;
    bool stream = false;
    bool include_usage = false;
    bool logprobs = false; ///< report log-probabilities
    int top_logprobs = 0;  ///< alternatives per token
    std::string model;     ///< echoed in every response
    inference::ToolCallFormat tool_format = inference::ToolCallFormat::none;
    bool special_pieces = false; ///< logprob token texts include control tokens
};

/// Submits `request` to the scheduler and answers `writer` with the result: one JSON response,
/// or an SSE stream of chunks ending in `data: [DONE]`. A client that disconnects cancels the
/// request. Thread-safe; returns at once.
void run_completion(const std::shared_ptr<OpenAiModule>& module, http::ResponseWriterPtr writer,
                    CallOptions options, inference::GenerationRequest request);

} // namespace agentd::gateway::openai
