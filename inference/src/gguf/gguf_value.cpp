#include "agentd/base/check.h"
#include "agentd/inference/errc.h"
#include "agentd/inference/gguf.h"

#include <cstring>
#include <limits>
#include <string>

namespace agentd::inference {
namespace {

// One decoded scalar: integers keep their signedness so range checks are exact.
struct Scalar {
    enum class Kind { unsigned_int, signed_int, floating, boolean } kind;
    uint64_t u = 0;
    int64_t i = 0;
    double f = 0;
};

template <class T>
T load(const std::byte* p) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

Scalar decode(GgufValueType type, const std::byte* p) {
    using K = Scalar::Kind;
    switch (type) {
    case GgufValueType::uint8:
        return {K::unsigned_int, load<uint8_t>(p)};
    case GgufValueType::uint16:
        return {K::unsigned_int, load<uint16_t>(p)};
    case GgufValueType::uint32:
        return {K::unsigned_int, load<uint32_t>(p)};
    case GgufValueType::uint64:
        return {K::unsigned_int, load<uint64_t>(p)};
    case GgufValueType::int8:
        return {K::signed_int, 0, load<int8_t>(p)};
    case GgufValueType::int16:
        return {K::signed_int, 0, load<int16_t>(p)};
    case GgufValueType::int32:
        return {K::signed_int, 0, load<int32_t>(p)};
    case GgufValueType::int64:
        return {K::signed_int, 0, load<int64_t>(p)};
    case GgufValueType::float32:
        return {K::floating, 0, 0, load<float>(p)};
    case GgufValueType::float64:
        return {K::floating, 0, 0, load<double>(p)};
    case GgufValueType::boolean:
        return {K::boolean, load<uint8_t>(p) != 0 ? 1U : 0U};
    case GgufValueType::string:
    case GgufValueType::array:
        break;
    }
    AGENTD_UNREACHABLE("decode is only called for fixed-size scalar types");
}

template <class T>
constexpr std::string_view wanted_name() {
    if constexpr (std::is_same_v<T, bool>) {
        return "bool";
    } else if constexpr (std::is_same_v<T, std::string_view>) {
        return "str";
    } else if constexpr (std::is_floating_point_v<T>) {
        return sizeof(T) == 4 ? "f32" : "f64";
    } else {
        constexpr std::string_view names[2][4] = {{"u8", "u16", "u32", "u64"},
                                                  {"i8", "i16", "i32", "i64"}};
        constexpr int log2 = sizeof(T) == 1 ? 0 : sizeof(T) == 2 ? 1 : sizeof(T) == 4 ? 2 : 3;
        return names[std::is_signed_v<T> ? 1 : 0][log2];
    }
}

base::Error type_mismatch(GgufValueType have, std::string_view want) {
    return base::fail(errc::invalid_model, "has type " + std::string(gguf_value_type_name(have)) +
                                               ", expected " + std::string(want));
}

template <class T>
base::Result<T> convert(const Scalar& s, GgufValueType type) {
    using K = Scalar::Kind;
    if constexpr (std::is_same_v<T, bool>) {
        if (s.kind == K::boolean) {
            return s.u != 0;
        }
    } else if constexpr (std::is_floating_point_v<T>) {
        if (s.kind == K::floating) {
            return static_cast<T>(s.f);
        }
    } else if constexpr (std::is_integral_v<T>) {
        using Lim = std::numeric_limits<T>;
        if (s.kind == K::unsigned_int) {
            if (s.u <= static_cast<uint64_t>(Lim::max())) {
                return static_cast<T>(s.u);
            }
            return base::fail(errc::invalid_model, "value " + std::to_string(s.u) +
                                                       " does not fit " +
                                                       std::string(wanted_name<T>()));
        }
        if (s.kind == K::signed_int) {
            const bool fits =
                std::is_signed_v<T>
                    ? (s.i >= static_cast<int64_t>(Lim::min()) &&
                       s.i <= static_cast<int64_t>(Lim::max()))
                    : (s.i >= 0 && static_cast<uint64_t>(s.i) <= static_cast<uint64_t>(Lim::max()));
            if (fits) {
                return static_cast<T>(s.i);
            }
            return base::fail(errc::invalid_model, "value " + std::to_string(s.i) +
                                                       " does not fit " +
                                                       std::string(wanted_name<T>()));
        }
    }
    return type_mismatch(type, wanted_name<T>());
}

} // namespace

template <GgufScalar T>
base::Result<T> GgufValue::as() const {
    if constexpr (std::is_same_v<T, std::string_view>) {
        if (type_ == GgufValueType::string) {
            return string_;
        }
        return type_mismatch(type_, "str");
    } else {
        if (type_ == GgufValueType::string || type_ == GgufValueType::array) {
            return type_mismatch(type_, wanted_name<T>());
        }
        return convert<T>(decode(type_, data_), type_);
    }
}

template <GgufScalar T>
base::Result<std::vector<T>> GgufValue::as_vector() const {
    if (type_ != GgufValueType::array) {
        return type_mismatch(type_, "arr[" + std::string(wanted_name<T>()) + "]");
    }
    std::vector<T> out;
    if constexpr (std::is_same_v<T, std::string_view>) {
        if (element_type_ != GgufValueType::string) {
            return type_mismatch(element_type_, "str (array elements)");
        }
        out.assign(strings_.begin(), strings_.end());
    } else {
        if (element_type_ == GgufValueType::string || element_type_ == GgufValueType::array) {
            return base::fail(errc::invalid_model,
                              "array elements have type " +
                                  std::string(gguf_value_type_name(element_type_)) + ", expected " +
                                  std::string(wanted_name<T>()));
        }
        const uint32_t size = gguf_value_type_size(element_type_);
        out.resize(static_cast<size_t>(count_));
        if constexpr (!std::is_same_v<T, bool>) {
            if (wanted_name<T>() == gguf_value_type_name(element_type_) && sizeof(T) == size) {
                std::memcpy(out.data(), data_, bytes_); // same encoding: one copy
                return out;
            }
        }
        for (size_t i = 0; i < out.size(); ++i) {
            auto v = convert<T>(decode(element_type_, data_ + i * size), element_type_);
            if (!v) {
                return base::fail(errc::invalid_model,
                                  "array element " + std::to_string(i) + ": " + v.error().message);
            }
            out[i] = *v;
        }
    }
    return out;
}

base::Result<GgufValue> GgufValue::at(uint64_t i) const {
    if (type_ != GgufValueType::array) {
        return type_mismatch(type_, "arr");
    }
    if (i >= count_) {
        return base::fail(errc::invalid_model, "array index " + std::to_string(i) +
                                                   " out of range (size " + std::to_string(count_) +
                                                   ")");
    }
    if (element_type_ == GgufValueType::array) {
        return children_[static_cast<size_t>(i)];
    }
    GgufValue v;
    v.type_ = element_type_;
    if (element_type_ == GgufValueType::string) {
        v.string_ = strings_[static_cast<size_t>(i)];
        return v;
    }
    const uint32_t size = gguf_value_type_size(element_type_);
    v.data_ = data_ + static_cast<size_t>(i) * size;
    v.bytes_ = size;
    return v;
}

#define AGENTD_GGUF_INSTANTIATE(T)                                                                 \
    template base::Result<T> GgufValue::as<T>() const;                                             \
    template base::Result<std::vector<T>> GgufValue::as_vector<T>() const;
AGENTD_GGUF_INSTANTIATE(bool)
AGENTD_GGUF_INSTANTIATE(std::string_view)
AGENTD_GGUF_INSTANTIATE(float)
AGENTD_GGUF_INSTANTIATE(double)
AGENTD_GGUF_INSTANTIATE(uint8_t)
AGENTD_GGUF_INSTANTIATE(int8_t)
AGENTD_GGUF_INSTANTIATE(uint16_t)
AGENTD_GGUF_INSTANTIATE(int16_t)
AGENTD_GGUF_INSTANTIATE(uint32_t)
AGENTD_GGUF_INSTANTIATE(int32_t)
AGENTD_GGUF_INSTANTIATE(uint64_t)
AGENTD_GGUF_INSTANTIATE(int64_t)
#undef AGENTD_GGUF_INSTANTIATE

} // namespace agentd::inference
