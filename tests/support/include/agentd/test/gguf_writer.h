#pragma once
/// Writes GGUF v3 (or v2) files for tests: arbitrary metadata (every value type, arrays of
/// arrays, raw hostile encodings) and tensors of any ggml type id, shape and raw bytes.
///
/// Independent of agentd::inference on purpose (its own encoder and its own small metadata
/// reader for `copy_metadata`), so tests cross-check the real reader against it. Not
/// thread-safe; one writer per thread. Errors (unreadable source file, malformed source
/// metadata, I/O failure) throw std::runtime_error: this is test code.

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace agentd::test {

/// GGUF metadata type tags, as stored in the file.
enum class GgufType : uint32_t {
    u8 = 0,
    i8 = 1,
    u16 = 2,
    i16 = 3,
    u32 = 4,
    i32 = 5,
    f32 = 6,
    boolean = 7,
    string = 8,
    array = 9,
    u64 = 10,
    i64 = 11,
    f64 = 12,
};

/// An encoded metadata value: its type tag and the bytes that follow the tag in the file (for an
/// array: element type, count, elements).
struct GgufEncoded {
    GgufType type;
    std::vector<uint8_t> payload;
};

/// Value factories.
GgufEncoded gguf_u8(uint8_t v);
GgufEncoded gguf_i8(int8_t v);
GgufEncoded gguf_u16(uint16_t v);
GgufEncoded gguf_i16(int16_t v);
GgufEncoded gguf_u32(uint32_t v);
GgufEncoded gguf_i32(int32_t v);
GgufEncoded gguf_u64(uint64_t v);
GgufEncoded gguf_i64(int64_t v);
GgufEncoded gguf_f32(float v);
GgufEncoded gguf_f64(double v);
GgufEncoded gguf_bool(bool v);
GgufEncoded gguf_string(std::string_view v);
GgufEncoded gguf_strings(const std::vector<std::string>& v);
/// An array of numbers; T is one of the fixed-size C++ types matching a GGUF scalar type.
template <class T>
GgufEncoded gguf_array(std::span<const T> v);
template <class T>
GgufEncoded gguf_array(const std::vector<T>& v) {
    return gguf_array<T>(std::span<const T>(v));
}
/// An array whose elements are the given values; all must have the same type (for nested
/// arrays: all arrays). Throws std::invalid_argument otherwise.
GgufEncoded gguf_array_of(const std::vector<GgufEncoded>& elements);

/// Builds one GGUF file in memory or on disk.
class GgufWriter {
public:
    /// GGUF version written in the header (default 3).
    GgufWriter& set_version(uint32_t version);
    /// Data alignment; also stored as `general.alignment` (u32) when it differs from 32.
    GgufWriter& set_alignment(uint32_t alignment);

    /// Sets `key` (replacing an earlier value in place, else appending).
    GgufWriter& set(std::string key, GgufEncoded value);
    GgufWriter& remove(std::string_view key);

    /// Copies every metadata entry of the GGUF file `path` whose key starts with `prefix`,
    /// verbatim and in file order (e.g. a vocab file's "tokenizer." keys).
    GgufWriter& copy_metadata(const std::filesystem::path& path, std::string_view prefix);

    /// Appends a tensor: ggml type id, ggml-order shape (ne[0] = row length) and its raw bytes
    /// (written as given; their size is not checked, so hostile files can be made).
    GgufWriter& add_tensor(std::string name, uint32_t ggml_type, std::vector<int64_t> ne,
                           std::vector<uint8_t> data);
    /// Convenience: an F32 tensor (ggml type 0).
    GgufWriter& add_tensor_f32(std::string name, std::vector<int64_t> ne,
                               std::span<const float> values);

    /// The file image.
    [[nodiscard]] std::vector<uint8_t> bytes() const;
    /// Writes the file (streamed; large tensors are not copied again).
    void write(const std::filesystem::path& path) const;

    /// Absolute file offset where the data section starts in the written image.
    [[nodiscard]] uint64_t data_offset() const;

private:
    struct Kv {
        std::string key;
        GgufEncoded value;
    };
    struct Tensor {
        std::string name;
        uint32_t type;
        std::vector<int64_t> ne;
        std::vector<uint8_t> data;
    };
    template <class Sink>
    void emit(Sink&& sink) const;
    [[nodiscard]] std::vector<uint8_t> header_bytes() const;

    uint32_t version_ = 3;
    uint32_t alignment_ = 32;
    std::vector<Kv> kvs_;
    std::vector<Tensor> tensors_;
};

} // namespace agentd::test
