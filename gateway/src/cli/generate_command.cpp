// agentd generate --model FILE.gguf --prompt TEXT [-n N] [--temp T] [--seed S] [--top-k K]
//                 [--top-p P] [--threads N] [--ctx N] [--kv-type f32|f16] [--device D] [--json]
//                 [--verbose]
//
// Completes TEXT with the model (CONTRACT.md). Without --json the completion is streamed to
// stdout as it is generated (never half a UTF-8 character); with --json one object is printed at
// the end: {"prompt_tokens": [...], "tokens": [...], "text": "...", "finish_reason": "..."}.
// Greedy at --temp 0 (the default). Generation stops at an end-of-generation token or after N.

#include "agentd/inference/backend_info.h"
#include "agentd/inference/engine.h"
#include "agentd/inference/generate.h"
#include "agentd/inference/model.h"
#include "agentd/inference/tokenizer.h"

#include "cli/commands.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>

namespace agentd::gateway::cli {
namespace {

constexpr const char* kUsage =
    "usage: agentd generate --model FILE.gguf --prompt TEXT [-n N] [--temp T] [--seed S]\n"
    "                       [--top-k K] [--top-p P] [--threads N] [--ctx N]\n"
    "                       [--kv-type f32|f16] [--device auto|cpu|cuda:N] [--json]\n"
    "                       [--verbose]\n"
    "Completes TEXT with the model; greedy at --temp 0 (the default).\n"
    "  -n N           tokens to generate at most (default 32)\n"
    "  --json         print {\"prompt_tokens\", \"tokens\", \"text\", \"finish_reason\"}\n"
    "  --threads N    compute threads (default: one per core)\n"
    "  --ctx N        context length (default: the model's)\n"
    "  --device D     auto (a GPU when there is one), cpu, cuda or cuda:N (default cpu)\n"
    "  --verbose      timing on stderr\n";

struct Options {
    std::string model;
    std::optional<std::string> prompt;
    inference::GenerateOptions gen;
    inference::EngineOptions engine;
    bool json = false;
    bool verbose = false;
};

template <class T>
T parse_number(const std::string& flag, const std::string& s) {
    T v{};
    const char* end = s.data() + s.size();
    auto [p, ec] = std::from_chars(s.data(), end, v);
    if (ec != std::errc() || p != end) {
        throw std::invalid_argument("agentd generate: " + flag + " needs a number, got '" + s +
                                    "'");
    }
    return v;
}

Options parse(const Args& args) {
    Options o;
    o.gen.max_tokens = 32;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&]() -> const std::string& {
            if (i + 1 >= args.size()) {
                throw std::invalid_argument("agentd generate: " + a + " needs a value");
            }
            return args[++i];
        };
        if (a == "--help" || a == "-h") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        } else if (a == "--model" || a == "-m") {
            o.model = value();
        } else if (a == "--prompt" || a == "-p") {
            o.prompt = value();
        } else if (a == "-n" || a == "--n-predict" || a == "--max-tokens") {
            o.gen.max_tokens = parse_number<std::int32_t>(a, value());
        } else if (a == "--temp" || a == "--temperature") {
            o.gen.sampling.temperature = parse_number<float>(a, value());
        } else if (a == "--seed") {
            o.gen.sampling.seed = parse_number<std::uint64_t>(a, value());
        } else if (a == "--top-k") {
            o.gen.sampling.top_k = parse_number<int>(a, value());
        } else if (a == "--top-p") {
            o.gen.sampling.top_p = parse_number<float>(a, value());
        } else if (a == "--threads" || a == "-t") {
            o.engine.n_threads = parse_number<int>(a, value());
        } else if (a == "--ctx" || a == "-c") {
            o.engine.n_ctx = parse_number<std::int32_t>(a, value());
        } else if (a == "--kv-type") {
            const auto t = inference::tensor_type_from_name(value());
            if (!t || (*t != inference::TensorType::f32 && *t != inference::TensorType::f16)) {
                throw std::invalid_argument("agentd generate: --kv-type is f32 or f16");
            }
            o.engine.kv_type = *t;
        } else if (a == "--device") {
            const auto d = inference::parse_device(value());
            if (!d) {
                throw std::invalid_argument(
                    "agentd generate: --device is auto, cpu, cuda or cuda:N");
            }
            o.engine.backend = d->kind;
            o.engine.device = d->device;
        } else if (a == "--json") {
            o.json = true;
        } else if (a == "--verbose" || a == "-v") {
            o.verbose = true;
        } else {
            throw std::invalid_argument("agentd generate: unexpected argument '" + a + "'");
        }
    }
    if (o.model.empty() || !o.prompt) {
        throw std::invalid_argument("agentd generate: --model and --prompt are required");
    }
    if (o.gen.max_tokens < 0 || o.engine.n_threads < 0 || o.engine.n_ctx < 0 ||
        o.gen.sampling.temperature < 0.0f) {
        throw std::invalid_argument(
            "agentd generate: -n, --threads, --ctx and --temp must not be negative");
    }
    return o;
}

const char* finish_name(inference::FinishReason r) {
    switch (r) {
    case inference::FinishReason::length:
        return "length";
    case inference::FinishReason::eog:
        return "stop";
    case inference::FinishReason::stopped:
        return "stopped";
    case inference::FinishReason::context:
        return "context";
    }
    return "unknown";
}

} // namespace

int generate_command(const Args& args) {
    Options o;
    try {
        o = parse(args);
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "%s\n%s", e.what(), kUsage);
        return 2;
    }
    // Model loading and engine creation are control plane: errors reach run_cli as exceptions.
    auto model = inference::Model::load(o.model).value();
    auto engine = inference::Engine::create(model, o.engine).value();
    const inference::Tokenizer& tok = engine->tokenizer();
    const auto prompt = tok.tokenize(*o.prompt);

    inference::StreamDecoder decoder(tok);
    std::string text;
    auto on_token = [&](inference::TokenId id) {
        std::string piece = decoder.push(id);
        if (!o.json) {
            std::fwrite(piece.data(), 1, piece.size(), stdout);
            std::fflush(stdout);
        }
        text += piece;
        return true;
    };
    const auto result = inference::generate(*engine, prompt, o.gen, on_token).value();
    const std::string rest = decoder.flush();
    text += rest;

    if (o.json) {
        nlohmann::json j;
        j["prompt_tokens"] = prompt;
        j["tokens"] = result.tokens;
        j["text"] = text;
        j["finish_reason"] = finish_name(result.finish);
        const std::string out = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        std::printf("%s\n", out.c_str());
    } else {
        std::fwrite(rest.data(), 1, rest.size(), stdout);
        std::fputc('\n', stdout);
    }
    if (o.verbose) {
        const double n = static_cast<double>(result.tokens.size());
        std::fprintf(stderr,
                     "agentd generate: %s, %zu prompt tokens in %.3f s (%.1f tok/s), %zu tokens in "
                     "%.3f s (%.1f tok/s)\n",
                     engine->backend_description().c_str(), prompt.size(), result.prefill_seconds,
                     static_cast<double>(prompt.size()) / std::max(result.prefill_seconds, 1e-9),
                     result.tokens.size(), result.decode_seconds,
                     n > 1 ? (n - 1) / std::max(result.decode_seconds, 1e-9) : 0.0);
    }
    return 0;
}

} // namespace agentd::gateway::cli
