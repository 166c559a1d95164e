#pragma once
/// Embeds texts with the served model (mean-pooled, normalised final hidden states, as
/// /v1/embeddings computes them) for the memory service.
///
/// Threads: call from the blocking pool (tokenizing is CPU work); `done` runs once, on the
/// blocking pool. Errors: `done` gets no vectors and a message when no model is loaded or the
/// engine refused or failed a request.

#include <functional>
#include <string>
#include <vector>

namespace boost::asio {
class thread_pool;
}

namespace agentd::gateway::openai {
struct OpenAiModule;
}

namespace agentd::gateway::builtin {

/// One vector per text, in order; or none and the reason.
using EmbedDone = std::function<void(std::vector<std::vector<float>> vectors, std::string error)>;

void embed_texts(const openai::OpenAiModule& module, boost::asio::thread_pool& blocking,
                 const std::vector<std::string>& texts, EmbedDone done);

} // namespace agentd::gateway::builtin
