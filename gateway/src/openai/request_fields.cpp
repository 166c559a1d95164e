#include "openai/request_fields.h"

#include "agentd/inference/value_json.h"

#include <cmath>
#include <limits>

namespace agentd::gateway::openai {

using inference::Value;

ApiResult<Value> parse_body(std::string_view body, const RequestLimits& limits) {
    if (body.empty()) {
        return invalid_request("the request body is empty; send a JSON object");
    }
    inference::JsonParseLimits jl;
    jl.max_bytes = limits.max_body_bytes;
    jl.max_depth = 64;
    auto parsed = inference::parse_json(body, jl);
    if (!parsed) {
        return invalid_request("the request body is not valid JSON: " + parsed.error().what());
    }
    if (!parsed->is_object()) {
        return invalid_request("the request body must be a JSON object");
    }
    return std::move(*parsed);
}

const Value* Fields::get(std::string_view key) const {
    const Value* v = object_.find(key);
    return v == nullptr || v->is_null() ? nullptr : v;
}

std::string Fields::path(std::string_view key) const {
    return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
}

ApiResult<std::optional<std::string>> Fields::string(std::string_view key,
                                                     std::size_t max_bytes) const {
    const Value* v = get(key);
    if (v == nullptr) {
        return std::optional<std::string>();
    }
    if (!v->is_string()) {
        return invalid_request("'" + path(key) + "' must be a string", path(key));
    }
    if (v->as_string().size() > max_bytes) {
        return invalid_request("'" + path(key) + "' is longer than " + std::to_string(max_bytes) +
                                   " bytes",
                               path(key));
    }
    return std::optional<std::string>(v->as_string());
}

ApiResult<std::optional<bool>> Fields::boolean(std::string_view key) const {
    const Value* v = get(key);
    if (v == nullptr) {
        return std::optional<bool>();
    }
    if (!v->is_bool()) {
        return invalid_request("'" + path(key) + "' must be true or false", path(key));
    }
    return std::optional<bool>(v->as_bool());
}

ApiResult<std::optional<double>> Fields::number(std::string_view key, double min,
                                                double max) const {
    const Value* v = get(key);
    if (v == nullptr) {
        return std::optional<double>();
    }
    if (!v->is_number()) {
        return invalid_request("'" + path(key) + "' must be a number", path(key));
    }
    const double d = v->as_double();
    if (!(d >= min && d <= max)) {
        return invalid_request("'" + path(key) + "' must be between " +
                                   inference::python_float_repr(min) + " and " +
                                   inference::python_float_repr(max),
                               path(key));
    }
    return std::optional<double>(d);
}

ApiResult<std::optional<std::int64_t>> Fields::integer(std::string_view key, std::int64_t min,
                                                       std::int64_t max) const {
    const Value* v = get(key);
    if (v == nullptr) {
        return std::optional<std::int64_t>();
    }
    std::int64_t n = 0;
    if (v->is_int()) {
        n = v->as_int();
    } else if (v->is_double() && std::floor(v->as_double()) == v->as_double() &&
               std::fabs(v->as_double()) < 9.0e15) {
        n = static_cast<std::int64_t>(v->as_double()); // 5.0 is accepted as 5, as Python does
    } else {
        return invalid_request("'" + path(key) + "' must be an integer", path(key));
    }
    if (n < min || n > max) {
        return invalid_request("'" + path(key) + "' must be an integer between " +
                                   std::to_string(min) + " and " + std::to_string(max),
                               path(key));
    }
    return std::optional<std::int64_t>(n);
}

namespace {

ApiResult<void> parse_stop(const Fields& body, const RequestLimits& limits, CommonParams& p) {
    const Value* stop = body.get("stop");
    if (stop == nullptr) {
        return {};
    }
    auto add = [&](const Value& s) -> ApiResult<void> {
        if (!s.is_string()) {
            return invalid_request("'stop' must be a string or an array of strings", "stop");
        }
        if (s.as_string().empty() || s.as_string().size() > limits.max_stop_bytes) {
            return invalid_request("each stop string must have 1 to " +
                                       std::to_string(limits.max_stop_bytes) + " bytes",
                                   "stop");
        }
        p.stop.push_back(s.as_string());
        return {};
    };
    if (stop->is_array()) {
        if (stop->as_array().size() > limits.max_stop) {
            return invalid_request(
                "at most " + std::to_string(limits.max_stop) + " stop strings are allowed", "stop");
        }
        for (const auto& s : stop->as_array()) {
            if (auto r = add(s); !r) {
                return r;
            }
        }
        return {};
    }
    return add(*stop);
}

ApiResult<void> parse_logit_bias(const Fields& body, const RequestLimits& limits,
                                 std::int32_t n_vocab, CommonParams& p) {
    const Value* bias = body.get("logit_bias");
    if (bias == nullptr) {
        return {};
    }
    if (!bias->is_object()) {
        return invalid_request("'logit_bias' must map token ids to numbers", "logit_bias");
    }
    if (bias->as_object().size() > limits.max_logit_bias) {
        return invalid_request("'logit_bias' may have at most " +
                                   std::to_string(limits.max_logit_bias) + " entries",
                               "logit_bias");
    }
    for (const auto& [key, value] : bias->as_object()) {
        std::int64_t id = -1;
        bool digits = !key.empty() && key.size() <= 10;
        for (char c : key) {
            digits = digits && c >= '0' && c <= '9';
        }
        if (digits) {
            id = std::stoll(key);
        }
        if (id < 0 || id >= n_vocab) {
            return invalid_request("'logit_bias' key \"" + key + "\" is not a token id below " +
                                       std::to_string(n_vocab),
                                   "logit_bias");
        }
        if (!value.is_number() || !(value.as_double() >= -100.0 && value.as_double() <= 100.0)) {
            return invalid_request("'logit_bias' values must be numbers in [-100, 100]",
                                   "logit_bias");
        }
        p.sampling.logit_bias.emplace_back(static_cast<std::int32_t>(id),
                                           static_cast<float>(value.as_double()));
    }
    return {};
}

} // namespace

ApiResult<CommonParams> parse_common(const Fields& body, const RequestLimits& limits,
                                     std::int32_t n_vocab) {
    CommonParams p;
    AGENTD_OPENAI_TRY(model, body.string("model", 256));
    p.model = model->value_or("");
    AGENTD_OPENAI_TRY(temperature, body.number("temperature", 0.0, 2.0));
    p.sampling.temperature = static_cast<float>(temperature->value_or(1.0));
    AGENTD_OPENAI_TRY(top_p, body.number("top_p", 0.0, 1.0));
    if (top_p->has_value() && **top_p == 0.0) {
        p.sampling.temperature = 0.0f; // top_p 0 keeps only the most likely token
    } else {
        p.sampling.top_p = static_cast<float>(top_p->value_or(1.0));
    }
    AGENTD_OPENAI_TRY(top_k, body.integer("top_k", -1, n_vocab));
    p.sampling.top_k = static_cast<std::int32_t>(std::max<std::int64_t>(0, top_k->value_or(0)));
    AGENTD_OPENAI_TRY(min_p, body.number("min_p", 0.0, 0.999));
    p.sampling.min_p = static_cast<float>(min_p->value_or(0.0));
    AGENTD_OPENAI_TRY(presence, body.number("presence_penalty", -2.0, 2.0));
    p.sampling.presence_penalty = static_cast<float>(presence->value_or(0.0));
    AGENTD_OPENAI_TRY(frequency, body.number("frequency_penalty", -2.0, 2.0));
    p.sampling.frequency_penalty = static_cast<float>(frequency->value_or(0.0));
    AGENTD_OPENAI_TRY(repetition, body.number("repetition_penalty", 0.01, 10.0));
    p.sampling.repetition_penalty = static_cast<float>(repetition->value_or(1.0));
    AGENTD_OPENAI_TRY(seed, body.integer("seed", std::numeric_limits<std::int64_t>::min(),
                                         std::numeric_limits<std::int64_t>::max()));
    p.sampling.seed =
        seed->has_value() ? static_cast<std::uint64_t>(**seed) : inference::random_seed();
    if (auto r = parse_logit_bias(body, limits, n_vocab, p); !r) {
        return r.error();
    }
    AGENTD_OPENAI_TRY(max_completion, body.integer("max_completion_tokens", 1, 1 << 24));
    AGENTD_OPENAI_TRY(max_tokens, body.integer("max_tokens", 1, 1 << 24));
    if (max_completion->has_value()) {
        p.max_tokens = static_cast<std::int32_t>(**max_completion);
    } else if (max_tokens->has_value()) {
        p.max_tokens = static_cast<std::int32_t>(**max_tokens);
    }
    if (auto r = parse_stop(body, limits, p); !r) {
        return r.error();
    }
    AGENTD_OPENAI_TRY(n, body.integer("n", 1, 128));
    if (n->value_or(1) != 1) {
        return invalid_request("only n=1 is supported", "n");
    }
    AGENTD_OPENAI_TRY(stream, body.boolean("stream"));
    p.stream = stream->value_or(false);
    if (const Value* so = body.get("stream_options"); so != nullptr) {
        if (!so->is_object()) {
            return invalid_request("'stream_options' must be an object", "stream_options");
        }
        if (!p.stream) {
            return invalid_request("'stream_options' is only allowed when 'stream' is true",
                                   "stream_options");
        }
        Fields options(*so, "stream_options");
        AGENTD_OPENAI_TRY(usage, options.boolean("include_usage"));
        p.include_usage = usage->value_or(false);
    }
    AGENTD_OPENAI_TRY(ignore_eos, body.boolean("ignore_eos"));
    p.ignore_eos = ignore_eos->value_or(false);
    AGENTD_OPENAI_TRY(priority, body.integer("priority", -1000, 1000));
    p.priority = static_cast<int>(priority->value_or(0));
    return p;
}

} // namespace agentd::gateway::openai
