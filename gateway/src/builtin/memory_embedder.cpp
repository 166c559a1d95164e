// Embedding texts with the served model for the memory service: every text becomes one
// embedding request of the scheduler; the batch answers on the blocking pool once all are in.
#include "builtin/memory_embedder.h"

#include "openai/openai_module.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <algorithm>
#include <mutex>

namespace agentd::gateway::builtin {
namespace {

class EmbedBatch : public std::enable_shared_from_this<EmbedBatch> {
public:
    EmbedBatch(std::size_t n, boost::asio::thread_pool& blocking, EmbedDone done)
        : results_(n), left_(n), blocking_(blocking), done_(std::move(done)) {}

    void on_update(std::size_t i, inference::GenerationUpdate&& u) {
        if (!u.error && u.finish == inference::FinishReason::none && u.embedding.empty()) {
            return; // not the final update
        }
        bool last = false;
        {
            std::lock_guard lock(mutex_);
            if (u.error) {
                error_ = u.error->what();
            } else if (u.embedding.empty()) {
                error_ = "the engine returned no embedding";
            } else {
                results_[i] = std::move(u.embedding);
            }
            last = --left_ == 0;
        }
        if (last) {
            boost::asio::post(blocking_, [self = shared_from_this()] { self->finish(); });
        }
    }

    void fail_rest(std::size_t not_submitted, const std::string& why) {
        bool last = false;
        {
            std::lock_guard lock(mutex_);
            error_ = why;
            left_ -= not_submitted;
            last = left_ == 0;
        }
        if (last) {
            finish();
        }
    }

private:
    void finish() {
        if (!error_.empty()) {
            done_({}, error_);
            return;
        }
        done_(std::move(results_), {});
    }

    std::mutex mutex_;
    std::vector<std::vector<float>> results_;
    std::size_t left_;
    std::string error_;
    boost::asio::thread_pool& blocking_;
    EmbedDone done_;
};

} // namespace

void embed_texts(const openai::OpenAiModule& module, boost::asio::thread_pool& blocking,
                 const std::vector<std::string>& texts, EmbedDone done) {
    if (!module.model || texts.empty()) {
        done({}, module.model ? std::string() : std::string("no model is loaded"));
        return;
    }
    auto& scheduler = module.model->scheduler();
    const auto max_tokens = static_cast<std::size_t>(std::max(1, scheduler.max_sequence_tokens()));
    auto batch = std::make_shared<EmbedBatch>(texts.size(), blocking, std::move(done));
    for (std::size_t i = 0; i < texts.size(); ++i) {
        inference::EmbeddingRequest r;
        r.tokens = module.model->tokenize(texts[i]);
        if (r.tokens.size() > max_tokens) {
            r.tokens.resize(max_tokens); // long texts are embedded by their beginning
        }
        auto id = scheduler.submit(std::move(r), [batch, i](inference::GenerationUpdate&& u) {
            batch->on_update(i, std::move(u));
        });
        if (!id) {
            batch->fail_rest(texts.size() - i, "embedding failed: " + id.error().what());
            return;
        }
    }
}

} // namespace agentd::gateway::builtin
