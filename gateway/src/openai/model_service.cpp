#include "openai/model_service.h"

#include "agentd/inference/gguf.h"
#include "agentd/inference/model.h"
#include "agentd/inference/value_json.h"

#include "log/logging.h"
#include "openai/chat_prompt.h"

#include <chrono>
#include <stdexcept>

namespace agentd::gateway::openai {

using inference::Value;

namespace {

/// Whitespace allowed between JSON tokens of constrained output: enough for the usual
/// `{"a": 1}` layout, too little for a model to wander in blank space until max_tokens.
constexpr int kMaxWhitespace = 1;

inference::EngineOptions engine_options(const EngineConfig& config,
                                        const inference::ModelInfo& info) {
    inference::EngineOptions eo;
    eo.n_threads = config.threads;
    eo.n_ctx = config.context;
    eo.kv_type = config.kv_type == "f16" ? inference::TensorType::f16 : inference::TensorType::f32;
    eo.max_batch_tokens = std::max(512, config.token_budget);
    if (config.kv_memory_mb > 0) {
        const std::uint64_t per_token = 2ULL * static_cast<std::uint64_t>(info.n_layer) *
                                        static_cast<std::uint64_t>(info.n_head_kv) *
                                        static_cast<std::uint64_t>(info.head_dim) *
                                        (config.kv_type == "f16" ? 2 : 4);
        const std::uint64_t tokens =
            (config.kv_memory_mb << 20) / std::max<std::uint64_t>(1, per_token);
        if (tokens < static_cast<std::uint64_t>(eo.kv_block_size)) {
            throw std::runtime_error("engine.kv_memory_mb: " + std::to_string(config.kv_memory_mb) +
                                     " MiB holds fewer than one KV block of this model (" +
                                     std::to_string(per_token) + " bytes per token)");
        }
        eo.kv_tokens = static_cast<std::int64_t>(std::min<std::uint64_t>(tokens, 1ULL << 26));
    }
    return eo;
}

} // namespace

std::unique_ptr<ModelService>
ModelService::load(const std::filesystem::path& model_path, const EngineConfig& config,
                   std::shared_ptr<inference::SchedulerObserver> observer) {
    auto model = inference::Model::load(model_path);
    if (!model) {
        throw std::runtime_error("loading model " + model_path.string() + ": " +
                                 model.error().what());
    }
    const inference::ModelInfo& info = (*model)->info();
    auto engine = inference::Engine::create(*model, engine_options(config, info));
    if (!engine) {
        throw std::runtime_error("starting the engine for " + model_path.string() + ": " +
                                 engine.error().what());
    }
    std::unique_ptr<ModelService> svc(new ModelService());
    svc->config_ = config;
    const std::string backend = (*engine)->backend_description();
    inference::SchedulerOptions so;
    so.max_sequences = config.max_sequences;
    so.max_waiting = config.max_waiting;
    so.token_budget = config.token_budget;
    std::unique_ptr<inference::PrefixCache> cache;
    if (config.prefix_cache.enabled) {
        inference::PrefixCacheOptions po;
        po.max_pinned_blocks = config.prefix_cache.max_pinned_blocks;
        po.pin_ttl_ms = config.prefix_cache.pin_ttl_ms;
        cache = inference::make_radix_prefix_cache(po);
    }
    auto scheduler =
        inference::Scheduler::create(std::move(*engine), so, std::move(observer), std::move(cache));
    if (!scheduler) {
        throw std::runtime_error("engine: " + scheduler.error().what());
    }
    svc->scheduler_ = std::move(*scheduler);
    svc->model_id_ = config.model_name.empty() ? model_path.stem().string() : config.model_name;
    svc->created_ = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();

    const auto& tok = svc->scheduler_->tokenizer();
    auto source = (*model)->gguf().get_optional<std::string_view>("tokenizer.chat_template");
    if (source && source->has_value()) {
        auto parsed = inference::ChatTemplate::parse(**source);
        if (parsed) {
            svc->template_ = std::move(*parsed);
        } else {
            log::log_event(log::Level::warn,
                           "the model's chat template cannot be used; using ChatML",
                           {{"error", parsed.error().what()}});
        }
    }
    svc->tool_format_ = inference::detect_tool_call_format(svc->template_.source());
    svc->reasoning_ = inference::detect_reasoning(svc->template_.source());
    if (tok.bos() != inference::kNoToken) {
        svc->bos_text_ = std::string(tok.token_text(tok.bos()));
    }
    if (tok.eos() != inference::kNoToken) {
        svc->eos_text_ = std::string(tok.token_text(tok.eos()));
    }
    for (std::uint32_t id = 0; id < tok.vocab_size(); ++id) {
        if (tok.is_eog(static_cast<inference::TokenId>(id))) {
            svc->eog_tokens_.push_back(static_cast<inference::TokenId>(id));
        }
    }
    svc->vocab_ = inference::GrammarVocabulary::from_tokenizer(tok);
    log::log_event(
        log::Level::info, "model loaded",
        {{"model", svc->model_id_},
         {"architecture", info.architecture},
         {"parameters", static_cast<long long>(info.n_params)},
         {"context", svc->scheduler_->n_ctx()},
         {"max_sequence_tokens", svc->scheduler_->max_sequence_tokens()},
         {"backend", backend},
         {"prefix_cache", config.prefix_cache.enabled
                              ? (config.prefix_cache.shared_namespace ? "shared" : "per-tenant")
                              : "off"},
         {"tool_call_format", inference::format_name(svc->tool_format_)}});
    return svc;
}

std::string ModelService::cache_namespace(std::string_view tenant) const {
    // Length-prefixed, so no two (tenant, model) pairs spell one namespace; the shared one
    // ("*") cannot collide with a length prefix.
    std::string ns = config_.prefix_cache.shared_namespace
                         ? std::string("*")
                         : std::to_string(tenant.size()) + ':' + std::string(tenant);
    ns.push_back('/');
    ns += model_id_;
    return ns;
}

ModelService::~ModelService() {
    if (scheduler_) {
        scheduler_->shutdown();
    }
}

std::vector<inference::TokenId> ModelService::tokenize(std::string_view text) const {
    return tokenizer().tokenize(text, {.add_special = true, .parse_special = true});
}

void ModelService::apply_common(const CommonParams& common,
                                inference::GenerationRequest& out) const {
    out.decoder.sampling = common.sampling;
    out.decoder.max_tokens = common.max_tokens > 0            ? common.max_tokens
                             : config_.default_max_tokens > 0 ? config_.default_max_tokens
                                                              : -1;
    out.decoder.stop = common.stop;
    out.priority = common.priority;
    out.ignore_eos = common.ignore_eos;
    if (common.ignore_eos) {
        // Not sampled at all, unless a grammar allows nothing else.
        for (auto id : eog_tokens_) {
            out.decoder.sampling.logit_bias.emplace_back(id, -100.0f);
        }
    }
}

ApiResult<PreparedRequest> ModelService::prepare_chat(const ChatRequest& req) const {
    const bool use_tools = req.tool_mode != ChatRequest::ToolMode::none;
    inference::ChatRenderInputs in;
    in.messages = shape_messages(req.messages, template_.caps());
    in.tools = use_tools ? req.tools : Value(nullptr);
    in.add_generation_prompt = true;
    in.bos_token = bos_text_;
    in.eos_token = eos_text_;
    in.extra = req.template_kwargs;
    auto text = template_.render(in);
    if (!text) {
        return invalid_request("the model's chat template cannot render these messages: " +
                                   text.error().what(),
                               "messages");
    }
    const auto& tok = tokenizer();
    std::vector<inference::TokenId> prompt =
        tok.tokenize(*text, {.add_special = false, .parse_special = true});
    if (tok.add_bos() && tok.bos() != inference::kNoToken &&
        (prompt.empty() || prompt.front() != tok.bos())) {
        prompt.insert(prompt.begin(), tok.bos()); // templates without {{ bos_token }}
    }
    PreparedRequest p;
    p.request.prompt = std::move(prompt);
    apply_common(req.common, p.request);
    if (use_tools) {
        p.tool_format = tool_format_ == inference::ToolCallFormat::none
                            ? inference::ToolCallFormat::hermes
                            : tool_format_;
    }
    inference::ToolCallParserOptions parser;
    parser.format = p.tool_format;
    parser.reasoning = reasoning_;
    parser.starts_in_reasoning = reasoning_ && inference::prompt_opens_reasoning(*text);
    p.request.decoder.parser = parser;
    std::vector<std::string> triggers;
    AGENTD_OPENAI_TRY(grammar, grammar_for(req, p.tool_format, triggers));
    p.request.decoder.grammar = std::move(*grammar);
    p.request.decoder.grammar_triggers = std::move(triggers);
    p.request.render_special = p.tool_format != inference::ToolCallFormat::none || reasoning_;
    return p;
}

ApiResult<std::shared_ptr<inference::CompiledGrammar>>
ModelService::grammar_for(const ChatRequest& req, inference::ToolCallFormat format,
                          std::vector<std::string>& triggers) const {
    using Mode = ChatRequest::ToolMode;
    const bool forced = req.tool_mode == Mode::required || req.tool_mode == Mode::named;
    if (forced || (req.tool_mode == Mode::automatic && req.strict_tools)) {
        inference::ToolChoice choice;
        choice.kind = req.tool_mode == Mode::named      ? inference::ToolChoice::Kind::named
                      : req.tool_mode == Mode::required ? inference::ToolChoice::Kind::required
                                                        : inference::ToolChoice::Kind::automatic;
        choice.name = req.tool_name;
        inference::ToolGrammarOptions options;
        options.parallel_calls = req.parallel_tool_calls;
        options.allow_reasoning = reasoning_;
        options.schema.max_whitespace = kMaxWhitespace;
        const std::string key = std::string("tools\x1f") + inference::format_name(format) + "\x1f" +
                                std::to_string(static_cast<int>(choice.kind)) + "\x1f" +
                                choice.name + "\x1f" + (options.parallel_calls ? "p" : "s") +
                                "\x1f" + inference::to_json(req.tools);
        auto entry = cached_grammar(key, [&]() -> base::Result<Built> {
            auto g = inference::tool_call_grammar(format, req.tools, choice, options);
            if (!g) {
                return g.error();
            }
            return Built{std::move(g->grammar), std::move(g->triggers)};
        });
        if (!entry) {
            return invalid_request(
                "the tools cannot be turned into a grammar: " + entry.error().message, "tools");
        }
        if (!forced) {
            triggers = entry->triggers;
        }
        return entry->compiled;
    }
    if (req.format == ChatRequest::Format::json_schema) {
        inference::JsonSchemaOptions options;
        options.strict = req.schema_strict;
        options.max_whitespace = kMaxWhitespace;
        const std::string key = std::string("schema\x1f") + (options.strict ? "s" : "l") + "\x1f" +
                                inference::to_json(req.schema);
        auto entry = cached_grammar(key, [&]() -> base::Result<Built> {
            auto g = inference::Grammar::from_json_schema(req.schema, options);
            if (!g) {
                return g.error();
            }
            return Built{std::move(*g), {}};
        });
        if (!entry) {
            return invalid_request("unsupported JSON schema: " + entry.error().message,
                                   "response_format.json_schema.schema");
        }
        return entry->compiled;
    }
    if (req.format == ChatRequest::Format::json_object) {
        auto entry = cached_grammar("json_object", []() -> base::Result<Built> {
            inference::JsonSchemaOptions options;
            options.max_whitespace = kMaxWhitespace;
            return Built{inference::Grammar::any_json(true, options), {}};
        });
        if (!entry) {
            return invalid_request(entry.error().message, "response_format");
        }
        return entry->compiled;
    }
    return std::shared_ptr<inference::CompiledGrammar>();
}

base::Result<ModelService::CachedGrammar>
ModelService::cached_grammar(const std::string& key,
                             const std::function<base::Result<Built>()>& build) const {
    {
        std::lock_guard lock(grammar_mutex_);
        auto it = grammar_index_.find(key);
        if (it != grammar_index_.end()) {
            grammar_lru_.splice(grammar_lru_.end(), grammar_lru_, it->second);
            return it->second->second;
        }
    }
    // Compiled outside the lock: concurrent first uses of one grammar may both compile it.
    auto built = build();
    if (!built) {
        return built.error();
    }
    auto compiled = inference::CompiledGrammar::create(built->grammar, vocab_);
    if (!compiled) {
        return compiled.error();
    }
    CachedGrammar entry{std::move(*compiled), std::move(built->triggers)};
    std::lock_guard lock(grammar_mutex_);
    if (grammar_index_.count(key) == 0) {
        grammar_lru_.emplace_back(key, entry);
        grammar_index_[key] = std::prev(grammar_lru_.end());
        if (grammar_lru_.size() > kGrammarCacheSize) {
            grammar_index_.erase(grammar_lru_.front().first);
            grammar_lru_.pop_front();
        }
    }
    return entry;
}

} // namespace agentd::gateway::openai
