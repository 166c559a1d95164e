#include "detail/wire.h"

#include <cstring>

namespace agentd::sandbox::detail {
namespace {

constexpr std::uint32_t kRequestMagic = 0x61675251; // "agRQ"
constexpr std::uint32_t kResultMagic = 0x61675253;  // "agRS"
constexpr std::size_t kMaxString = 1ULL << 32;
constexpr std::size_t kMaxArgs = 1024;
constexpr std::size_t kMaxArgLen = 64 * 1024;

void put_limits(WireWriter& w, const Limits& l) {
    w.u32(l.wall_ms);
    w.u32(l.cpu_ms);
    w.u64(l.memory_bytes);
    w.u32(l.max_procs);
    w.u32(l.max_open_files);
    w.u64(l.max_file_bytes);
    w.u64(l.workspace_bytes);
    w.u64(l.max_output_bytes);
    w.u64(l.tmp_bytes);
}

Limits get_limits(WireReader& r) {
    Limits l;
    l.wall_ms = r.u32();
    l.cpu_ms = r.u32();
    l.memory_bytes = r.u64();
    l.max_procs = r.u32();
    l.max_open_files = r.u32();
    l.max_file_bytes = r.u64();
    l.workspace_bytes = r.u64();
    l.max_output_bytes = r.u64();
    l.tmp_bytes = r.u64();
    return l;
}

void put_opt(WireWriter& w, const std::optional<int>& v) {
    w.u8(v ? 1 : 0);
    w.u32(static_cast<std::uint32_t>(v.value_or(0)));
}

std::optional<int> get_opt(WireReader& r) {
    const bool has = r.u8() != 0;
    const auto v = static_cast<int>(r.u32());
    return has ? std::optional<int>(v) : std::nullopt;
}

} // namespace

void WireWriter::u32(std::uint32_t v) {
    char b[4];
    std::memcpy(b, &v, 4);
    buf_.append(b, 4);
}

void WireWriter::u64(std::uint64_t v) {
    char b[8];
    std::memcpy(b, &v, 8);
    buf_.append(b, 8);
}

void WireWriter::str(std::string_view s) {
    u64(s.size());
    buf_.append(s);
}

bool WireReader::take(void* out, std::size_t n) noexcept {
    if (!ok_ || data_.size() - pos_ < n) {
        ok_ = false;
        std::memset(out, 0, n);
        return false;
    }
    std::memcpy(out, data_.data() + pos_, n);
    pos_ += n;
    return true;
}

std::uint8_t WireReader::u8() noexcept {
    std::uint8_t v;
    take(&v, 1);
    return v;
}

std::uint32_t WireReader::u32() noexcept {
    std::uint32_t v;
    take(&v, 4);
    return v;
}

std::uint64_t WireReader::u64() noexcept {
    std::uint64_t v;
    take(&v, 8);
    return v;
}

std::string WireReader::str(std::size_t max_len) {
    const std::uint64_t n = u64();
    if (!ok_ || n > max_len || n > kMaxString || data_.size() - pos_ < n) {
        ok_ = false;
        return {};
    }
    std::string s(data_.substr(pos_, n));
    pos_ += n;
    return s;
}

std::string encode_request(const WireRequest& r) {
    WireWriter w;
    w.u32(kRequestMagic);
    w.u8(static_cast<std::uint8_t>(r.language));
    w.str(r.code);
    w.u32(static_cast<std::uint32_t>(r.args.size()));
    for (const auto& a : r.args) {
        w.str(a);
    }
    w.str(r.stdin_data);
    w.u8(r.stdin_from_fd ? 1 : 0);
    put_limits(w, r.limits);
    w.str(r.workspace_id);
    w.str(r.host_workspace);
    w.u8(r.warm ? 1 : 0);
    w.u32(r.required.bits());
    return w.data();
}

bool decode_request(std::string_view data, WireRequest& out) {
    WireReader r(data);
    if (r.u32() != kRequestMagic) {
        return false;
    }
    const auto lang = r.u8();
    if (lang > static_cast<std::uint8_t>(Language::bash)) {
        return false;
    }
    out.language = static_cast<Language>(lang);
    out.code = r.str(kMaxString);
    const std::uint32_t nargs = r.u32();
    if (nargs > kMaxArgs) {
        return false;
    }
    out.args.clear();
    for (std::uint32_t i = 0; i < nargs && r.ok(); ++i) {
        out.args.push_back(r.str(kMaxArgLen));
    }
    out.stdin_data = r.str(kMaxString);
    out.stdin_from_fd = r.u8() != 0;
    out.limits = get_limits(r);
    out.workspace_id = r.str(256);
    out.host_workspace = r.str(4096);
    out.warm = r.u8() != 0;
    out.required = LayerSet::from_bits(r.u32());
    return r.ok() && r.at_end();
}

std::string encode_result(const WireResult& res) {
    WireWriter w;
    const RunResult& r = res.result;
    w.u32(kResultMagic);
    w.u32(static_cast<std::uint32_t>(res.error));
    w.str(res.message);
    put_opt(w, r.exit_code);
    put_opt(w, r.signal);
    w.str(r.stdout_data);
    w.str(r.stderr_data);
    w.u64(r.stdout_bytes);
    w.u64(r.stderr_bytes);
    w.u8(static_cast<std::uint8_t>((r.stdout_truncated ? 1 : 0) | (r.stderr_truncated ? 2 : 0) |
                                   (r.timed_out ? 4 : 0) | (r.warm ? 8 : 0)));
    w.u8(static_cast<std::uint8_t>(r.limit));
    w.u64(r.wall_ms);
    w.u64(r.cpu_ms);
    w.u64(r.max_rss_kb);
    w.u32(r.isolation.bits());
    return w.data();
}

bool decode_result(std::string_view data, WireResult& out) {
    WireReader rd(data);
    if (rd.u32() != kResultMagic) {
        return false;
    }
    out.error = static_cast<errc>(rd.u32());
    out.message = rd.str(64 * 1024);
    RunResult& r = out.result;
    r.exit_code = get_opt(rd);
    r.signal = get_opt(rd);
    r.stdout_data = rd.str(kMaxString);
    r.stderr_data = rd.str(kMaxString);
    r.stdout_bytes = rd.u64();
    r.stderr_bytes = rd.u64();
    const auto flags = rd.u8();
    r.stdout_truncated = (flags & 1) != 0;
    r.stderr_truncated = (flags & 2) != 0;
    r.timed_out = (flags & 4) != 0;
    r.warm = (flags & 8) != 0;
    const auto limit = rd.u8();
    if (limit > static_cast<std::uint8_t>(LimitHit::cancelled)) {
        return false;
    }
    r.limit = static_cast<LimitHit>(limit);
    r.wall_ms = rd.u64();
    r.cpu_ms = rd.u64();
    r.max_rss_kb = rd.u64();
    r.isolation = LayerSet::from_bits(rd.u32());
    return rd.ok() && rd.at_end();
}

} // namespace agentd::sandbox::detail
