// Mutates real and synthetic GGUF images (truncation at every offset, byte flips, huge counts)
// and checks that every mutant either parses into something consistent or fails cleanly with
// errc::invalid_model / errc::unsupported. Run under ASan in CI, this is the deterministic
// companion of the libFuzzer target in tests/fuzz/.

#include "agentd/inference/gguf.h"
#include "agentd/test/env.h"
#include "agentd/test/gguf_writer.h"

#include <gtest/gtest.h>

#include <cstring>

namespace agentd::inference {
namespace {

// Reads every value of a parsed file so that ASan sees any out-of-bounds view.
size_t exercise(const GgufFile& f) {
    size_t touched = 0;
    const auto image = f.bytes();
    for (const GgufKv& kv : f.metadata()) {
        touched += kv.key.size();
        const GgufValue& v = kv.value;
        touched += v.raw().size();
        if (auto s = v.as<std::string_view>()) {
            touched += s->size();
        }
        if (auto n = v.as<int64_t>()) {
            touched += static_cast<size_t>(*n != 0);
        }
        if (auto d = v.as_vector<double>()) {
            touched += d->size();
        }
        for (std::string_view s : v.strings()) {
            touched += s.empty() ? 0 : static_cast<unsigned char>(s.back());
        }
        for (const GgufValue& child : v.arrays()) {
            touched += child.size();
        }
    }
    for (const GgufTensorInfo& t : f.tensors()) {
        EXPECT_GE(t.data.data(), image.data());
        EXPECT_LE(t.data.data() + t.data.size(), image.data() + image.size());
        EXPECT_EQ(t.data.size(), t.n_bytes);
        if (!t.data.empty()) {
            touched += std::to_integer<size_t>(t.data.back());
        }
        EXPECT_EQ(f.find_tensor(t.name), &t);
    }
    return touched;
}

struct Tally {
    size_t ok = 0;
    size_t failed = 0;
};

void check(std::span<const std::byte> image, Tally& tally) {
    auto f = GgufFile::from_memory(image);
    if (f) {
        exercise(*f);
        ++tally.ok;
        return;
    }
    ++tally.failed;
    const auto code = f.error().code;
    EXPECT_TRUE(code == make_error_code(errc::invalid_model) ||
                code == make_error_code(errc::unsupported))
        << f.error().message;
    EXPECT_FALSE(f.error().message.empty());
}

// Stories260K's complete metadata plus small tensors of several types.
std::vector<uint8_t> synthetic_model(const std::filesystem::path& stories) {
    test::GgufWriter w;
    w.copy_metadata(stories, "");
    w.set("x.nested", test::gguf_array_of({test::gguf_strings({"a", "bc"}),
                                           test::gguf_array(std::vector<int16_t>{1, -2})}));
    w.add_tensor("a.q8_0", 8, {32, 2}, std::vector<uint8_t>(68, 3));
    w.add_tensor("b.q4_k", 12, {256}, std::vector<uint8_t>(144, 5));
    w.add_tensor("c.f16", 1, {4, 2, 2}, std::vector<uint8_t>(32, 7));
    return w.bytes();
}

TEST(GgufMutation, TruncationAtEveryOffset) {
    AGENTD_REQUIRE_SHARED(stories, "models/stories260K.gguf");
    const auto image = synthetic_model(stories);
    const auto bytes = std::as_bytes(std::span(image));
    Tally tally;
    for (size_t len = 0; len < bytes.size(); ++len) {
        check(bytes.first(len), tally);
    }
    EXPECT_GT(tally.failed, image.size() / 2);
    ASSERT_TRUE(GgufFile::from_memory(bytes).has_value());
}

TEST(GgufMutation, RealFileTruncatedAnywhereInTheDirectory) {
    AGENTD_REQUIRE_SHARED(path, "models/synth-tiny-q8_0.gguf");
    auto f = GgufFile::open(path);
    ASSERT_TRUE(f.has_value()) << f.error().message;
    const auto bytes = f->bytes();
    Tally tally;
    const size_t end = static_cast<size_t>(f->data_offset()) + 64;
    for (size_t len = 0; len < end; ++len) {
        check(bytes.first(len), tally);
    }
    // Every prefix that cuts into the directory or the tensors must fail.
    EXPECT_EQ(tally.ok, 0U);
}

TEST(GgufMutation, ByteFlipsAtEveryOffset) {
    AGENTD_REQUIRE_SHARED(stories, "models/stories260K.gguf");
    auto image = synthetic_model(stories);
    Tally tally;
    for (size_t i = 0; i < image.size(); ++i) {
        const uint8_t saved = image[i];
        for (const uint8_t v :
             {uint8_t(saved ^ 0x01), uint8_t(saved ^ 0x80), uint8_t(0xFF), uint8_t(0x00)}) {
            image[i] = v;
            check(std::as_bytes(std::span(image)), tally);
        }
        image[i] = saved;
    }
    EXPECT_GT(tally.ok, 0U);
    EXPECT_GT(tally.failed, 0U);
}

TEST(GgufMutation, HugeCountsAtEveryOffset) {
    AGENTD_REQUIRE_SHARED(stories, "models/stories260K.gguf");
    auto image = synthetic_model(stories);
    Tally tally;
    constexpr uint64_t kHuge[] = {~0ULL, 1ULL << 40, 0xFFFFFFFFULL};
    for (size_t i = 0; i + 8 <= image.size(); ++i) {
        uint8_t saved[8];
        std::memcpy(saved, image.data() + i, 8);
        for (const uint64_t v : kHuge) {
            std::memcpy(image.data() + i, &v, 8);
            check(std::as_bytes(std::span(image)), tally);
        }
        std::memcpy(image.data() + i, saved, 8);
    }
    EXPECT_GT(tally.failed, 0U);
}

} // namespace
} // namespace agentd::inference
