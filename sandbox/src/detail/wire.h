#pragma once
// Binary encoding of run requests and results exchanged through a run's memfd (agentd writes
// the request, the monitor overwrites it with the result). Both sides are our code, but the
// reader still bounds every length: a corrupt file yields an error, never a crash.

#include "agentd/sandbox/errc.h"
#include "agentd/sandbox/run.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace agentd::sandbox::detail {

class WireWriter {
public:
    void u8(std::uint8_t v) { buf_.push_back(static_cast<char>(v)); }
    void u32(std::uint32_t v);
    void u64(std::uint64_t v);
    void str(std::string_view s);
    [[nodiscard]] const std::string& data() const noexcept { return buf_; }

private:
    std::string buf_;
};

class WireReader {
public:
    explicit WireReader(std::string_view data) noexcept : data_(data) {}
    std::uint8_t u8() noexcept;
    std::uint32_t u32() noexcept;
    std::uint64_t u64() noexcept;
    std::string str(std::size_t max_len);
    [[nodiscard]] bool ok() const noexcept { return ok_; }
    [[nodiscard]] bool at_end() const noexcept { return pos_ == data_.size(); }

private:
    bool take(void* out, std::size_t n) noexcept;
    std::string_view data_;
    std::size_t pos_ = 0;
    bool ok_ = true;
};

/// What the monitor needs from a RunRequest (after validation and defaults).
struct WireRequest {
    Language language = Language::python;
    std::string code;
    std::vector<std::string> args;
    std::string stdin_data;
    bool stdin_from_fd = false;
    Limits limits;
    std::string workspace_id;
    std::string host_workspace;
    bool warm = false;
    LayerSet required;
};

/// What the monitor reports: a result, or the reason the sandbox itself failed.
struct WireResult {
    errc error = errc{};
    std::string message;
    RunResult result;
};

std::string encode_request(const WireRequest& r);
bool decode_request(std::string_view data, WireRequest& out);
std::string encode_result(const WireResult& r);
bool decode_result(std::string_view data, WireResult& out);

} // namespace agentd::sandbox::detail
