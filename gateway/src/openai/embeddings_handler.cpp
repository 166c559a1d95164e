// POST /v1/embeddings: every input becomes one embedding request of the scheduler (mean-pooled,
// L2-normalised final hidden states); the answer is assembled on the blocking pool once all
// inputs are done.
#include "agentd/inference/value_json.h"

#include "openai/handlers.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <cstring>
#include <mutex>

namespace agentd::gateway::openai {
namespace net = boost::asio;

using inference::Array;
using inference::Object;
using inference::Value;

namespace {

std::string base64(const std::vector<float>& v) {
    static constexpr char kTable[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string bytes(v.size() * sizeof(float), '\0');
    std::memcpy(bytes.data(), v.data(), bytes.size()); // little-endian float32, as OpenAI's
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        const auto b0 = static_cast<unsigned char>(bytes[i]);
        const auto b1 = i + 1 < bytes.size() ? static_cast<unsigned char>(bytes[i + 1]) : 0u;
        const auto b2 = i + 2 < bytes.size() ? static_cast<unsigned char>(bytes[i + 2]) : 0u;
        const unsigned n = (b0 << 16) | (b1 << 8) | b2;
        out.push_back(kTable[(n >> 18) & 63]);
        out.push_back(kTable[(n >> 12) & 63]);
        out.push_back(i + 1 < bytes.size() ? kTable[(n >> 6) & 63] : '=');
        out.push_back(i + 2 < bytes.size() ? kTable[n & 63] : '=');
    }
    return out;
}

/// The inputs of one request and their results; the last result to arrive answers.
class EmbeddingsCall : public std::enable_shared_from_this<EmbeddingsCall> {
public:
    EmbeddingsCall(std::shared_ptr<OpenAiModule> module, http::ResponseWriterPtr writer,
                   std::size_t n, bool base64_output)
        : module_(std::move(module)), writer_(std::move(writer)), results_(n),
          base64_(base64_output) {}

    void start(std::vector<std::vector<inference::TokenId>> inputs) {
        auto& scheduler = module_->model->scheduler();
        std::weak_ptr<EmbeddingsCall> weak = shared_from_this();
        writer_->on_client_gone([weak] {
            if (auto call = weak.lock()) {
                call->cancel_all();
            }
        });
        for (std::size_t i = 0; i < inputs.size(); ++i) {
            inference::EmbeddingRequest r;
            r.tokens = std::move(inputs[i]);
            auto self = shared_from_this();
            auto id = scheduler.submit(std::move(r), [self, i](inference::GenerationUpdate&& u) {
                self->on_result(i, std::move(u));
            });
            if (!id) {
                fail(from_error(id.error()));
                return;
            }
            std::lock_guard lock(mutex_);
            ids_.push_back(*id);
        }
    }

private:
    void cancel_all() {
        std::vector<inference::RequestId> ids;
        {
            std::lock_guard lock(mutex_);
            ids = ids_;
        }
        for (auto id : ids) {
            module_->model->scheduler().cancel(id);
        }
    }

    void fail(const ApiError& e) {
        {
            std::lock_guard lock(mutex_);
            if (answered_) {
                return;
            }
            answered_ = true;
        }
        writer_->respond(error_response(e));
        cancel_all();
    }

    // Engine thread: store, and hand the assembly to the blocking pool when all are in.
    void on_result(std::size_t i, inference::GenerationUpdate&& u) {
        if (u.error) {
            fail(from_error(*u.error));
            return;
        }
        if (u.finish == inference::FinishReason::cancelled) {
            std::lock_guard lock(mutex_);
            answered_ = true; // the client went away
            return;
        }
        bool complete = false;
        {
            std::lock_guard lock(mutex_);
            results_[i] = std::move(u.embedding);
            prompt_tokens_ += u.usage.prompt_tokens;
            complete = ++done_ == results_.size() && !answered_;
            answered_ = answered_ || complete;
        }
        if (complete && !module_->stopping.load()) {
            net::post(*module_->blocking, [self = shared_from_this()] { self->respond(); });
        }
    }

    void respond() {
        Array data;
        for (std::size_t i = 0; i < results_.size(); ++i) {
            Value embedding;
            if (base64_) {
                embedding = Value(base64(results_[i]));
            } else {
                Array values;
                values.reserve(results_[i].size());
                for (float f : results_[i]) {
                    values.emplace_back(static_cast<double>(f));
                }
                embedding = Value(std::move(values));
            }
            data.push_back(Value(Object{{"object", "embedding"},
                                        {"index", static_cast<long long>(i)},
                                        {"embedding", std::move(embedding)}}));
        }
        const Value body(Object{{"object", "list"},
                                {"data", std::move(data)},
                                {"model", module_->model->model_id()},
                                {"usage", Object{{"prompt_tokens", prompt_tokens_},
                                                 {"total_tokens", prompt_tokens_}}}});
        writer_->respond(http::Response::json(200, inference::to_json(body)));
    }

    std::shared_ptr<OpenAiModule> module_;
    http::ResponseWriterPtr writer_;
    std::mutex mutex_;
    std::vector<std::vector<float>> results_;
    std::vector<inference::RequestId> ids_;
    std::size_t done_ = 0;
    long long prompt_tokens_ = 0;
    bool answered_ = false;
    bool base64_;
};

ApiResult<std::vector<std::vector<inference::TokenId>>>
embedding_inputs(const ModelService& svc, const Fields& body, const RequestLimits& limits) {
    const Value* input = body.get("input");
    if (input == nullptr) {
        return invalid_request("'input' is required", "input");
    }
    const auto n_vocab = svc.scheduler().model_info().n_vocab;
    const auto ids_of = [&](const Value& v) -> ApiResult<std::vector<inference::TokenId>> {
        if (v.is_string()) {
            if (v.as_string().empty()) {
                return invalid_request("'input' must not contain empty strings", "input");
            }
            return svc.tokenize(v.as_string());
        }
        if (v.is_array() && !v.as_array().empty()) {
            std::vector<inference::TokenId> ids;
            for (const auto& t : v.as_array()) {
                if (!t.is_int() || t.as_int() < 0 || t.as_int() >= n_vocab) {
                    return invalid_request("'input' token ids must be integers below " +
                                               std::to_string(n_vocab),
                                           "input");
                }
                ids.push_back(static_cast<inference::TokenId>(t.as_int()));
            }
            return ids;
        }
        return invalid_request("'input' must be a string, an array of strings, or token ids",
                               "input");
    };
    std::vector<std::vector<inference::TokenId>> out;
    const bool many = input->is_array() && !input->as_array().empty() &&
                      (input->as_array()[0].is_string() || input->as_array()[0].is_array());
    if (!many) {
        AGENTD_OPENAI_TRY(ids, ids_of(*input));
        out.push_back(std::move(*ids));
        return out;
    }
    if (input->as_array().size() > limits.max_embedding_inputs) {
        return invalid_request("at most " + std::to_string(limits.max_embedding_inputs) +
                                   " inputs per request",
                               "input");
    }
    for (const auto& v : input->as_array()) {
        AGENTD_OPENAI_TRY(ids, ids_of(v));
        out.push_back(std::move(*ids));
    }
    return out;
}

} // namespace

void handle_embeddings(const std::shared_ptr<OpenAiModule>& module, const http::Request& request,
                       const http::ResponseWriterPtr& writer) {
    const ModelService& svc = *module->model;
    auto answer = [&]() -> ApiResult<void> {
        AGENTD_OPENAI_TRY(body, parse_body(request.body, module->limits));
        Fields f(*body);
        AGENTD_OPENAI_TRY(model, f.string("model", 256));
        if (auto ok = check_model(svc, model->value_or("")); !ok) {
            return ok.error();
        }
        AGENTD_OPENAI_TRY(format, f.string("encoding_format", 16));
        const std::string encoding = format->value_or("float");
        if (encoding != "float" && encoding != "base64") {
            return invalid_request("'encoding_format' must be float or base64", "encoding_format");
        }
        const auto n_embd = svc.scheduler().model_info().n_embd;
        AGENTD_OPENAI_TRY(dimensions, f.integer("dimensions", 1, 1 << 20));
        if (dimensions->has_value() && **dimensions != n_embd) {
            return invalid_request("this model's embeddings have " + std::to_string(n_embd) +
                                       " dimensions; others are not supported",
                                   "dimensions");
        }
        AGENTD_OPENAI_TRY(inputs, embedding_inputs(svc, f, module->limits));
        auto call =
            std::make_shared<EmbeddingsCall>(module, writer, inputs->size(), encoding == "base64");
        call->start(std::move(*inputs));
        return {};
    }();
    if (!answer) {
        writer->respond(error_response(answer.error()));
    }
}

} // namespace agentd::gateway::openai
