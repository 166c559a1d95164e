#pragma once
/// Parsing and validation of a GGUF image (internal to the reader; see agentd/inference/gguf.h).

#include "agentd/base/result.h"
#include "agentd/inference/gguf.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace agentd::inference {
namespace detail {

/// What a successful parse yields; every view points into the parsed image.
struct GgufContents {
    uint32_t version = 0;
    uint32_t alignment = 32;
    uint64_t data_offset = 0;
    std::vector<GgufKv> kvs;
    std::unordered_map<std::string_view, size_t> kv_index;
    std::vector<GgufTensorInfo> tensors;
    std::unordered_map<std::string_view, size_t> tensor_index;
};

} // namespace detail

/// Reads a GGUF image front to back with a bounds-checked cursor. Every failure is an
/// errc::invalid_model / errc::unsupported value naming the field and its offset.
class GgufParser {
public:
    [[nodiscard]] static base::Result<void> parse(std::span<const std::byte> image,
                                                  detail::GgufContents& out);

private:
    explicit GgufParser(std::span<const std::byte> image) : image_(image) {}

    base::Result<void> parse_header(detail::GgufContents& out, uint64_t& n_tensors, uint64_t& n_kv);
    base::Result<void> parse_metadata(detail::GgufContents& out, uint64_t n_kv);
    base::Result<void> parse_alignment(detail::GgufContents& out);
    base::Result<void> parse_tensor_infos(detail::GgufContents& out, uint64_t n_tensors);
    base::Result<void> parse_tensor_info(detail::GgufContents& out, uint64_t index);
    base::Result<void> place_tensors(detail::GgufContents& out);

    base::Result<void> read_value(GgufValue& value, GgufValueType type, int depth);
    base::Result<void> read_array(GgufValue& value, int depth);
    base::Result<GgufValueType> read_type(std::string_view field);
    base::Result<uint32_t> read_u32(std::string_view field);
    base::Result<uint64_t> read_u64(std::string_view field);
    base::Result<std::string_view> read_string(std::string_view field, uint64_t max_length);
    base::Result<void> need(uint64_t n, std::string_view field) const;
    /// Fails unless `count` items of at least `min_item_bytes` each fit in what remains.
    base::Result<void> check_count(uint64_t count, uint64_t min_item_bytes,
                                   std::string_view field) const;

    [[nodiscard]] base::Error invalid(uint64_t offset, std::string_view field,
                                      const std::string& problem) const;
    [[nodiscard]] uint64_t remaining() const noexcept { return image_.size() - pos_; }

    std::span<const std::byte> image_;
    uint64_t pos_ = 0;
    std::string context_; // the entry being parsed, e.g. "metadata entry 3 ('general.name')"
};

} // namespace agentd::inference
