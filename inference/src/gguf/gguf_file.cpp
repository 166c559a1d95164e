#include "agentd/inference/gguf.h"

#include "gguf/file_image.h"
#include "gguf/gguf_parser.h"

#include <string>

namespace agentd::inference {

struct GgufFile::Impl {
    detail::FileImage image;
    detail::GgufContents contents;
};

namespace {

base::Error with_key(std::string_view key, const base::Error& e) {
    return base::Error(e.code, "metadata key '" + std::string(key) + "': " + e.message);
}

} // namespace

GgufFile::GgufFile(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
GgufFile::GgufFile(GgufFile&&) noexcept = default;
GgufFile& GgufFile::operator=(GgufFile&&) noexcept = default;
GgufFile::~GgufFile() = default;

base::Result<GgufFile> GgufFile::open(const std::filesystem::path& path, GgufOpenOptions options) {
    auto image = detail::FileImage::open(path, options.use_mmap, options.prefetch);
    if (!image) {
        return image.error();
    }
    auto impl = std::make_unique<Impl>();
    impl->image = std::move(*image);
    if (auto r = GgufParser::parse(impl->image.bytes(), impl->contents); !r) {
        return base::Error(r.error().code, path.filename().string() + ": " + r.error().message);
    }
    return GgufFile(std::move(impl));
}

base::Result<GgufFile> GgufFile::from_memory(std::span<const std::byte> bytes) {
    auto impl = std::make_unique<Impl>();
    impl->image = detail::FileImage::copy_of(bytes);
    if (auto r = GgufParser::parse(impl->image.bytes(), impl->contents); !r) {
        return r.error();
    }
    return GgufFile(std::move(impl));
}

uint32_t GgufFile::version() const noexcept {
    return impl_->contents.version;
}
uint64_t GgufFile::file_size() const noexcept {
    return impl_->image.bytes().size();
}
uint32_t GgufFile::alignment() const noexcept {
    return impl_->contents.alignment;
}
uint64_t GgufFile::data_offset() const noexcept {
    return impl_->contents.data_offset;
}
std::span<const std::byte> GgufFile::bytes() const noexcept {
    return impl_->image.bytes();
}

std::span<const GgufKv> GgufFile::metadata() const noexcept {
    return impl_->contents.kvs;
}

const GgufValue* GgufFile::find(std::string_view key) const noexcept {
    const auto& c = impl_->contents;
    const auto it = c.kv_index.find(key);
    return it == c.kv_index.end() ? nullptr : &c.kvs[it->second].value;
}

template <GgufScalar T>
base::Result<T> GgufFile::get(std::string_view key) const {
    const GgufValue* v = find(key);
    if (v == nullptr) {
        return base::fail(errc::invalid_model,
                          "metadata key '" + std::string(key) + "' is missing");
    }
    auto r = v->as<T>();
    if (!r) {
        return with_key(key, r.error());
    }
    return r;
}

template <GgufScalar T>
base::Result<std::optional<T>> GgufFile::get_optional(std::string_view key) const {
    const GgufValue* v = find(key);
    if (v == nullptr) {
        return std::optional<T>();
    }
    auto r = v->as<T>();
    if (!r) {
        return with_key(key, r.error());
    }
    return std::optional<T>(*r);
}

template <GgufScalar T>
base::Result<std::vector<T>> GgufFile::get_vector(std::string_view key) const {
    const GgufValue* v = find(key);
    if (v == nullptr) {
        return base::fail(errc::invalid_model,
                          "metadata key '" + std::string(key) + "' is missing");
    }
    auto r = v->as_vector<T>();
    if (!r) {
        return with_key(key, r.error());
    }
    return r;
}

base::Result<std::span<const std::string_view>> GgufFile::get_strings(std::string_view key) const {
    const GgufValue* v = find(key);
    if (v == nullptr) {
        return base::fail(errc::invalid_model,
                          "metadata key '" + std::string(key) + "' is missing");
    }
    if (!v->is_array() || v->element_type() != GgufValueType::string) {
        const std::string have =
            v->is_array() ? "arr[" + std::string(gguf_value_type_name(v->element_type())) + "]"
                          : std::string(gguf_value_type_name(v->type()));
        return base::fail(errc::invalid_model, "metadata key '" + std::string(key) +
                                                   "': has type " + have + ", expected arr[str]");
    }
    return v->strings();
}

std::span<const GgufTensorInfo> GgufFile::tensors() const noexcept {
    return impl_->contents.tensors;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const noexcept {
    const auto& c = impl_->contents;
    const auto it = c.tensor_index.find(name);
    return it == c.tensor_index.end() ? nullptr : &c.tensors[it->second];
}

base::Result<const GgufTensorInfo*> GgufFile::tensor(std::string_view name) const {
    const GgufTensorInfo* t = find_tensor(name);
    if (t == nullptr) {
        return base::fail(errc::invalid_model, "tensor '" + std::string(name) + "' is missing");
    }
    return t;
}

#define AGENTD_GGUF_INSTANTIATE(T)                                                                 \
    template base::Result<T> GgufFile::get<T>(std::string_view) const;                             \
    template base::Result<std::optional<T>> GgufFile::get_optional<T>(std::string_view) const;     \
    template base::Result<std::vector<T>> GgufFile::get_vector<T>(std::string_view) const;
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
