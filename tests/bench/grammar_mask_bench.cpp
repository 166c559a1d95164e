// Micro-benchmark: grammar token-mask cost per generated token and sampler cost per token on real
// vocabularies (../shared/models/vocab). A program, not a test: prints a table.
//
//   grammar_mask_bench [shared-dir]
//
// For each vocabulary it builds the token trie, then drives JSON-constrained "generations"
// (a tool-call-like object schema, and any JSON) by following the mask with a seeded random
// choice, timing fill_next_token_bitmask + accept_token per token. Cold = the first generation
// (mask cache being filled), warm = later ones. CPU time of this thread is reported, which is
// still inflated on a loaded machine.

#include "agentd/inference/gguf.h"
#include "agentd/inference/grammar.h"
#include "agentd/inference/sampling.h"
#include "agentd/inference/tokenizer.h"
#include "agentd/inference/value_json.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace agentd::inference;

namespace {

double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Stats {
    std::vector<double> us;
    void add(double v) { us.push_back(v); }
    double pct(double p) {
        if (us.empty()) {
            return 0;
        }
        std::sort(us.begin(), us.end());
        return us[std::min(us.size() - 1,
                           static_cast<std::size_t>(p * static_cast<double>(us.size())))];
    }
    double mean() const {
        double s = 0;
        for (double v : us) {
            s += v;
        }
        return us.empty() ? 0 : s / static_cast<double>(us.size());
    }
};

std::shared_ptr<const GrammarVocabulary> load_vocab(const std::filesystem::path& path) {
    auto file = GgufFile::open(path);
    if (!file) {
        std::fprintf(stderr, "cannot open %s: %s\n", path.c_str(), file.error().what().c_str());
        return nullptr;
    }
    auto tok = Tokenizer::from_gguf(*file);
    if (!tok) {
        std::fprintf(stderr, "cannot load tokenizer %s: %s\n", path.c_str(),
                     tok.error().what().c_str());
        return nullptr;
    }
    return GrammarVocabulary::from_tokenizer(*tok);
}

// A ~150k-token vocabulary made of three real ones (deduplicated by bytes), standing in for the
// 150k vocabularies (Qwen) the shared data does not include.
std::shared_ptr<const GrammarVocabulary>
merge(const GrammarVocabulary& a, const GrammarVocabulary& b, const GrammarVocabulary& c) {
    std::vector<std::string> bytes;
    std::vector<bool> special;
    std::vector<std::int32_t> eos;
    std::set<std::string> seen;
    for (const auto* v : {&a, &b, &c}) {
        for (std::int32_t id = 0; id < v->size(); ++id) {
            if (v->is_special(id) || v->bytes(id).empty() || !seen.insert(v->bytes(id)).second) {
                continue;
            }
            bytes.push_back(v->bytes(id));
            special.push_back(false);
        }
    }
    bytes.emplace_back("<|endoftext|>");
    special.push_back(true);
    eos.push_back(static_cast<std::int32_t>(bytes.size() - 1));
    return GrammarVocabulary::build(std::move(bytes), std::move(special), std::move(eos));
}

void bench_grammar(const char* vocab_name, const std::shared_ptr<const GrammarVocabulary>& vocab,
                   const char* schema_name, const Grammar& g) {
    auto cg = *CompiledGrammar::create(g, vocab);
    std::mt19937 rng(7);
    std::vector<std::uint32_t> mask;
    Stats cold;
    Stats warm;
    Stats fill_warm;
    int tokens = 0;
    for (int gen = 0; gen < 6; ++gen) {
        GrammarMatcher m(cg);
        mask.assign(m.mask_words(), 0);
        for (int step = 0; step < 300 && !m.is_terminated(); ++step) {
            double t0 = cpu_seconds();
            m.fill_next_token_bitmask(mask);
            double t1 = cpu_seconds();
            // Random allowed token, preferring longer ones (as real models do), EOS when allowed
            // late in the walk.
            std::vector<std::int32_t> allowed;
            for (std::int32_t t = 0; t < vocab->size(); ++t) {
                if ((mask[static_cast<std::size_t>(t) / 32] >> (t % 32)) & 1u) {
                    allowed.push_back(t);
                }
            }
            if (allowed.empty()) {
                std::printf("  ERROR: empty mask\n");
                return;
            }
            std::int32_t pick =
                allowed[std::uniform_int_distribution<std::size_t>(0, allowed.size() - 1)(rng)];
            for (int k = 0; k < 3; ++k) {
                std::int32_t c =
                    allowed[std::uniform_int_distribution<std::size_t>(0, allowed.size() - 1)(rng)];
                if (vocab->bytes(c).size() > vocab->bytes(pick).size()) {
                    pick = c;
                }
            }
            if (step > 150) {
                for (std::int32_t t : allowed) {
                    const std::string& b = vocab->bytes(t);
                    if (vocab->is_eos(t) || b == "}" || b == "\"" || b == "]") {
                        pick = t;
                        break;
                    }
                }
            }
            double t2 = cpu_seconds();
            m.accept_token(pick);
            double t3 = cpu_seconds();
            double us = ((t1 - t0) + (t3 - t2)) * 1e6;
            (gen == 0 ? cold : warm).add(us);
            if (gen > 0) {
                fill_warm.add((t1 - t0) * 1e6);
            }
            ++tokens;
        }
    }
    std::printf("| %-14s | %-12s | %8.1f | %8.1f | %8.1f | %8.1f | %8.1f | %6zu | %7.1f |\n",
                vocab_name, schema_name, cold.mean(), warm.mean(), warm.pct(0.5), warm.pct(0.99),
                fill_warm.mean(), cg->cached_states(),
                static_cast<double>(cg->cache_bytes()) / 1024.0);
}

void bench_sampler(const char* vocab_name, std::int32_t n) {
    std::mt19937 gen(5);
    std::normal_distribution<float> dist(0.0f, 3.0f);
    std::vector<float> logits(static_cast<std::size_t>(n));
    for (auto& l : logits) {
        l = dist(gen);
    }
    struct Mode {
        const char* name;
        SamplingParams p;
    };
    std::vector<Mode> modes(4);
    modes[0] = {"greedy", {}};
    modes[0].p.temperature = 0;
    modes[1] = {"temp 0.8", {}};
    modes[1].p.temperature = 0.8f;
    modes[2] = {"temp+top_p .9", {}};
    modes[2].p.temperature = 0.8f;
    modes[2].p.top_p = 0.9f;
    modes[3] = {"top_k40+p+lp5", {}};
    modes[3].p.temperature = 0.8f;
    modes[3].p.top_k = 40;
    modes[3].p.top_p = 0.95f;
    modes[3].p.logprobs = true;
    modes[3].p.top_logprobs = 5;
    for (auto& mode : modes) {
        auto s = *Sampler::create(mode.p, n);
        int iters = 200;
        double t0 = cpu_seconds();
        long sink = 0;
        for (int i = 0; i < iters; ++i) {
            sink += s.sample(logits).token;
        }
        double t1 = cpu_seconds();
        std::printf("| %-14s | %-14s | %10.1f |\n", vocab_name, mode.name,
                    (t1 - t0) * 1e6 / iters + static_cast<double>(sink % 1));
    }
}

} // namespace

int main(int argc, char** argv) {
    std::filesystem::path shared =
        argc > 1 ? std::filesystem::path(argv[1])
                 : std::filesystem::path(AGENTD_SOURCE_DIR).parent_path() / "shared";
    auto dir = shared / "models" / "vocab";
    double t0 = cpu_seconds();
    auto spm = load_vocab(dir / "ggml-vocab-llama-spm.gguf");
    auto dsk = load_vocab(dir / "ggml-vocab-deepseek-llm.gguf");
    auto gpt2 = load_vocab(dir / "ggml-vocab-gpt-2.gguf");
    auto falcon = load_vocab(dir / "ggml-vocab-falcon.gguf");
    if (!spm || !dsk || !gpt2 || !falcon) {
        return 1;
    }
    double t1 = cpu_seconds();
    auto big = merge(*dsk, *gpt2, *falcon);
    double t2 = cpu_seconds();
    std::printf(
        "vocabularies: llama-spm %d, deepseek-llm %d, merged deepseek+gpt-2+falcon %d tokens "
        "(load+trie of four: %.0f ms; merged trie: %.0f ms)\n\n",
        spm->size(), dsk->size(), big->size(), (t1 - t0) * 1e3, (t2 - t1) * 1e3);

    auto tool = parse_json(R"({"type": "object", "properties": {
        "location": {"type": "string"}, "unit": {"enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 14},
        "options": {"type": "object", "properties": {"detailed": {"type": "boolean"},
            "fields": {"type": "array", "items": {"type": "string"}, "maxItems": 8}}}},
        "required": ["location"], "additionalProperties": false})");
    auto tool_grammar = *Grammar::from_json_schema(*tool);
    Grammar any = Grammar::any_json(false);

    std::printf("Grammar mask + accept, microseconds per token (CPU time; cold = first generation "
                "fills the cache)\n\n");
    std::printf("| vocabulary     | grammar      | cold avg | warm avg | warm p50 | warm p99 | "
                "fill avg | states | cache KiB |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|\n");
    for (auto& [name, v] :
         std::vector<std::pair<const char*, std::shared_ptr<const GrammarVocabulary>>>{
             {"llama-spm 32k", spm}, {"deepseek 102k", dsk}, {"merged 123k", big}}) {
        bench_grammar(name, v, "tool schema", tool_grammar);
        bench_grammar(name, v, "any JSON", any);
    }
    std::printf("\nSampler, microseconds per token (CPU time; logits ~ N(0, 3))\n\n");
    std::printf("| vocabulary     | mode           | us / token |\n|---|---|---|\n");
    bench_sampler("32000", 32000);
    bench_sampler("151936", 151936);
    return 0;
}
