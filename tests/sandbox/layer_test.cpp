#include "agentd/sandbox/layer.h"
#include "agentd/sandbox/run.h"

#include <gtest/gtest.h>

namespace agentd::sandbox {
namespace {

TEST(LayerTest, NamesRoundTrip) {
    for (int i = 0; i < kLayerCount; ++i) {
        const auto layer = static_cast<Layer>(i);
        const auto parsed = parse_layer(to_string(layer));
        ASSERT_TRUE(parsed.has_value()) << to_string(layer);
        EXPECT_EQ(*parsed, layer);
    }
    EXPECT_FALSE(parse_layer("bogus").has_value());
    EXPECT_FALSE(parse_layer("").has_value());
}

TEST(LayerTest, SetOperations) {
    LayerSet s;
    EXPECT_TRUE(s.empty());
    s.insert(Layer::seccomp);
    s.insert(Layer::userns);
    EXPECT_TRUE(s.contains(Layer::seccomp));
    EXPECT_FALSE(s.contains(Layer::netns));
    EXPECT_EQ(s.names(), (std::vector<std::string>{"userns", "seccomp"}));
    LayerSet need;
    need.insert(Layer::seccomp);
    need.insert(Layer::netns);
    EXPECT_FALSE(s.contains_all(need));
    EXPECT_EQ(need.minus(s).names(), std::vector<std::string>{"netns"});
    s.erase(Layer::seccomp);
    EXPECT_FALSE(s.contains(Layer::seccomp));
    EXPECT_EQ(LayerSet::all().names().size(), static_cast<std::size_t>(kLayerCount));
    EXPECT_EQ(LayerSet::from_bits(~0U), LayerSet::all());
}

TEST(LayerTest, ParsesLists) {
    const auto list = parse_layer_list("userns,seccomp,,netns");
    ASSERT_TRUE(list.has_value());
    EXPECT_EQ(list->names(), (std::vector<std::string>{"userns", "netns", "seccomp"}));
    EXPECT_TRUE(parse_layer_list("")->empty());
    EXPECT_FALSE(parse_layer_list("userns,nope").has_value());
}

TEST(LayerTest, LanguageAndLimitNames) {
    EXPECT_EQ(parse_language("python"), Language::python);
    EXPECT_EQ(parse_language("bash"), Language::bash);
    EXPECT_FALSE(parse_language("sh").has_value());
    EXPECT_EQ(to_string(Language::bash), "bash");
    EXPECT_EQ(to_string(LimitHit::cpu), "cpu");
    EXPECT_EQ(to_string(LimitHit::memory), "memory");
}

} // namespace
} // namespace agentd::sandbox
