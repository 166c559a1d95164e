#pragma once
/// The served model: the loaded GGUF model, its engine thread (Scheduler), chat template,
/// tool-call format and grammar vocabulary, plus the preparation of requests that happens
/// before the engine sees them (rendering, tokenizing, grammar compilation with a shared cache).
///
/// Ownership: created once at start-up by the OpenAI route module and kept by the App; owns the
/// Scheduler. Thread affinity: every member is thread-safe; `prepare_*` do CPU work (templates,
/// tokenizers, grammar compilation) and belong on the blocking pool, never on an I/O thread.
/// Errors: load() throws (start-up) when the model cannot be loaded; `prepare_*` return
/// ApiError values.

#include "agentd/inference/chat_template.h"
#include "agentd/inference/grammar.h"
#include "agentd/inference/scheduler.h"
#include "agentd/inference/tool_calls.h"

#include "openai/api_error.h"
#include "openai/chat_request.h"
#include "openai/engine_config.h"

#include <filesystem>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace agentd::gateway::openai {

/// A request ready for the scheduler.
struct PreparedRequest {
    inference::GenerationRequest request;
    inference::ToolCallFormat tool_format = inference::ToolCallFormat::none;
};

class ModelService {
public:
    /// Loads `model_path` and starts its engine thread. Throws std::runtime_error.
    static std::unique_ptr<ModelService>
    load(const std::filesystem::path& model_path, const EngineConfig& config,
         std::shared_ptr<inference::SchedulerObserver> observer);
    ~ModelService();
    ModelService(const ModelService&) = delete;
    ModelService& operator=(const ModelService&) = delete;

    [[nodiscard]] inference::Scheduler& scheduler() const { return *scheduler_; }
    /// For readers that must not keep the scheduler alive (metrics gauges).
    [[nodiscard]] std::weak_ptr<const inference::Scheduler> scheduler_weak() const {
        return scheduler_;
    }
    [[nodiscard]] const inference::Tokenizer& tokenizer() const { return scheduler_->tokenizer(); }
    /// The id clients name the model by (config model_name, else the file stem).
    [[nodiscard]] const std::string& model_id() const noexcept { return model_id_; }
    /// Unix time the model was loaded ("created" in /v1/models).
    [[nodiscard]] std::int64_t created() const noexcept { return created_; }
    [[nodiscard]] const inference::ChatTemplate& chat_template() const noexcept {
        return template_;
    }
    [[nodiscard]] inference::ToolCallFormat tool_format() const noexcept { return tool_format_; }

    /// Renders and tokenizes a chat request and builds its decoder configuration.
    [[nodiscard]] ApiResult<PreparedRequest> prepare_chat(const ChatRequest& request) const;
    /// Tokenizes a text prompt (BOS as the vocabulary asks, special tokens parsed).
    [[nodiscard]] std::vector<inference::TokenId> tokenize(std::string_view text) const;
    /// The prefix-cache namespace of an authenticated tenant: tenant + model, or one per model
    /// with engine.prefix_cache.shared_namespace (never derived from a client field).
    [[nodiscard]] std::string cache_namespace(std::string_view tenant) const;
    /// Fills the parts of a generation request that come from the shared parameters.
    void apply_common(const CommonParams& common, inference::GenerationRequest& out) const;

private:
    struct Built {
        inference::Grammar grammar;
        std::vector<std::string> triggers;
    };
    struct CachedGrammar {
        std::shared_ptr<inference::CompiledGrammar> compiled;
        std::vector<std::string> triggers; ///< lazy activation (tool_choice auto, strict tools)
    };

    ModelService() = default;
    [[nodiscard]] ApiResult<std::shared_ptr<inference::CompiledGrammar>>
    grammar_for(const ChatRequest& request, inference::ToolCallFormat format,
                std::vector<std::string>& triggers) const;
    [[nodiscard]] base::Result<CachedGrammar>
    cached_grammar(const std::string& key, const std::function<base::Result<Built>()>& build) const;

    std::shared_ptr<inference::Scheduler> scheduler_;
    std::string model_id_;
    std::int64_t created_ = 0;
    EngineConfig config_;
    inference::ChatTemplate template_ = inference::ChatTemplate::chatml();
    inference::ToolCallFormat tool_format_ = inference::ToolCallFormat::none;
    bool reasoning_ = false;
    std::string bos_text_;
    std::string eos_text_;
    std::vector<inference::TokenId> eog_tokens_;
    std::shared_ptr<const inference::GrammarVocabulary> vocab_;

    // Compiled grammars by key (schema text, tool set), least recently used first.
    static constexpr std::size_t kGrammarCacheSize = 128;
    mutable std::mutex grammar_mutex_;
    mutable std::list<std::pair<std::string, CachedGrammar>> grammar_lru_;
    mutable std::unordered_map<std::string, decltype(grammar_lru_)::iterator> grammar_index_;
};

} // namespace agentd::gateway::openai
