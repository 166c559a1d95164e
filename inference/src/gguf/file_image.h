#pragma once
/// The bytes of a model file in memory: a read-only private mapping, or an owned page-aligned
/// buffer (read fallback and in-memory images). Internal to the GGUF reader.

#include "agentd/base/result.h"

#include <cstddef>
#include <filesystem>
#include <span>

namespace agentd::inference::detail {

/// Owns the bytes of one file image. Move-only; immutable after construction; the address of the
/// bytes never changes while the object lives (also across moves).
class FileImage {
public:
    /// Maps `path` (PROT_READ, MAP_PRIVATE) or, when `use_mmap` is false or mapping fails, reads
    /// it into an owned buffer. errc::io_error naming the path and the system error on failure.
    [[nodiscard]] static base::Result<FileImage> open(const std::filesystem::path& path,
                                                      bool use_mmap, bool prefetch);
    /// Copies `bytes` into an owned page-aligned buffer.
    [[nodiscard]] static FileImage copy_of(std::span<const std::byte> bytes);

    FileImage() = default;
    FileImage(FileImage&& other) noexcept;
    FileImage& operator=(FileImage&& other) noexcept;
    FileImage(const FileImage&) = delete;
    FileImage& operator=(const FileImage&) = delete;
    ~FileImage();

    [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return {data_, size_}; }

private:
    void release() noexcept;

    std::byte* data_ = nullptr;
    size_t size_ = 0;
    bool mapped_ = false; // munmap vs free
};

} // namespace agentd::inference::detail
