// Renders every stored real chat template against every recorded conversation and compares
// byte for byte with the reference renderings recorded by Python's jinja2 with Hugging Face's
// settings (tests/inference/data/templates/record_reference.py).

#include "agentd/inference/chat_template.h"
#include "agentd/inference/errc.h"
#include "agentd/inference/value_json.h"
#include "agentd/test/env.h"

#include <gtest/gtest.h>

#include <cctype>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

namespace agentd::inference {
namespace {

namespace fs = std::filesystem;

fs::path data_dir() {
    return test::source_dir() / "tests/inference/data/templates";
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

Value load_json(const fs::path& p) {
    auto v = parse_json(read_file(p));
    if (!v) {
        ADD_FAILURE() << p << ": " << v.error().what();
        return Value(Object{});
    }
    return std::move(*v);
}

std::vector<std::string> template_names() {
    std::vector<std::string> names;
    Value manifest = load_json(data_dir() / "templates.json");
    for (const auto& [name, tokens] : manifest.as_object()) {
        names.push_back(name);
    }
    return names;
}

std::chrono::system_clock::time_point parse_utc(const std::string& iso) {
    std::tm tm{};
    std::istringstream in(iso);
    in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%SZ");
    return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string first_difference(const std::string& want, const std::string& got) {
    std::size_t i = 0;
    while (i < want.size() && i < got.size() && want[i] == got[i]) {
        ++i;
    }
    std::size_t from = i > 60 ? i - 60 : 0;
    return "first difference at byte " + std::to_string(i) + "\n  want: ..." +
           want.substr(from, 120) + "\n  got:  ..." + got.substr(from, 120);
}

class ReferenceRendering : public ::testing::TestWithParam<std::string> {};

TEST_P(ReferenceRendering, MatchesPythonJinja2ForEveryCase) {
    const std::string& name = GetParam();
    Value manifest = load_json(data_dir() / "templates.json");
    Value spec = load_json(data_dir() / "cases.json");
    const Value& tokens = *manifest.find(name);
    auto tmpl = ChatTemplate::parse(read_file(data_dir() / (name + ".jinja")));
    ASSERT_TRUE(tmpl) << tmpl.error().what();
    auto now = parse_utc(spec.find("now_utc")->as_string());
    int compared = 0;
    for (const Value& c : spec.find("cases")->as_array()) {
        const std::string& case_name = c.find("name")->as_string();
        SCOPED_TRACE(name + " / " + case_name);
        ChatRenderInputs in;
        in.messages = *c.find("messages");
        in.tools = *c.find("tools");
        in.add_generation_prompt = c.find("add_generation_prompt")->as_bool();
        in.bos_token = tokens.find("bos_token")->as_string();
        in.eos_token = tokens.find("eos_token")->as_string();
        if (const Value* extra = c.find("extra")) {
            in.extra = *extra;
        }
        in.now = now;
        auto out = tmpl->render(in);
        fs::path expected = data_dir() / "expected" / name / (case_name + ".txt");
        fs::path error = data_dir() / "expected" / name / (case_name + ".error");
        if (fs::exists(error)) {
            EXPECT_FALSE(out) << "Python raised \"" << read_file(error) << "\" but we rendered:\n"
                              << *out;
            if (!out) {
                EXPECT_EQ(out.error().code, make_error_code(errc::template_error));
                std::string py = read_file(error);
                // raise_exception messages must pass through unchanged.
                if (py.rfind("TemplateError: ", 0) == 0) {
                    EXPECT_NE(out.error().message.find(py.substr(15)), std::string::npos)
                        << out.error().message;
                }
            }
        } else {
            ASSERT_TRUE(fs::exists(expected)) << expected;
            ASSERT_TRUE(out) << out.error().what();
            std::string want = read_file(expected);
            EXPECT_EQ(*out, want) << first_difference(want, *out);
        }
        ++compared;
    }
    EXPECT_GE(compared, 20);
}

INSTANTIATE_TEST_SUITE_P(RealTemplates, ReferenceRendering, ::testing::ValuesIn(template_names()),
                         [](const auto& param_info) {
                             std::string n = param_info.param;
                             for (char& ch : n) {
                                 if (!std::isalnum(static_cast<unsigned char>(ch))) {
                                     ch = '_';
                                 }
                             }
                             return n;
                         });

TEST(ChatTemplate, FallbackIsTheStoredChatml) {
    EXPECT_EQ(ChatTemplate::chatml().source(),
              read_file(data_dir() / "agentd-chatml-fallback.jinja"));
}

} // namespace
} // namespace agentd::inference

namespace agentd::inference {
namespace {

// Small templates exercising one language feature each (scoping, whitespace control, filters,
// tests, methods, Python repr and arithmetic), compared with Python jinja2's output or error.
TEST(ChatTemplateSnippets, MatchPythonJinja2) {
    Value snippets = load_json(data_dir() / "snippets.json");
    Value expected = load_json(data_dir() / "expected" / "snippets.json");
    int checked = 0;
    for (const Value& s : snippets.find("snippets")->as_array()) {
        const std::string& name = s.find("name")->as_string();
        SCOPED_TRACE(name);
        const Value* want = expected.find(name);
        ASSERT_NE(want, nullptr);
        ChatRenderInputs in;
        in.extra = *s.find("context");
        in.now = parse_utc("2025-03-14T15:09:26Z");
        auto tmpl = ChatTemplate::parse(s.find("template")->as_string());
        base::Result<std::string> out =
            tmpl ? tmpl->render(in) : base::Result<std::string>(tmpl.error());
        if (const Value* err = want->find("error")) {
            EXPECT_FALSE(out) << "Python raised " << err->as_string() << " but we rendered "
                              << *out;
        } else {
            ASSERT_TRUE(out) << out.error().what();
            EXPECT_EQ(*out, want->find("output")->as_string());
        }
        ++checked;
    }
    EXPECT_GE(checked, 60);
}

} // namespace
} // namespace agentd::inference
