#include "agentd/inference/gguf.h"
#include "agentd/test/env.h"
#include "agentd/test/gguf_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

namespace agentd::inference {
namespace {

using test::GgufWriter;

base::Result<GgufFile> parse(const std::vector<uint8_t>& bytes) {
    return GgufFile::from_memory(std::as_bytes(std::span(bytes)));
}

// Expects a parse failure with `code` whose message contains `needle`.
void expect_error(const std::vector<uint8_t>& bytes, errc code, const std::string& needle) {
    auto f = parse(bytes);
    ASSERT_FALSE(f.has_value()) << "expected failure containing: " << needle;
    EXPECT_EQ(f.error().code, make_error_code(code)) << f.error().message;
    EXPECT_NE(f.error().message.find(needle), std::string::npos) << f.error().message;
}

template <class T>
void patch(std::vector<uint8_t>& b, size_t offset, T v) {
    ASSERT_LE(offset + sizeof(T), b.size());
    std::memcpy(b.data() + offset, &v, sizeof(T));
}

TEST(GgufTypes, BlockGeometryMatchesGgml) {
    EXPECT_EQ(ggml_type_info(GgmlType::q4_k).block_bytes, 144U);
    EXPECT_EQ(ggml_type_info(GgmlType::q6_k).block_bytes, 210U);
    EXPECT_EQ(ggml_type_info(GgmlType::q8_0).block_bytes, 34U);
    EXPECT_EQ(ggml_type_info(GgmlType::q4_0).block_size, 32U);
    EXPECT_EQ(ggml_type_info(GgmlType::bf16).block_bytes, 2U);
    EXPECT_EQ(ggml_type_name(GgmlType::q4_k), "q4_K");
    EXPECT_FALSE(ggml_type_info(4).has_value()); // removed Q4_2
    EXPECT_FALSE(ggml_type_info(31).has_value());
    EXPECT_FALSE(ggml_type_info(43).has_value());
    EXPECT_EQ(ggml_row_bytes(GgmlType::q8_0, 64), 68U);
    EXPECT_FALSE(ggml_row_bytes(GgmlType::q8_0, 33).has_value());
    EXPECT_FALSE(ggml_row_bytes(GgmlType::q8_0, -32).has_value());
    EXPECT_FALSE(ggml_row_bytes(GgmlType::f64, std::numeric_limits<int64_t>::max()).has_value());
}

TEST(GgufFile, ReadsStories260K) {
    AGENTD_REQUIRE_SHARED(path, "models/stories260K.gguf");
    auto f = GgufFile::open(path);
    ASSERT_TRUE(f.has_value()) << f.error().message;
    EXPECT_EQ(f->version(), 3U);
    EXPECT_EQ(f->alignment(), 32U);
    EXPECT_EQ(f->get<std::string_view>("general.architecture").value(), "llama");
    EXPECT_EQ(f->get<uint32_t>("llama.embedding_length").value(), 64U);
    EXPECT_EQ(f->get<uint32_t>("llama.block_count").value(), 5U);
    EXPECT_EQ(f->get<uint64_t>("llama.attention.head_count_kv").value(), 4U);
    EXPECT_NEAR(f->get<float>("llama.attention.layer_norm_rms_epsilon").value(), 1e-5F, 1e-9F);
    auto tokens = f->get_strings("tokenizer.ggml.tokens");
    ASSERT_TRUE(tokens.has_value());
    ASSERT_EQ(tokens->size(), 512U);
    EXPECT_EQ((*tokens)[13], "<0x0A>");
    auto scores = f->get_vector<float>("tokenizer.ggml.scores");
    ASSERT_TRUE(scores.has_value());
    EXPECT_EQ(scores->size(), 512U);

    auto emb = f->tensor("token_embd.weight");
    ASSERT_TRUE(emb.has_value()) << emb.error().message;
    const GgufTensorInfo& t = **emb;
    EXPECT_EQ(t.type, GgmlType::f32);
    EXPECT_EQ(t.n_dims, 2U);
    EXPECT_EQ(t.ne[0], 64);
    EXPECT_EQ(t.ne[1], 512);
    EXPECT_EQ(t.n_elements, 64U * 512U);
    EXPECT_EQ(t.n_bytes, 64U * 512U * 4U);
    EXPECT_EQ(t.row_bytes, 256U);
    EXPECT_EQ(t.n_rows(), 512U);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data.data()) % 32, 0U);
    EXPECT_GE(t.data.data(), f->bytes().data() + f->data_offset());
    EXPECT_LE(t.data.data() + t.data.size(), f->bytes().data() + f->bytes().size());
    for (float v : std::span(reinterpret_cast<const float*>(t.data.data()), 64)) {
        EXPECT_TRUE(std::isfinite(v));
    }
    EXPECT_EQ(f->find_tensor("no.such.tensor"), nullptr);
    auto missing = f->tensor("no.such.tensor");
    ASSERT_FALSE(missing.has_value());
    EXPECT_NE(missing.error().message.find("no.such.tensor"), std::string::npos);
}

TEST(GgufFile, ReadAndMapGiveTheSameResult) {
    AGENTD_REQUIRE_SHARED(path, "models/synth-tiny-q4_0.gguf");
    auto mapped = GgufFile::open(path);
    auto read = GgufFile::open(path, {.use_mmap = false, .prefetch = false});
    ASSERT_TRUE(mapped.has_value()) << mapped.error().message;
    ASSERT_TRUE(read.has_value()) << read.error().message;
    ASSERT_EQ(mapped->tensors().size(), read->tensors().size());
    ASSERT_EQ(mapped->metadata().size(), read->metadata().size());
    bool saw_q4 = false;
    for (size_t i = 0; i < mapped->tensors().size(); ++i) {
        const auto& a = mapped->tensors()[i];
        const auto& b = read->tensors()[i];
        EXPECT_EQ(a.name, b.name);
        EXPECT_EQ(a.type, b.type);
        EXPECT_EQ(a.ne, b.ne);
        ASSERT_EQ(a.data.size(), b.data.size());
        EXPECT_EQ(std::memcmp(a.data.data(), b.data.data(), a.data.size()), 0);
        saw_q4 = saw_q4 || a.type == GgmlType::q4_0;
    }
    EXPECT_TRUE(saw_q4);
}

TEST(GgufFile, OpensEveryVocabFile) {
    AGENTD_REQUIRE_SHARED(dir, "models/vocab");
    int n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() != ".gguf") {
            continue;
        }
        auto f = GgufFile::open(entry.path());
        ASSERT_TRUE(f.has_value()) << entry.path() << ": " << f.error().message;
        EXPECT_TRUE(f->tensors().empty());
        EXPECT_TRUE(f->get<std::string_view>("tokenizer.ggml.model").has_value());
        EXPECT_GT(f->get_strings("tokenizer.ggml.tokens").value().size(), 1000U);
        ++n;
    }
    EXPECT_EQ(n, 12);
}

TEST(GgufFile, MissingFileIsAnIoError) {
    auto f = GgufFile::open("/nonexistent/dir/model.gguf");
    ASSERT_FALSE(f.has_value());
    EXPECT_EQ(f.error().code, make_error_code(errc::io_error));
    EXPECT_NE(f.error().message.find("/nonexistent/dir/model.gguf"), std::string::npos);
    auto d = GgufFile::open("/");
    ASSERT_FALSE(d.has_value());
    EXPECT_EQ(d.error().code, make_error_code(errc::io_error));
}

TEST(GgufFile, AllValueTypesRoundTrip) {
    GgufWriter w;
    w.set("a.u8", test::gguf_u8(200))
        .set("a.i8", test::gguf_i8(-100))
        .set("a.u16", test::gguf_u16(60000))
        .set("a.i16", test::gguf_i16(-30000))
        .set("a.u32", test::gguf_u32(4000000000U))
        .set("a.i32", test::gguf_i32(-2000000000))
        .set("a.u64", test::gguf_u64(1ULL << 40))
        .set("a.i64", test::gguf_i64(-(1LL << 40)))
        .set("a.f32", test::gguf_f32(1.5F))
        .set("a.f64", test::gguf_f64(-2.25))
        .set("a.bool", test::gguf_bool(true))
        .set("a.str", test::gguf_string("héllo"))
        .set("a.strs", test::gguf_strings({"x", "", "zz"}))
        .set("a.f32s", test::gguf_array(std::vector<float>{1, 2, 3}))
        .set("a.i8s", test::gguf_array(std::vector<int8_t>{-1, 2}))
        .set("a.nested",
             test::gguf_array_of({test::gguf_array(std::vector<uint16_t>{1, 2}),
                                  test::gguf_strings({"p", "q"}),
                                  test::gguf_array_of({test::gguf_strings({"deep"})})}));
    auto f = parse(w.bytes());
    ASSERT_TRUE(f.has_value()) << f.error().message;
    EXPECT_EQ(f->get<uint8_t>("a.u8").value(), 200);
    EXPECT_EQ(f->get<int8_t>("a.i8").value(), -100);
    EXPECT_EQ(f->get<uint16_t>("a.u16").value(), 60000);
    EXPECT_EQ(f->get<int16_t>("a.i16").value(), -30000);
    EXPECT_EQ(f->get<uint32_t>("a.u32").value(), 4000000000U);
    EXPECT_EQ(f->get<int32_t>("a.i32").value(), -2000000000);
    EXPECT_EQ(f->get<uint64_t>("a.u64").value(), 1ULL << 40);
    EXPECT_EQ(f->get<int64_t>("a.i64").value(), -(1LL << 40));
    EXPECT_EQ(f->get<float>("a.f32").value(), 1.5F);
    EXPECT_EQ(f->get<double>("a.f64").value(), -2.25);
    EXPECT_EQ(f->get<double>("a.f32").value(), 1.5);
    EXPECT_TRUE(f->get<bool>("a.bool").value());
    EXPECT_EQ(f->get<std::string_view>("a.str").value(), "héllo");
    EXPECT_EQ(f->get_vector<std::string_view>("a.strs").value(),
              (std::vector<std::string_view>{"x", "", "zz"}));
    EXPECT_EQ(f->get_vector<float>("a.f32s").value(), (std::vector<float>{1, 2, 3}));
    EXPECT_EQ(f->get_vector<int32_t>("a.i8s").value(), (std::vector<int32_t>{-1, 2}));
    // Lossless integer widening and narrowing.
    EXPECT_EQ(f->get<int64_t>("a.u32").value(), 4000000000LL);
    EXPECT_EQ(f->get<uint8_t>("a.u16").has_value(), false);
    EXPECT_EQ(f->get<uint32_t>("a.i8").has_value(), false);
    EXPECT_EQ(f->get<int8_t>("a.u8").has_value(), false);

    const GgufValue* nested = f->find("a.nested");
    ASSERT_NE(nested, nullptr);
    ASSERT_EQ(nested->element_type(), GgufValueType::array);
    ASSERT_EQ(nested->arrays().size(), 3U);
    EXPECT_EQ(nested->arrays()[0].as_vector<uint16_t>().value(), (std::vector<uint16_t>{1, 2}));
    EXPECT_EQ(nested->arrays()[1].strings()[1], "q");
    EXPECT_EQ(nested->arrays()[2].arrays()[0].strings()[0], "deep");
    EXPECT_EQ(nested->at(1).value().at(0).value().as<std::string_view>().value(), "p");
    EXPECT_FALSE(nested->at(3).has_value());
    EXPECT_EQ(f->find("a.f32s")->at(2).value().as<float>().value(), 3.0F);
}

TEST(GgufFile, AccessorErrorsNameTheKeyAndTypes) {
    GgufWriter w;
    w.set("k.f32", test::gguf_f32(1)).set("k.str", test::gguf_string("s"));
    auto f = parse(w.bytes());
    ASSERT_TRUE(f.has_value());
    auto wrong = f->get<uint32_t>("k.f32");
    ASSERT_FALSE(wrong.has_value());
    EXPECT_EQ(wrong.error().code, make_error_code(errc::invalid_model));
    EXPECT_NE(wrong.error().message.find("k.f32"), std::string::npos);
    EXPECT_NE(wrong.error().message.find("has type f32, expected u32"), std::string::npos);
    auto missing = f->get<uint32_t>("k.none");
    ASSERT_FALSE(missing.has_value());
    EXPECT_NE(missing.error().message.find("'k.none' is missing"), std::string::npos);
    EXPECT_EQ(f->get_optional<uint32_t>("k.none").value(), std::nullopt);
    EXPECT_FALSE(f->get_optional<uint32_t>("k.str").has_value());
    EXPECT_FALSE(f->get_vector<float>("k.f32").has_value());
    EXPECT_FALSE(f->get_strings("k.str").has_value());
    EXPECT_FALSE(f->get<bool>("k.f32").has_value());
    EXPECT_FALSE(f->get<std::string_view>("k.f32").has_value());
}

TEST(GgufFile, TensorsOfManyTypesWithCustomAlignment) {
    GgufWriter w;
    w.set_alignment(64).set("general.architecture", test::gguf_string("llama"));
    std::vector<uint8_t> q8(34 * 2 * 3, 7); // 64 x 3 of Q8_0
    std::vector<uint8_t> q4k(144 * 5, 9);   // 256 x 5 of Q4_K
    std::vector<uint8_t> iq2(66 * 1, 1);    // a type no backend computes with still parses
    const std::vector<float> f32{1, 2, 3};
    w.add_tensor("w.q8", 8, {64, 3}, q8)
        .add_tensor("w.q4k", 12, {256, 5}, q4k)
        .add_tensor("w.iq2", 16, {256}, iq2)
        .add_tensor_f32("w.f32", {3}, f32);
    const auto bytes = w.bytes();
    auto f = parse(bytes);
    ASSERT_TRUE(f.has_value()) << f.error().message;
    EXPECT_EQ(f->alignment(), 64U);
    EXPECT_EQ(f->data_offset(), w.data_offset());
    EXPECT_EQ(f->data_offset() % 64, 0U);
    ASSERT_EQ(f->tensors().size(), 4U);
    const auto* t = f->find_tensor("w.q4k");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->type, GgmlType::q4_k);
    EXPECT_EQ(t->n_bytes, q4k.size());
    EXPECT_EQ(t->row_bytes, 144U);
    EXPECT_EQ(t->offset % 64, 0U);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t->data.data()) % 64, 0U);
    EXPECT_EQ(std::to_integer<uint8_t>(t->data[0]), 9);
    EXPECT_EQ(f->find_tensor("w.iq2")->type, GgmlType::iq2_xxs);
    const auto* ft = f->find_tensor("w.f32");
    EXPECT_EQ(std::memcmp(ft->data.data(), f32.data(), 12), 0);
    EXPECT_EQ(ft->n_dims, 1U);
    EXPECT_EQ(ft->ne[1], 1);
}

TEST(GgufFile, Version2IsAccepted) {
    GgufWriter w;
    w.set_version(2).set("x", test::gguf_u32(1));
    auto f = parse(w.bytes());
    ASSERT_TRUE(f.has_value()) << f.error().message;
    EXPECT_EQ(f->version(), 2U);
}

TEST(GgufHostile, HeaderErrors) {
    expect_error({}, errc::invalid_model, "too short");
    expect_error({'G', 'G', 'U', 'X', 3, 0, 0, 0}, errc::invalid_model, "not a GGUF file");
    GgufWriter w;
    w.set("x", test::gguf_u32(1));
    auto b = w.bytes();
    patch<uint32_t>(b, 4, 1);
    expect_error(b, errc::unsupported, "version 1");
    patch<uint32_t>(b, 4, 4);
    expect_error(b, errc::unsupported, "version 4");
    patch<uint32_t>(b, 4, 0x03000000);
    expect_error(b, errc::unsupported, "big-endian");
    b = w.bytes();
    b.resize(20);
    expect_error(b, errc::invalid_model, "metadata count at offset 16: file truncated");
    b = w.bytes();
    patch<uint64_t>(b, 16, 1ULL << 60);
    expect_error(b, errc::invalid_model, "metadata count at offset 16");
    b = w.bytes();
    patch<uint64_t>(b, 8, 1ULL << 62);
    expect_error(b, errc::invalid_model, "tensor count at offset 8");
}

TEST(GgufHostile, MetadataErrors) {
    GgufWriter w;
    w.set("first", test::gguf_u32(1)).set("s", test::gguf_string("abc"));
    const auto good = w.bytes();
    // Key string length of entry 0 lives at offset 24.
    auto b = good;
    patch<uint64_t>(b, 24, ~0ULL);
    expect_error(b, errc::invalid_model, "metadata entry 0: key at offset 24: string length");
    b = good;
    patch<uint64_t>(b, 24, 0);
    expect_error(b, errc::invalid_model, "empty key");
    // Value type of entry 0 at 24 + 8 + 5.
    b = good;
    patch<uint32_t>(b, 37, 13);
    expect_error(b, errc::invalid_model,
                 "metadata entry 0 ('first'): value type at offset 37: "
                 "unknown value type 13");
    // Truncated in the middle of the string value of entry 1.
    b = good;
    b.resize(b.size() - 1);
    expect_error(b, errc::invalid_model, "metadata entry 1 ('s'): string value");

    GgufWriter dup;
    dup.set("k", test::gguf_u8(1));
    auto d = dup.bytes();
    std::vector<uint8_t> entry(d.begin() + 24, d.end());
    d.insert(d.end(), entry.begin(), entry.end());
    patch<uint64_t>(d, 16, 2);
    expect_error(d, errc::invalid_model, "duplicate key");
}

TEST(GgufHostile, ArrayErrors) {
    GgufWriter w;
    w.set("arr", test::gguf_array(std::vector<uint32_t>{1, 2, 3}));
    const auto good = w.bytes();
    const size_t count_at = 24 + 8 + 3 + 4 + 4; // key, value type, element type
    auto b = good;
    patch<uint64_t>(b, count_at, 1ULL << 62);
    expect_error(b, errc::invalid_model, "array length at offset");
    b = good;
    patch<uint32_t>(b, count_at - 4, 77);
    expect_error(b, errc::invalid_model, "unknown value type 77");

    GgufWriter s;
    s.set("arr", test::gguf_strings({"a", "b"}));
    b = s.bytes();
    patch<uint64_t>(b, count_at, 1ULL << 40);
    expect_error(b, errc::invalid_model, "cannot fit");

    test::GgufEncoded deep = test::gguf_array(std::vector<uint8_t>{1});
    for (int i = 0; i < 9; ++i) {
        deep = test::gguf_array_of({deep});
    }
    GgufWriter n;
    n.set("deep", deep);
    expect_error(n.bytes(), errc::invalid_model, "nested deeper");

    GgufWriter al;
    al.set("general.alignment", test::gguf_u32(24));
    expect_error(al.bytes(), errc::invalid_model, "general.alignment");
    al.set("general.alignment", test::gguf_u32(0));
    expect_error(al.bytes(), errc::invalid_model, "power of two");
    al.set("general.alignment", test::gguf_string("32"));
    expect_error(al.bytes(), errc::invalid_model, "has type str");
}

// A file with one 32 x 2 Q8_0 tensor; returns the bytes and the offset of its info.
std::vector<uint8_t> one_tensor_file(size_t& info_at) {
    GgufWriter w;
    w.set("general.architecture", test::gguf_string("llama"));
    w.add_tensor("t", 8, {32, 2}, std::vector<uint8_t>(68, 1));
    auto b = w.bytes();
    info_at = 24 + 8 + 20 + 4 + 8 + 5; // key "general.architecture", type, string "llama"
    return b;
}

TEST(GgufHostile, TensorInfoErrors) {
    size_t at = 0;
    const auto good = one_tensor_file(at);
    ASSERT_TRUE(parse(good).has_value());
    const size_t dims_at = at + 8 + 1;
    const size_t ne0_at = dims_at + 4;
    const size_t type_at = ne0_at + 16;
    const size_t offset_at = type_at + 4;

    auto b = good;
    patch<uint32_t>(b, dims_at, 5);
    expect_error(b, errc::invalid_model, "tensor 0 ('t'): dimension count");
    b = good;
    patch<uint64_t>(b, ne0_at, 0);
    expect_error(b, errc::invalid_model, "dimension 0");
    b = good;
    patch<uint64_t>(b, ne0_at + 8, 1ULL << 62);
    expect_error(b, errc::invalid_model, "dimension 1");
    b = good;
    patch<uint64_t>(b, ne0_at, ~0ULL);
    expect_error(b, errc::invalid_model, "dimension 0");
    b = good;
    patch<uint32_t>(b, type_at, 4);
    expect_error(b, errc::invalid_model, "unknown tensor type id 4");
    b = good;
    patch<uint32_t>(b, type_at, 12); // Q4_K needs rows of 256
    expect_error(b, errc::invalid_model, "not a multiple of q4_K's block size 256");
    b = good;
    patch<uint64_t>(b, offset_at, 16);
    expect_error(b, errc::invalid_model, "not a multiple of the alignment");
    b = good;
    patch<uint64_t>(b, offset_at, 1ULL << 40);
    expect_error(b, errc::invalid_model, "run past the end");
    b = good;
    patch<uint64_t>(b, offset_at, ~0ULL << 5);
    expect_error(b, errc::invalid_model, "run past the end");
    b = good;
    b.resize(b.size() - 33); // the data loses its last bytes
    expect_error(b, errc::invalid_model, "run past the end");
}

TEST(GgufHostile, OverlappingAndDuplicateTensors) {
    GgufWriter w;
    w.add_tensor("a", 0, {8}, std::vector<uint8_t>(32, 0));
    w.add_tensor("b", 0, {8}, std::vector<uint8_t>(32, 0));
    auto b = w.bytes();
    // Second tensor info: header 24, then "a" info (8+1+4+8+4+8 = 33), then "b": offset field last.
    patch<uint64_t>(b, 24 + 33 + 33 - 8, 0);
    expect_error(b, errc::invalid_model, "overlaps tensor 'a'");
    b = w.bytes();
    b[24 + 33 + 8] = 'a';
    expect_error(b, errc::invalid_model, "duplicate tensor name");
}

} // namespace
} // namespace agentd::inference
