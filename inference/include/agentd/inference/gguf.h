#pragma once
/// GGUF model files (versions 2 and 3): header, metadata and tensor directory.
///
/// `GgufFile::open` maps the file read-only (or reads it into memory) and validates every count,
/// offset, size, alignment, dimension, type and string length before using it. A truncated,
/// corrupt or hostile file yields `errc::invalid_model` (or `errc::unsupported` for a valid file
/// of a kind we refuse, e.g. GGUF v1 or big-endian) with a message naming the field and its byte
/// offset; it never crashes, and nothing it allocates exceeds a small multiple of the file size.
///
/// Ownership: a `GgufFile` owns its mapping. Every `GgufValue`, string view and tensor data span
/// obtained from it points into that mapping and stays valid while the `GgufFile` lives (moving
/// the `GgufFile` keeps them valid). Thread affinity: immutable after `open`; all const member
/// functions are safe to call from any thread concurrently.

#include "agentd/base/result.h"
#include "agentd/inference/errc.h"
#include "agentd/inference/gguf_types.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

namespace agentd::inference {

/// Types a metadata value can be read as with `GgufValue::as<T>()`.
template <class T>
concept GgufScalar =
    std::is_same_v<T, bool> || std::is_same_v<T, std::string_view> || std::is_same_v<T, float> ||
    std::is_same_v<T, double> || std::is_same_v<T, uint8_t> || std::is_same_v<T, int8_t> ||
    std::is_same_v<T, uint16_t> || std::is_same_v<T, int16_t> || std::is_same_v<T, uint32_t> ||
    std::is_same_v<T, int32_t> || std::is_same_v<T, uint64_t> || std::is_same_v<T, int64_t>;

/// One metadata value: a scalar, a string, or an array (of scalars, strings or arrays).
///
/// Conversions in `as<T>()` are checked: an integer type accepts any GGUF integer type whose
/// value fits T (out of range is an error, never a wrap-around); float/double accept f32 and
/// f64; bool accepts only bool; string_view only string. Errors are `errc::invalid_model` with
/// a message naming the actual and requested types (callers prefix the key; `GgufFile::get`
/// does).
class GgufValue {
public:
    GgufValue() = default;

    [[nodiscard]] GgufValueType type() const noexcept { return type_; }
    [[nodiscard]] bool is_array() const noexcept { return type_ == GgufValueType::array; }

    /// The scalar (or string) value converted to T.
    template <GgufScalar T>
    [[nodiscard]] base::Result<T> as() const;

    /// Arrays: the type of the elements and their number (0 for non-arrays).
    [[nodiscard]] GgufValueType element_type() const noexcept { return element_type_; }
    [[nodiscard]] uint64_t size() const noexcept { return count_; }

    /// Arrays of numbers or bools: every element converted to T with the rules of `as<T>()`.
    /// Fails for other element types or when an element does not fit.
    template <GgufScalar T>
    [[nodiscard]] base::Result<std::vector<T>> as_vector() const;

    /// Arrays of strings: the elements (empty span for any other value).
    [[nodiscard]] std::span<const std::string_view> strings() const noexcept { return strings_; }

    /// Arrays of arrays: the elements (empty span for any other value).
    [[nodiscard]] std::span<const GgufValue> arrays() const noexcept { return children_; }

    /// Element `i` of an array as a value (scalars, strings and arrays alike); error when this is
    /// not an array or `i` is out of range.
    [[nodiscard]] base::Result<GgufValue> at(uint64_t i) const;

    /// The encoded little-endian bytes of a scalar or of a numeric array's packed elements (not
    /// necessarily aligned: read with memcpy). Empty for strings and arrays of strings/arrays.
    [[nodiscard]] std::span<const std::byte> raw() const noexcept { return {data_, bytes_}; }

private:
    friend class GgufParser;

    GgufValueType type_ = GgufValueType::uint8;
    GgufValueType element_type_ = GgufValueType::uint8;
    uint64_t count_ = 0;
    const std::byte* data_ = nullptr;
    size_t bytes_ = 0;
    std::string_view string_;
    std::vector<std::string_view> strings_;
    std::vector<GgufValue> children_;
};

/// One metadata entry, in file order.
struct GgufKv {
    std::string_view key;
    GgufValue value;
    uint64_t offset = 0; ///< byte offset of the entry (its key) in the file
};

/// One tensor of the directory. `ne` is in ggml order: ne[0] is the contiguous dimension (the
/// length of a row); unused trailing dimensions are 1.
struct GgufTensorInfo {
    std::string_view name;
    GgmlType type = GgmlType::f32;
    uint32_t n_dims = 0;
    std::array<int64_t, 4> ne{1, 1, 1, 1};
    uint64_t offset = 0;     ///< relative to the data section (multiple of the alignment)
    uint64_t n_elements = 0; ///< product of ne (at least 1)
    uint64_t n_bytes = 0;    ///< size of the data in bytes
    uint64_t row_bytes = 0;  ///< bytes of one row of ne[0] elements
    /// The tensor's bytes inside the mapping; aligned to min(alignment, page size).
    std::span<const std::byte> data;

    [[nodiscard]] uint64_t n_rows() const noexcept {
        return n_elements / static_cast<uint64_t>(ne[0]);
    }
};

/// How to bring the file into memory.
struct GgufOpenOptions {
    bool use_mmap = true;  ///< false: read the whole file into an owned, aligned buffer
    bool prefetch = false; ///< ask the kernel to read the mapping ahead (MADV_WILLNEED)
};

/// A parsed GGUF file. See the header comment for ownership, threading and error behaviour.
class GgufFile {
public:
    /// Opens and validates `path`. errc::io_error when it cannot be opened, mapped or read;
    /// errc::invalid_model / errc::unsupported for bad contents (message names field and offset).
    [[nodiscard]] static base::Result<GgufFile> open(const std::filesystem::path& path,
                                                     GgufOpenOptions options = {});

    /// Parses a file image held in memory (the bytes are copied into an aligned buffer). Same
    /// validation and errors as `open`; used by tests and the fuzz target.
    [[nodiscard]] static base::Result<GgufFile> from_memory(std::span<const std::byte> bytes);

    GgufFile(GgufFile&&) noexcept;
    GgufFile& operator=(GgufFile&&) noexcept;
    GgufFile(const GgufFile&) = delete;
    GgufFile& operator=(const GgufFile&) = delete;
    ~GgufFile();

    [[nodiscard]] uint32_t version() const noexcept;
    [[nodiscard]] uint64_t file_size() const noexcept;
    /// Alignment of the data section and of every tensor offset (`general.alignment`, default 32).
    [[nodiscard]] uint32_t alignment() const noexcept;
    /// Absolute file offset of the data section (== file size when there are no tensors).
    [[nodiscard]] uint64_t data_offset() const noexcept;

    /// All metadata entries in file order.
    [[nodiscard]] std::span<const GgufKv> metadata() const noexcept;
    /// The value of `key`, or nullptr when absent.
    [[nodiscard]] const GgufValue* find(std::string_view key) const noexcept;

    /// The value of a required key converted to T; errc::invalid_model naming the key when it is
    /// missing or has an incompatible type.
    template <GgufScalar T>
    [[nodiscard]] base::Result<T> get(std::string_view key) const;
    /// Like `get`, but a missing key gives nullopt (a present key of the wrong type is an error).
    template <GgufScalar T>
    [[nodiscard]] base::Result<std::optional<T>> get_optional(std::string_view key) const;
    /// A required array key's elements converted to T (see `GgufValue::as_vector`).
    template <GgufScalar T>
    [[nodiscard]] base::Result<std::vector<T>> get_vector(std::string_view key) const;
    /// A required array-of-strings key; error when missing or of another type.
    [[nodiscard]] base::Result<std::span<const std::string_view>>
    get_strings(std::string_view key) const;

    /// All tensors in file order.
    [[nodiscard]] std::span<const GgufTensorInfo> tensors() const noexcept;
    /// The tensor called `name`, or nullptr.
    [[nodiscard]] const GgufTensorInfo* find_tensor(std::string_view name) const noexcept;
    /// The tensor called `name`; errc::invalid_model naming it when absent.
    [[nodiscard]] base::Result<const GgufTensorInfo*> tensor(std::string_view name) const;

    /// The whole file image.
    [[nodiscard]] std::span<const std::byte> bytes() const noexcept;

private:
    struct Impl;
    explicit GgufFile(std::unique_ptr<Impl> impl) noexcept;
    std::unique_ptr<Impl> impl_;
};

} // namespace agentd::inference
