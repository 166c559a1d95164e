#include "gguf/gguf_parser.h"

#include "agentd/inference/errc.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace agentd::inference {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the GGUF reader decodes little-endian files in place");

constexpr uint32_t kMagic = 0x46554747; // "GGUF" read as a little-endian uint32
constexpr uint32_t kMinVersion = 2;
constexpr uint32_t kMaxVersion = 3;
constexpr uint32_t kDefaultAlignment = 32;
constexpr uint32_t kMaxAlignment = 1U << 30;
constexpr uint64_t kMaxKeyLength = 65535;
constexpr uint64_t kMaxTensorNameLength = 1024;
constexpr uint64_t kMaxStringLength = 1ULL << 30;
constexpr uint32_t kMaxDims = 4;
constexpr int kMaxArrayDepth = 8;

// Smallest encodings, used to bound counts by the bytes left before allocating anything.
constexpr uint64_t kMinKvBytes = 8 + 1 + 4 + 1; // key length, 1-byte key, type, 1-byte value
constexpr uint64_t kMinTensorBytes = 8 + 1 + 4 + 4 + 8; // name length, name, n_dims, type, offset
constexpr uint64_t kMinStringBytes = 8;
constexpr uint64_t kMinArrayBytes = 4 + 8;

std::string quoted(std::string_view s) {
    std::string out = "'";
    for (const char c : s.substr(0, 80)) {
        const auto u = static_cast<unsigned char>(c);
        out += (u >= 0x20 && u < 0x7f) ? c : '?';
    }
    return out + (s.size() > 80 ? "...'" : "'");
}

bool is_power_of_two(uint64_t v) {
    return v != 0 && (v & (v - 1)) == 0;
}

} // namespace

base::Result<void> GgufParser::parse(std::span<const std::byte> image, detail::GgufContents& out) {
    GgufParser p(image);
    uint64_t n_tensors = 0;
    uint64_t n_kv = 0;
    if (auto r = p.parse_header(out, n_tensors, n_kv); !r) {
        return r;
    }
    if (auto r = p.parse_metadata(out, n_kv); !r) {
        return r;
    }
    if (auto r = p.parse_alignment(out); !r) {
        return r;
    }
    if (auto r = p.parse_tensor_infos(out, n_tensors); !r) {
        return r;
    }
    return p.place_tensors(out);
}

base::Error GgufParser::invalid(uint64_t offset, std::string_view field,
                                const std::string& problem) const {
    std::string msg = "invalid GGUF: ";
    if (!context_.empty()) {
        msg += context_ + ": ";
    }
    msg += std::string(field) + " at offset " + std::to_string(offset) + ": " + problem;
    return base::fail(errc::invalid_model, std::move(msg));
}

base::Result<void> GgufParser::need(uint64_t n, std::string_view field) const {
    if (n > remaining()) {
        return invalid(pos_, field,
                       "file truncated (needs " + std::to_string(n) + " bytes, " +
                           std::to_string(remaining()) + " remain)");
    }
    return {};
}

base::Result<void> GgufParser::check_count(uint64_t count, uint64_t min_item_bytes,
                                           std::string_view field) const {
    if (count > remaining() / min_item_bytes) {
        return invalid(pos_, field,
                       "count " + std::to_string(count) + " cannot fit in the " +
                           std::to_string(remaining()) + " bytes that remain");
    }
    return {};
}

base::Result<uint32_t> GgufParser::read_u32(std::string_view field) {
    if (auto r = need(4, field); !r) {
        return r.error();
    }
    uint32_t v = 0;
    std::memcpy(&v, image_.data() + pos_, 4);
    pos_ += 4;
    return v;
}

base::Result<uint64_t> GgufParser::read_u64(std::string_view field) {
    if (auto r = need(8, field); !r) {
        return r.error();
    }
    uint64_t v = 0;
    std::memcpy(&v, image_.data() + pos_, 8);
    pos_ += 8;
    return v;
}

base::Result<GgufValueType> GgufParser::read_type(std::string_view field) {
    const uint64_t at = pos_;
    auto raw = read_u32(field);
    if (!raw) {
        return raw.error();
    }
    if (*raw > static_cast<uint32_t>(GgufValueType::float64)) {
        return invalid(at, field, "unknown value type " + std::to_string(*raw));
    }
    return static_cast<GgufValueType>(*raw);
}

base::Result<std::string_view> GgufParser::read_string(std::string_view field,
                                                       uint64_t max_length) {
    const uint64_t at = pos_;
    auto len = read_u64(field);
    if (!len) {
        return len.error();
    }
    if (*len > max_length) {
        return invalid(at, field,
                       "string length " + std::to_string(*len) + " exceeds the limit of " +
                           std::to_string(max_length));
    }
    if (auto r = need(*len, field); !r) {
        return r.error();
    }
    const auto* p = reinterpret_cast<const char*>(image_.data() + pos_);
    pos_ += *len;
    return std::string_view(p, static_cast<size_t>(*len));
}

base::Result<void> GgufParser::parse_header(detail::GgufContents& out, uint64_t& n_tensors,
                                            uint64_t& n_kv) {
    if (image_.size() < 4) {
        return invalid(0, "magic",
                       "file is " + std::to_string(image_.size()) + " bytes, too short to be GGUF");
    }
    auto magic = read_u32("magic");
    if (*magic != kMagic) {
        return invalid(0, "magic", "not a GGUF file (first bytes are not 'GGUF')");
    }
    auto version = read_u32("version");
    if (!version) {
        return version.error();
    }
    if ((*version & 0xFFFFU) == 0 && *version != 0) {
        return base::fail(errc::unsupported, "unsupported GGUF: version field at offset 4 reads " +
                                                 std::to_string(*version) + ": a big-endian file");
    }
    if (*version == 0 || *version > kMaxVersion) {
        return base::fail(errc::unsupported, "unsupported GGUF: version " +
                                                 std::to_string(*version) +
                                                 " at offset 4 (supported: 2 and 3)");
    }
    if (*version < kMinVersion) {
        return base::fail(errc::unsupported,
                          "unsupported GGUF: version 1 at offset 4 (convert it to v3)");
    }
    out.version = *version;
    auto tensors = read_u64("tensor count");
    if (!tensors) {
        return tensors.error();
    }
    auto kvs = read_u64("metadata count");
    if (!kvs) {
        return kvs.error();
    }
    if (*kvs > remaining() / kMinKvBytes) {
        return invalid(16, "metadata count",
                       std::to_string(*kvs) + " entries cannot fit in the " +
                           std::to_string(remaining()) + " bytes that remain");
    }
    n_tensors = *tensors; // bounded after the metadata, against the bytes left then
    n_kv = *kvs;
    return {};
}

base::Result<void> GgufParser::parse_metadata(detail::GgufContents& out, uint64_t n_kv) {
    out.kvs.reserve(static_cast<size_t>(n_kv));
    out.kv_index.reserve(static_cast<size_t>(n_kv));
    for (uint64_t i = 0; i < n_kv; ++i) {
        context_ = "metadata entry " + std::to_string(i);
        const uint64_t at = pos_;
        auto key = read_string("key", kMaxKeyLength);
        if (!key) {
            return key.error();
        }
        if (key->empty()) {
            return invalid(at, "key", "empty key");
        }
        context_ += " (" + quoted(*key) + ")";
        if (out.kv_index.contains(*key)) {
            return invalid(at, "key", "duplicate key");
        }
        auto type = read_type("value type");
        if (!type) {
            return type.error();
        }
        GgufKv kv;
        kv.key = *key;
        kv.offset = at;
        if (auto r = read_value(kv.value, *type, 0); !r) {
            return r;
        }
        out.kv_index.emplace(kv.key, out.kvs.size());
        out.kvs.push_back(std::move(kv));
    }
    context_.clear();
    return {};
}

base::Result<void> GgufParser::read_value(GgufValue& value, GgufValueType type, int depth) {
    value.type_ = type;
    if (type == GgufValueType::string) {
        auto s = read_string("string value", kMaxStringLength);
        if (!s) {
            return s.error();
        }
        value.string_ = *s;
        return {};
    }
    if (type == GgufValueType::array) {
        return read_array(value, depth);
    }
    const uint32_t size = gguf_value_type_size(type);
    if (auto r = need(size, "value"); !r) {
        return r;
    }
    value.data_ = image_.data() + pos_;
    value.bytes_ = size;
    pos_ += size;
    return {};
}

base::Result<void> GgufParser::read_array(GgufValue& value, int depth) {
    if (depth >= kMaxArrayDepth) {
        return invalid(pos_, "array",
                       "arrays nested deeper than " + std::to_string(kMaxArrayDepth) + " levels");
    }
    auto elem = read_type("array element type");
    if (!elem) {
        return elem.error();
    }
    auto count = read_u64("array length");
    if (!count) {
        return count.error();
    }
    value.element_type_ = *elem;
    value.count_ = *count;
    if (*elem == GgufValueType::string) {
        if (auto r = check_count(*count, kMinStringBytes, "array length"); !r) {
            return r;
        }
        value.strings_.reserve(static_cast<size_t>(*count));
        for (uint64_t i = 0; i < *count; ++i) {
            auto s = read_string("array string", kMaxStringLength);
            if (!s) {
                return s.error();
            }
            value.strings_.push_back(*s);
        }
        return {};
    }
    if (*elem == GgufValueType::array) {
        if (auto r = check_count(*count, kMinArrayBytes, "array length"); !r) {
            return r;
        }
        value.children_.resize(static_cast<size_t>(*count));
        for (auto& child : value.children_) {
            if (auto r = read_value(child, GgufValueType::array, depth + 1); !r) {
                return r;
            }
        }
        return {};
    }
    const uint32_t size = gguf_value_type_size(*elem);
    if (auto r = check_count(*count, size, "array length"); !r) {
        return r;
    }
    value.data_ = image_.data() + pos_;
    value.bytes_ = static_cast<size_t>(*count * size);
    pos_ += *count * size;
    return {};
}

base::Result<void> GgufParser::parse_alignment(detail::GgufContents& out) {
    out.alignment = kDefaultAlignment;
    const auto it = out.kv_index.find("general.alignment");
    if (it == out.kv_index.end()) {
        return {};
    }
    const GgufKv& kv = out.kvs[it->second];
    auto v = kv.value.as<uint32_t>();
    if (!v) {
        return invalid(kv.offset, "general.alignment", v.error().message);
    }
    if (!is_power_of_two(*v) || *v > kMaxAlignment) {
        return invalid(kv.offset, "general.alignment",
                       std::to_string(*v) + " is not a power of two up to 2^30");
    }
    out.alignment = *v;
    return {};
}

base::Result<void> GgufParser::parse_tensor_infos(detail::GgufContents& out, uint64_t n_tensors) {
    if (n_tensors > remaining() / kMinTensorBytes) {
        return invalid(8, "tensor count",
                       std::to_string(n_tensors) + " tensors cannot fit in the " +
                           std::to_string(remaining()) + " bytes after the metadata");
    }
    out.tensors.reserve(static_cast<size_t>(n_tensors));
    out.tensor_index.reserve(static_cast<size_t>(n_tensors));
    for (uint64_t i = 0; i < n_tensors; ++i) {
        if (auto r = parse_tensor_info(out, i); !r) {
            return r;
        }
    }
    context_.clear();
    return {};
}

base::Result<void> GgufParser::parse_tensor_info(detail::GgufContents& out, uint64_t index) {
    context_ = "tensor " + std::to_string(index);
    const uint64_t at = pos_;
    auto name = read_string("name", kMaxTensorNameLength);
    if (!name) {
        return name.error();
    }
    if (name->empty()) {
        return invalid(at, "name", "empty tensor name");
    }
    context_ += " (" + quoted(*name) + ")";
    if (out.tensor_index.contains(*name)) {
        return invalid(at, "name", "duplicate tensor name");
    }
    GgufTensorInfo t;
    t.name = *name;
    const uint64_t dims_at = pos_;
    auto n_dims = read_u32("dimension count");
    if (!n_dims) {
        return n_dims.error();
    }
    if (*n_dims > kMaxDims) {
        return invalid(dims_at, "dimension count", std::to_string(*n_dims) + " exceeds 4");
    }
    t.n_dims = *n_dims;
    uint64_t n_elements = 1;
    for (uint32_t d = 0; d < *n_dims; ++d) {
        const uint64_t dim_at = pos_;
        auto ne = read_u64("dimension " + std::to_string(d));
        if (!ne) {
            return ne.error();
        }
        if (*ne == 0 || *ne > static_cast<uint64_t>(INT64_MAX) ||
            __builtin_mul_overflow(n_elements, *ne, &n_elements) ||
            n_elements > static_cast<uint64_t>(INT64_MAX)) {
            return invalid(dim_at, "dimension " + std::to_string(d),
                           "size " + std::to_string(*ne) +
                               " is zero or makes the element count overflow");
        }
        t.ne[d] = static_cast<int64_t>(*ne);
    }
    t.n_elements = n_elements;
    const uint64_t type_at = pos_;
    auto type_id = read_u32("type");
    if (!type_id) {
        return type_id.error();
    }
    const auto info = ggml_type_info(*type_id);
    if (!info) {
        return invalid(type_at, "type", "unknown tensor type id " + std::to_string(*type_id));
    }
    t.type = info->type;
    const auto row = ggml_row_bytes(t.type, t.ne[0]);
    if (!row) {
        return invalid(type_at, "type",
                       "row of " + std::to_string(t.ne[0]) + " elements is not a multiple of " +
                           std::string(info->name) + "'s block size " +
                           std::to_string(info->block_size));
    }
    t.row_bytes = *row;
    if (__builtin_mul_overflow(t.row_bytes, t.n_rows(), &t.n_bytes)) {
        return invalid(type_at, "type", "tensor size in bytes overflows");
    }
    auto offset = read_u64("data offset");
    if (!offset) {
        return offset.error();
    }
    t.offset = *offset;
    out.tensor_index.emplace(t.name, out.tensors.size());
    out.tensors.push_back(t);
    return {};
}

base::Result<void> GgufParser::place_tensors(detail::GgufContents& out) {
    const uint64_t size = image_.size();
    const uint64_t align = out.alignment;
    const uint64_t data_offset = (pos_ + align - 1) / align * align; // pos_ <= size < 2^63
    if (out.tensors.empty()) {
        out.data_offset = std::min(data_offset, size);
        return {};
    }
    if (data_offset > size) {
        return invalid(pos_, "data section", "file truncated before the aligned data section");
    }
    out.data_offset = data_offset;
    const uint64_t data_size = size - data_offset;
    std::vector<size_t> order(out.tensors.size());
    for (size_t i = 0; i < order.size(); ++i) {
        GgufTensorInfo& t = out.tensors[i];
        order[i] = i;
        context_ = "tensor " + std::to_string(i) + " (" + quoted(t.name) + ")";
        if (t.offset % align != 0) {
            return invalid(data_offset, "data offset",
                           std::to_string(t.offset) + " is not a multiple of the alignment " +
                               std::to_string(align));
        }
        if (t.offset > data_size || t.n_bytes > data_size - t.offset) {
            return invalid(data_offset + std::min(t.offset, data_size), "data",
                           std::to_string(t.n_bytes) + " bytes at data offset " +
                               std::to_string(t.offset) + " run past the end of the file (" +
                               std::to_string(data_size) + " data bytes)");
        }
        t.data = image_.subspan(static_cast<size_t>(data_offset + t.offset),
                                static_cast<size_t>(t.n_bytes));
    }
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return out.tensors[a].offset < out.tensors[b].offset; });
    for (size_t k = 1; k < order.size(); ++k) {
        const GgufTensorInfo& prev = out.tensors[order[k - 1]];
        const GgufTensorInfo& cur = out.tensors[order[k]];
        if (cur.offset < prev.offset + prev.n_bytes) {
            context_ = "tensor " + std::to_string(order[k]) + " (" + quoted(cur.name) + ")";
            return invalid(data_offset + cur.offset, "data",
                           "overlaps tensor " + quoted(prev.name));
        }
    }
    context_.clear();
    return {};
}

} // namespace agentd::inference
