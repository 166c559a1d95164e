// agentd tokenize --model FILE.gguf [--no-bos] [--no-special] [--pieces] (TEXT | --file F)
//
// Prints the token ids of TEXT as a JSON array (CONTRACT.md). --no-bos adds no BOS/EOS/SEP;
// --no-special tokenizes special-token text (e.g. "<s>") literally; --pieces prints
// [[id, "piece"], ...] instead; --file reads the text from a file ("-" for stdin), byte for byte.

#include "agentd/inference/gguf.h"
#include "agentd/inference/tokenizer.h"

#include "cli/commands.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

namespace agentd::gateway::cli {
namespace {

constexpr const char* kUsage =
    "usage: agentd tokenize --model FILE.gguf [--no-bos] [--no-special] [--pieces]\n"
    "                       (TEXT | --file FILE|-)\n"
    "Prints the token ids of TEXT as a JSON array.\n"
    "  --no-bos      add no BOS/EOS/SEP tokens\n"
    "  --no-special  treat special-token text (\"<s>\", \"<|im_end|>\") as plain text\n"
    "  --pieces      print [[id, \"piece\"], ...]\n"
    "  --file F      read the text from F (\"-\": standard input)\n";

struct Options {
    std::string model;
    std::optional<std::string> text;
    std::optional<std::string> file;
    bool add_special = true;
    bool parse_special = true;
    bool pieces = false;
};

// Returns nullopt after printing usage (exit 2), or the options.
std::optional<Options> parse(const Args& args) {
    Options o;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        const auto value = [&]() -> std::optional<std::string> {
            if (i + 1 >= args.size()) {
                std::fprintf(stderr, "agentd tokenize: %s needs a value\n", a.c_str());
                return std::nullopt;
            }
            return args[++i];
        };
        if (a == "--help" || a == "-h") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        } else if (a == "--model" || a == "-m") {
            auto v = value();
            if (!v) {
                return std::nullopt;
            }
            o.model = *v;
        } else if (a == "--file") {
            o.file = value();
            if (!o.file) {
                return std::nullopt;
            }
        } else if (a == "--no-bos") {
            o.add_special = false;
        } else if (a == "--no-special") {
            o.parse_special = false;
        } else if (a == "--special") {
            o.parse_special = true;
        } else if (a == "--pieces") {
            o.pieces = true;
        } else if (a == "--" && i + 1 < args.size() && !o.text) {
            o.text = args[++i];
        } else if (!a.starts_with("--") && !o.text) {
            o.text = a;
        } else {
            std::fprintf(stderr, "agentd tokenize: unexpected argument '%s'\n", a.c_str());
            return std::nullopt;
        }
    }
    if (o.model.empty() || o.text.has_value() == o.file.has_value()) {
        std::fputs(o.model.empty() ? "agentd tokenize: --model is required\n"
                                   : "agentd tokenize: give either TEXT or --file\n",
                   stderr);
        return std::nullopt;
    }
    return o;
}

std::string read_text(const std::string& file) {
    if (file == "-") {
        return std::string(std::istreambuf_iterator<char>(std::cin), {});
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read " + file);
    }
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// A JSON string literal of arbitrary bytes: invalid UTF-8 becomes \ufffd so the output stays
// valid JSON.
std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
            ++i;
        } else if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof(buf), "\\u%04x", c);
            out += buf;
            ++i;
        } else if (c < 0x80) {
            out += static_cast<char>(c);
            ++i;
        } else {
            const size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
            bool ok = len > 0 && i + len <= s.size() && c <= 0xF4;
            for (size_t k = 1; ok && k < len; ++k) {
                ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
            }
            if (ok) {
                out.append(s.substr(i, len));
                i += len;
            } else {
                out += "\\ufffd";
                ++i;
            }
        }
    }
    return out + "\"";
}

} // namespace

int tokenize_command(const Args& args) {
    const auto options = parse(args);
    if (!options) {
        std::fputs(kUsage, stderr);
        return 2;
    }
    const std::string text = options->file ? read_text(*options->file) : *options->text;
    // Model loading is control plane: errors become one line on stderr via run_cli.
    const auto file = inference::GgufFile::open(options->model).value();
    const auto tokenizer = inference::Tokenizer::from_gguf(file).value();
    const auto ids = tokenizer.tokenize(
        text, {.add_special = options->add_special, .parse_special = options->parse_special});
    std::ostringstream out;
    out << '[';
    for (size_t i = 0; i < ids.size(); ++i) {
        out << (i == 0 ? "" : ", ");
        if (options->pieces) {
            out << '[' << ids[i] << ", " << json_string(tokenizer.piece(ids[i], true)) << ']';
        } else {
            out << ids[i];
        }
    }
    out << "]\n";
    std::fputs(out.str().c_str(), stdout);
    return 0;
}

} // namespace agentd::gateway::cli
