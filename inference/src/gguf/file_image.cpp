#include "gguf/file_image.h"

#include "agentd/inference/errc.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <utility>

namespace agentd::inference::detail {
namespace {

constexpr size_t kBufferAlignment = 4096;

// A file descriptor closed on scope exit.
struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

base::Error io_error(const std::filesystem::path& path, const char* what, int err) {
    return base::fail(errc::io_error, "cannot " + std::string(what) + " " + path.string() + ": " +
                                          std::strerror(err));
}

std::byte* allocate_aligned(size_t size) {
    const size_t rounded = (size + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
    void* p = std::aligned_alloc(kBufferAlignment, rounded == 0 ? kBufferAlignment : rounded);
    if (p == nullptr) {
        throw std::bad_alloc();
    }
    return static_cast<std::byte*>(p);
}

} // namespace

base::Result<FileImage> FileImage::open(const std::filesystem::path& path, bool use_mmap,
                                        bool prefetch) {
    Fd fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (fd.fd < 0) {
        return io_error(path, "open", errno);
    }
    struct stat st {};
    if (::fstat(fd.fd, &st) != 0) {
        return io_error(path, "stat", errno);
    }
    if (!S_ISREG(st.st_mode)) {
        return base::fail(errc::io_error, "cannot read " + path.string() + ": not a regular file");
    }
    const auto size = static_cast<size_t>(st.st_size);
    FileImage image;
    if (size == 0) {
        return image; // the parser reports the empty file with its own message
    }
    if (use_mmap) {
        void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.fd, 0);
        if (p != MAP_FAILED) {
            if (prefetch) {
                ::madvise(p, size, MADV_WILLNEED); // advisory: failure changes nothing
            }
            image.data_ = static_cast<std::byte*>(p);
            image.size_ = size;
            image.mapped_ = true;
            return image;
        }
    }
    image.data_ = allocate_aligned(size);
    image.size_ = size;
    size_t done = 0;
    while (done < size) {
        const ssize_t n = ::pread(fd.fd, image.data_ + done, size - done, static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return io_error(path, "read", errno);
        }
        if (n == 0) {
            return base::fail(errc::io_error,
                              "cannot read " + path.string() + ": file shrank while reading");
        }
        done += static_cast<size_t>(n);
    }
    return image;
}

FileImage FileImage::copy_of(std::span<const std::byte> bytes) {
    FileImage image;
    if (bytes.empty()) {
        return image;
    }
    image.data_ = allocate_aligned(bytes.size());
    image.size_ = bytes.size();
    std::memcpy(image.data_, bytes.data(), bytes.size());
    return image;
}

FileImage::FileImage(FileImage&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)),
      mapped_(std::exchange(other.mapped_, false)) {}

FileImage& FileImage::operator=(FileImage&& other) noexcept {
    if (this != &other) {
        release();
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        mapped_ = std::exchange(other.mapped_, false);
    }
    return *this;
}

FileImage::~FileImage() {
    release();
}

void FileImage::release() noexcept {
    if (data_ == nullptr) {
        return;
    }
    if (mapped_) {
        ::munmap(data_, size_);
    } else {
        std::free(data_);
    }
    data_ = nullptr;
    size_ = 0;
}

} // namespace agentd::inference::detail
