#include "agentd/test/gguf_writer.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace agentd::test {
namespace {

template <class T>
void put(std::vector<uint8_t>& out, T v) {
    const size_t at = out.size();
    out.resize(at + sizeof(T));
    std::memcpy(out.data() + at, &v, sizeof(T));
}

void put_string(std::vector<uint8_t>& out, std::string_view s) {
    put<uint64_t>(out, s.size());
    const size_t at = out.size();
    out.resize(at + s.size());
    if (!s.empty()) {
        std::memcpy(out.data() + at, s.data(), s.size());
    }
}

template <class T>
GgufEncoded scalar(GgufType type, T v) {
    GgufEncoded e{type, {}};
    put(e.payload, v);
    return e;
}

template <class T>
constexpr GgufType type_of() {
    if constexpr (std::is_same_v<T, uint8_t>) {
        return GgufType::u8;
    } else if constexpr (std::is_same_v<T, int8_t>) {
        return GgufType::i8;
    } else if constexpr (std::is_same_v<T, uint16_t>) {
        return GgufType::u16;
    } else if constexpr (std::is_same_v<T, int16_t>) {
        return GgufType::i16;
    } else if constexpr (std::is_same_v<T, uint32_t>) {
        return GgufType::u32;
    } else if constexpr (std::is_same_v<T, int32_t>) {
        return GgufType::i32;
    } else if constexpr (std::is_same_v<T, uint64_t>) {
        return GgufType::u64;
    } else if constexpr (std::is_same_v<T, int64_t>) {
        return GgufType::i64;
    } else if constexpr (std::is_same_v<T, float>) {
        return GgufType::f32;
    } else if constexpr (std::is_same_v<T, double>) {
        return GgufType::f64;
    } else {
        static_assert(std::is_same_v<T, bool>, "not a GGUF scalar type");
        return GgufType::boolean;
    }
}

uint64_t pad_to(uint64_t n, uint64_t align) {
    return (n + align - 1) / align * align;
}

// A bounds-checked reader for copy_metadata: enough of GGUF to skip over values.
struct Reader {
    const std::vector<uint8_t>& b;
    size_t pos = 0;
    void need(uint64_t n) const {
        if (n > b.size() - pos) {
            throw std::runtime_error("gguf_writer: source file truncated at offset " +
                                     std::to_string(pos));
        }
    }
    template <class T>
    T get() {
        need(sizeof(T));
        T v;
        std::memcpy(&v, b.data() + pos, sizeof(T));
        pos += sizeof(T);
        return v;
    }
    std::string string() {
        const auto n = get<uint64_t>();
        need(n);
        std::string s(reinterpret_cast<const char*>(b.data() + pos), n);
        pos += n;
        return s;
    }
    void skip_value(uint32_t type, int depth) {
        static constexpr uint32_t sizes[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
        if (type == 8) {
            string();
        } else if (type == 9) {
            if (depth > 8) {
                throw std::runtime_error("gguf_writer: arrays nested too deep");
            }
            const auto elem = get<uint32_t>();
            const auto count = get<uint64_t>();
            if (elem != 8 && elem != 9 && elem < 13) {
                if (count > (b.size() - pos) / sizes[elem]) {
                    throw std::runtime_error("gguf_writer: array runs past the end of the file");
                }
                pos += count * sizes[elem];
                return;
            }
            for (uint64_t i = 0; i < count; ++i) {
                skip_value(elem, depth + 1);
            }
        } else if (type < 13) {
            need(sizes[type]);
            pos += sizes[type];
        } else {
            throw std::runtime_error("gguf_writer: unknown value type " + std::to_string(type));
        }
    }
};

} // namespace

GgufEncoded gguf_u8(uint8_t v) {
    return scalar(GgufType::u8, v);
}
GgufEncoded gguf_i8(int8_t v) {
    return scalar(GgufType::i8, v);
}
GgufEncoded gguf_u16(uint16_t v) {
    return scalar(GgufType::u16, v);
}
GgufEncoded gguf_i16(int16_t v) {
    return scalar(GgufType::i16, v);
}
GgufEncoded gguf_u32(uint32_t v) {
    return scalar(GgufType::u32, v);
}
GgufEncoded gguf_i32(int32_t v) {
    return scalar(GgufType::i32, v);
}
GgufEncoded gguf_u64(uint64_t v) {
    return scalar(GgufType::u64, v);
}
GgufEncoded gguf_i64(int64_t v) {
    return scalar(GgufType::i64, v);
}
GgufEncoded gguf_f32(float v) {
    return scalar(GgufType::f32, v);
}
GgufEncoded gguf_f64(double v) {
    return scalar(GgufType::f64, v);
}
GgufEncoded gguf_bool(bool v) {
    return scalar(GgufType::boolean, static_cast<uint8_t>(v));
}

GgufEncoded gguf_string(std::string_view v) {
    GgufEncoded e{GgufType::string, {}};
    put_string(e.payload, v);
    return e;
}

GgufEncoded gguf_strings(const std::vector<std::string>& v) {
    GgufEncoded e{GgufType::array, {}};
    put<uint32_t>(e.payload, static_cast<uint32_t>(GgufType::string));
    put<uint64_t>(e.payload, v.size());
    for (const auto& s : v) {
        put_string(e.payload, s);
    }
    return e;
}

template <class T>
GgufEncoded gguf_array(std::span<const T> v) {
    GgufEncoded e{GgufType::array, {}};
    put<uint32_t>(e.payload, static_cast<uint32_t>(type_of<T>()));
    put<uint64_t>(e.payload, v.size());
    for (const T& x : v) {
        if constexpr (std::is_same_v<T, bool>) {
            put<uint8_t>(e.payload, x ? 1 : 0);
        } else {
            put<T>(e.payload, x);
        }
    }
    return e;
}
template GgufEncoded gguf_array<uint8_t>(std::span<const uint8_t>);
template GgufEncoded gguf_array<int8_t>(std::span<const int8_t>);
template GgufEncoded gguf_array<uint16_t>(std::span<const uint16_t>);
template GgufEncoded gguf_array<int16_t>(std::span<const int16_t>);
template GgufEncoded gguf_array<uint32_t>(std::span<const uint32_t>);
template GgufEncoded gguf_array<int32_t>(std::span<const int32_t>);
template GgufEncoded gguf_array<uint64_t>(std::span<const uint64_t>);
template GgufEncoded gguf_array<int64_t>(std::span<const int64_t>);
template GgufEncoded gguf_array<float>(std::span<const float>);
template GgufEncoded gguf_array<double>(std::span<const double>);

GgufEncoded gguf_array_of(const std::vector<GgufEncoded>& elements) {
    GgufEncoded e{GgufType::array, {}};
    const GgufType elem = elements.empty() ? GgufType::u8 : elements.front().type;
    put<uint32_t>(e.payload, static_cast<uint32_t>(elem));
    put<uint64_t>(e.payload, elements.size());
    for (const auto& x : elements) {
        if (x.type != elem) {
            throw std::invalid_argument("gguf_array_of: elements of different types");
        }
        e.payload.insert(e.payload.end(), x.payload.begin(), x.payload.end());
    }
    return e;
}

GgufWriter& GgufWriter::set_version(uint32_t version) {
    version_ = version;
    return *this;
}

GgufWriter& GgufWriter::set_alignment(uint32_t alignment) {
    alignment_ = alignment;
    if (alignment == 32) {
        return remove("general.alignment");
    }
    return set("general.alignment", gguf_u32(alignment));
}

GgufWriter& GgufWriter::set(std::string key, GgufEncoded value) {
    for (auto& kv : kvs_) {
        if (kv.key == key) {
            kv.value = std::move(value);
            return *this;
        }
    }
    kvs_.push_back({std::move(key), std::move(value)});
    return *this;
}

GgufWriter& GgufWriter::remove(std::string_view key) {
    std::erase_if(kvs_, [&](const Kv& kv) { return kv.key == key; });
    return *this;
}

GgufWriter& GgufWriter::copy_metadata(const std::filesystem::path& path, std::string_view prefix) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("gguf_writer: cannot open " + path.string());
    }
    const std::vector<uint8_t> b((std::istreambuf_iterator<char>(in)),
                                 std::istreambuf_iterator<char>());
    Reader r{b};
    if (r.get<uint32_t>() != 0x46554747) {
        throw std::runtime_error("gguf_writer: not a GGUF file: " + path.string());
    }
    r.get<uint32_t>(); // version
    r.get<uint64_t>(); // tensor count
    const auto n_kv = r.get<uint64_t>();
    for (uint64_t i = 0; i < n_kv; ++i) {
        std::string key = r.string();
        const auto type = r.get<uint32_t>();
        const size_t start = r.pos;
        r.skip_value(type, 0);
        if (key.starts_with(prefix)) {
            set(std::move(key),
                GgufEncoded{static_cast<GgufType>(type),
                            std::vector<uint8_t>(b.begin() + start, b.begin() + r.pos)});
        }
    }
    return *this;
}

GgufWriter& GgufWriter::add_tensor(std::string name, uint32_t ggml_type, std::vector<int64_t> ne,
                                   std::vector<uint8_t> data) {
    tensors_.push_back({std::move(name), ggml_type, std::move(ne), std::move(data)});
    return *this;
}

GgufWriter& GgufWriter::add_tensor_f32(std::string name, std::vector<int64_t> ne,
                                       std::span<const float> values) {
    std::vector<uint8_t> data(values.size_bytes());
    std::memcpy(data.data(), values.data(), data.size());
    return add_tensor(std::move(name), 0, std::move(ne), std::move(data));
}

std::vector<uint8_t> GgufWriter::header_bytes() const {
    std::vector<uint8_t> h;
    put<uint32_t>(h, 0x46554747);
    put<uint32_t>(h, version_);
    put<uint64_t>(h, tensors_.size());
    put<uint64_t>(h, kvs_.size());
    for (const auto& kv : kvs_) {
        put_string(h, kv.key);
        put<uint32_t>(h, static_cast<uint32_t>(kv.value.type));
        h.insert(h.end(), kv.value.payload.begin(), kv.value.payload.end());
    }
    uint64_t offset = 0;
    for (const auto& t : tensors_) {
        put_string(h, t.name);
        put<uint32_t>(h, static_cast<uint32_t>(t.ne.size()));
        for (const int64_t d : t.ne) {
            put<int64_t>(h, d);
        }
        put<uint32_t>(h, t.type);
        put<uint64_t>(h, offset);
        offset += pad_to(t.data.size(), alignment_);
    }
    if (!tensors_.empty()) {
        h.resize(pad_to(h.size(), alignment_), 0);
    }
    return h;
}

uint64_t GgufWriter::data_offset() const {
    return header_bytes().size();
}

template <class Sink>
void GgufWriter::emit(Sink&& sink) const {
    const std::vector<uint8_t> header = header_bytes();
    sink(header.data(), header.size());
    const std::vector<uint8_t> zeros(alignment_, 0);
    for (const auto& t : tensors_) {
        sink(t.data.data(), t.data.size());
        sink(zeros.data(), pad_to(t.data.size(), alignment_) - t.data.size());
    }
}

std::vector<uint8_t> GgufWriter::bytes() const {
    std::vector<uint8_t> out;
    emit([&](const uint8_t* p, size_t n) { out.insert(out.end(), p, p + n); });
    return out;
}

void GgufWriter::write(const std::filesystem::path& path) const {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) {
        throw std::runtime_error("gguf_writer: cannot create " + path.string());
    }
    emit([&](const uint8_t* p, size_t n) {
        out.write(reinterpret_cast<const char*>(p), static_cast<std::streamsize>(n));
    });
    out.close();
    if (!out) {
        throw std::runtime_error("gguf_writer: cannot write " + path.string());
    }
}

} // namespace agentd::test
