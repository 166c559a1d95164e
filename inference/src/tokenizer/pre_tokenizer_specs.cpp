// The pre-tokenizers llama.cpp knows by `tokenizer.ggml.pre` name: their split patterns (the
// models' published pre-tokenizer regexes in the form llama.cpp runs them; non-ASCII characters
// written as \x{...}) and the tokenizer flags each name implies.
// clang-format off

#include "tokenizer/pre_tokenizer.h"

#include <algorithm>
#include <array>

namespace agentd::inference::detail {
namespace {

constexpr std::string_view kLlama3[] = {
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
};

constexpr std::string_view kJais2[] = {
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s{512}(?!\S)|\s{256}(?!\S)|\s{128}(?!\S)|\s{64}(?!\S)|\s{32}(?!\S)|\s{16}(?!\S)|\s{8}(?!\S)|\s{4}(?!\S)|\s{1,2}(?!\S)|\s{1})",
};

constexpr std::string_view kDeepseekLlm[] = {
    R"([\r\n])",
    R"(\s?[A-Za-z\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA}\x{1BC}-\x{1BF}\x{1C4}-\x{293}\x{295}-\x{2AF}\x{370}-\x{373}\x{376}\x{377}\x{37B}-\x{37D}\x{37F}\x{386}\x{388}-\x{38A}\x{38C}\x{38E}-\x{3A1}\x{3A3}-\x{3F5}\x{3F7}-\x{481}\x{48A}-\x{52F}\x{531}-\x{556}\x{10A0}-\x{10C5}\x{13A0}-\x{13F5}\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA}\x{1CBD}-\x{1CBF}\x{1D00}-\x{1D2B}\x{1D6B}-\x{1D77}\x{1D79}-\x{1D9A}\x{1E00}-\x{1F15}\x{1F18}-\x{1F1D}\x{1F20}-\x{1F45}\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57}\x{1F59}\x{1F5B}\x{1F5D}\x{1F5F}-\x{1F7D}\x{1F80}-\x{1FB4}\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4}\x{1FC6}-\x{1FCC}\x{1FD0}-\x{1FD3}\x{1FD6}-\x{1FDB}\x{1FE0}-\x{1FEC}\x{1FF2}-\x{1FF4}\x{1FF6}-\x{1FFC}\x{2102}\x{2107}\x{210A}-\x{2113}\x{2115}\x{2119}-\x{211D}\x{2124}\x{2126}\x{2128}\x{212A}-\x{212D}\x{212F}-\x{2134}\x{2139}\x{213C}-\x{213F}\x{2145}-\x{2149}\x{214E}\x{2183}\x{2184}\x{2C00}-\x{2C7B}\x{2C7E}-\x{2CE4}\x{2CEB}-\x{2CEE}\x{2CF2}\x{2CF3}\x{A640}-\x{A66D}\x{A680}-\x{A69B}\x{A722}-\x{A76F}\x{A771}-\x{A787}\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF}\x{FB00}-\x{FB06}\x{FB13}-\x{FB17}\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}\x{10400}-\x{1044F}\x{104B0}-\x{104D3}\x{104D8}-\x{104FB}\x{10C80}-\x{10CB2}\x{10CC0}-\x{10CF2}\x{118A0}-\x{118DF}\x{1E900}-\x{1E943}]+)",
    R"(\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+)",
    R"(\s+$)",
    R"([\x{4E00}-\x{9FA5}\x{800}-\x{4E00}\x{AC00}-\x{D7FF}]+)",
    R"(\p{N}+)",
};

constexpr std::string_view kDeepseek3[] = {
    R"(\p{N}{1,3})",
    R"([\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+)",
    R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
};

constexpr std::string_view kYoutu[] = {
    R"([\x{AC00}-\x{D7A3}\x{3131}-\x{318E}]+|[\x{FF01}\x{2026}\x{201C}\x{201D}\x{2018}\x{2019}\x{2014}\x{FF1A}\x{FF1B}\x{FF0C}\x{3001}-\x{303F}\x{FE30}-\x{FE4F}]+|[\x{3105}-\x{312F}]+|[\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+)",
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
};

constexpr std::string_view kDeepseekCoder[] = {
    R"([\r\n])",
    R"(\s?\p{L}+)",
    R"(\s?\p{P}+)",
    R"([\x{4E00}-\x{9FA5}\x{800}-\x{4E00}\x{AC00}-\x{D7FF}]+)",
    R"(\p{N})",
};

constexpr std::string_view kFalcon[] = {
    R"([\p{P}\$\+<=>\^~\|`]+)",
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))",
    R"([0-9][0-9][0-9])",
};

constexpr std::string_view kStarcoder[] = {
    R"(\p{N})",
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))",
};

constexpr std::string_view kGpt2[] = {
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))",
};

constexpr std::string_view kQwen2[] = {
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
};

constexpr std::string_view kQwen35[] = {
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
};

constexpr std::string_view kPoro[] = {
    R"( ?[^(\s|.,!?\x{2026}\x{3002}\x{FF0C}\x{3001}\x{964}\x{6D4}\x{60C})]+)",
};

constexpr std::string_view kViking[] = {
    R"( ?[^(\s|.,!?\x{2026}\x{3002}\x{FF0C}\x{3001}\x{964}\x{6D4}\x{60C})]+)",
    R"(\p{N})",
};

constexpr std::string_view kTekken[] = {
    R"([^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
};

constexpr std::string_view kChameleon[] = {
    R"(<sentinel:[0-9]+>)",
    R"((IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z)",
    R"(([\t\n]|    |  ))",
    R"(\p{N})",
    R"([\p{P}!-/:-@\[-`{-~])",
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))",
};

constexpr std::string_view kGpt4o[] = {
    R"([^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
};

constexpr std::string_view kGraniteEmbMulti[] = {
    R"([^\r\n\p{L}\p{N}]?((?=[\p{L}\p{M}])([^a-z]))*((?=[\p{L}\p{M}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?((?=[\p{L}\p{M}])([^a-z]))+((?=[\p{L}\p{M}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
};

constexpr std::string_view kBailing[] = {
    R"('(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+)",
};

constexpr std::string_view kSeedCoder[] = {
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+)",
};

constexpr std::string_view kLaguna[] = {
    R"([^\n]+|[\n]+)",
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
};

constexpr std::string_view kExaoneMoe[] = {
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?(?:\p{L}\p{M}*(?: \p{L}\p{M}*)*)+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]?|\s*[\r\n]|\s+(?!\S)|\s+)",
};

constexpr std::string_view kNewlines[] = {
    R"([^\n]+|[\n]+)",
};

constexpr std::string_view kMinicpm5[] = {
    R"(\p{N}{1,3})",
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}+| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
};

constexpr std::string_view kWhitespace[] = {
    R"(\S+)",
};

constexpr std::string_view kDefault[] = {
    R"([\p{P}\$\+<=>\^~\|]+)",
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))",
    R"(\p{N}+)",
    R"([0-9][0-9][0-9])",
};

template <size_t N>
constexpr std::span<const std::string_view> names(const std::string_view (&a)[N]) {
    return {a, N};
}

constexpr std::string_view kDefaultNames[] = {"", "default"};
constexpr std::string_view kLlama3Names[] = {"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1",
                                             "pixtral", "midm-2.0", "lfm2", "jina-v5-nano"};
constexpr std::string_view kLlama3PlainNames[] = {"dbrx", "smaug-bpe"};
constexpr std::string_view kMinicpm5Names[] = {"minicpm5"};
constexpr std::string_view kDeepseekLlmNames[] = {"deepseek-llm"};
constexpr std::string_view kDeepseekCoderNames[] = {"deepseek-coder"};
constexpr std::string_view kDeepseek3Names[] = {"deepseek-v3", "hunyuan-dense", "joyai-llm"};
constexpr std::string_view kYoutuNames[] = {"youtu"};
constexpr std::string_view kFalconNames[] = {"falcon"};
constexpr std::string_view kGpt2Names[] = {"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es",
                                           "jina-v2-de", "a.x-4.0", "mellum", "modern-bert", "mpt",
                                           "olmo", "jais", "exaone4"};
constexpr std::string_view kGpt2NoCleanNames[] = {"trillion", "granite-docling"};
constexpr std::string_view kGpt2SepNames[] = {"jina-v1-en", "jina-v2-code", "roberta-bpe"};
constexpr std::string_view kJais2Names[] = {"jais-2"};
constexpr std::string_view kGemma4Names[] = {"gemma4", "granite-embed-multi-311m"};
constexpr std::string_view kSarvamNames[] = {"sarvam-moe"};
constexpr std::string_view kWhitespaceNames[] = {"whitespace"};
constexpr std::string_view kStarcoderNames[] = {"starcoder", "refact", "codeshell", "exaone", "minerva-7b",
                                                "mellum2"};
constexpr std::string_view kStarcoderNoCleanNames[] = {"command-r", "smollm"};
constexpr std::string_view kQwen2Names[] = {"stablelm2", "megrez"};
constexpr std::string_view kQwen2NoCleanNames[] = {"qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2",
                                                   "hunyuan", "solar-open", "grok-2"};
constexpr std::string_view kQwen35Names[] = {"qwen35"};
constexpr std::string_view kPoroNames[] = {"bloom", "gpt3-finnish"};
constexpr std::string_view kPoroNoCleanNames[] = {"poro-chat"};
constexpr std::string_view kChatglmNames[] = {"glm4", "chatglm-bpe"};
constexpr std::string_view kVikingNames[] = {"viking"};
constexpr std::string_view kTekkenNames[] = {"tekken"};
constexpr std::string_view kChameleonNames[] = {"chameleon"};
constexpr std::string_view kGpt4oNames[] = {"gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2"};
constexpr std::string_view kGraniteEmbMultiNames[] = {"granite-embed-multi-97m"};
constexpr std::string_view kBailingNames[] = {"bailingmoe", "bailingmoe2", "llada-moe"};
constexpr std::string_view kSeedCoderNames[] = {"seed-coder"};
constexpr std::string_view kLagunaNames[] = {"laguna"};
constexpr std::string_view kExaoneMoeNames[] = {"exaone-moe"};

// Pre-tokenizers llama.cpp implements with hand-written splitters we do not reproduce.
constexpr std::string_view kUnsupported[] = {"kimi-k2", "afmoe", "tiny_aya", "cohere2moe", "superbpe"};

PreTokenizerSpec spec(std::span<const std::string_view> n, std::span<const std::string_view> p) {
    PreTokenizerSpec s;
    s.names = n;
    s.patterns = p;
    return s;
}

const std::vector<PreTokenizerSpec>& specs() {
    static const std::vector<PreTokenizerSpec> all = [] {
        std::vector<PreTokenizerSpec> v;
        v.push_back(spec(names(kDefaultNames), names(kDefault)));
        auto& llama3 = v.emplace_back(spec(names(kLlama3Names), names(kLlama3)));
        llama3.ignore_merges = true;
        llama3.add_bos = true;
        v.push_back(spec(names(kLlama3PlainNames), names(kLlama3)));
        v.emplace_back(spec(names(kMinicpm5Names), names(kMinicpm5))).ignore_merges = true;
        v.emplace_back(spec(names(kDeepseekLlmNames), names(kDeepseekLlm))).clean_spaces = false;
        v.emplace_back(spec(names(kDeepseekCoderNames), names(kDeepseekCoder))).clean_spaces = false;
        v.emplace_back(spec(names(kDeepseek3Names), names(kDeepseek3))).clean_spaces = false;
        auto& youtu = v.emplace_back(spec(names(kYoutuNames), names(kYoutu)));
        youtu.clean_spaces = false;
        youtu.ignore_merges = true;
        v.push_back(spec(names(kFalconNames), names(kFalcon)));
        v.push_back(spec(names(kGpt2Names), names(kGpt2)));
        v.emplace_back(spec(names(kGpt2NoCleanNames), names(kGpt2))).clean_spaces = false;
        v.emplace_back(spec(names(kGpt2SepNames), names(kGpt2))).add_sep = true;
        v.push_back(spec(names(kJais2Names), names(kJais2)));
        auto& gemma4 = v.emplace_back(spec(names(kGemma4Names), names(kNewlines)));
        gemma4.escape_whitespaces = true;
        gemma4.byte_encode = false;
        auto& sarvam = v.emplace_back(spec(names(kSarvamNames), names(kNewlines)));
        sarvam.escape_whitespaces = true;
        sarvam.byte_encode = false;
        sarvam.clean_spaces = false;
        v.emplace_back(spec(names(kWhitespaceNames), names(kWhitespace))).byte_encode = false;
        v.push_back(spec(names(kStarcoderNames), names(kStarcoder)));
        v.emplace_back(spec(names(kStarcoderNoCleanNames), names(kStarcoder))).clean_spaces = false;
        v.push_back(spec(names(kQwen2Names), names(kQwen2)));
        v.emplace_back(spec(names(kQwen2NoCleanNames), names(kQwen2))).clean_spaces = false;
        v.emplace_back(spec(names(kQwen35Names), names(kQwen35))).clean_spaces = false;
        v.push_back(spec(names(kPoroNames), names(kPoro)));
        v.emplace_back(spec(names(kPoroNoCleanNames), names(kPoro))).clean_spaces = false;
        v.emplace_back(spec(names(kChatglmNames), names(kLlama3))).no_bos = true;
        v.emplace_back(spec(names(kVikingNames), names(kViking))).clean_spaces = false;
        auto& tekken = v.emplace_back(spec(names(kTekkenNames), names(kTekken)));
        tekken.clean_spaces = false;
        tekken.ignore_merges = true;
        tekken.add_bos = true;
        auto& chameleon = v.emplace_back(spec(names(kChameleonNames), names(kChameleon)));
        chameleon.clean_spaces = false;
        chameleon.add_bos = true;
        v.emplace_back(spec(names(kGpt4oNames), names(kGpt4o))).clean_spaces = false;
        auto& granite = v.emplace_back(spec(names(kGraniteEmbMultiNames), names(kGraniteEmbMulti)));
        granite.clean_spaces = false;
        granite.ignore_merges = true;
        v.emplace_back(spec(names(kBailingNames), names(kBailing))).clean_spaces = false;
        v.emplace_back(spec(names(kSeedCoderNames), names(kSeedCoder))).clean_spaces = false;
        v.emplace_back(spec(names(kLagunaNames), names(kLaguna))).clean_spaces = false;
        v.push_back(spec(names(kExaoneMoeNames), names(kExaoneMoe)));
        return v;
    }();
    return all;
}

} // namespace

const PreTokenizerSpec* find_pre_tokenizer_spec(std::string_view name, bool& unsupported) {
    unsupported = std::find(std::begin(kUnsupported), std::end(kUnsupported), name) !=
                  std::end(kUnsupported);
    if (unsupported) {
        return nullptr;
    }
    for (const auto& s : specs()) {
        if (std::find(s.names.begin(), s.names.end(), name) != s.names.end()) {
            return &s;
        }
    }
    return nullptr;
}

} // namespace agentd::inference::detail
