#include "http/request_id.h"

#include <cstdint>
#include <random>

namespace agentd::gateway::http {

bool is_valid_request_id(std::string_view id) noexcept {
    if (id.empty() || id.size() > 128) {
        return false;
    }
    for (char c : id) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

std::string generate_request_id() {
    thread_local std::mt19937_64 rng = [] {
        std::random_device rd;
        std::seed_seq seq{rd(), rd(), rd(), rd()};
        return std::mt19937_64(seq);
    }();
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(32, '0');
    for (int half = 0; half < 2; ++half) {
        std::uint64_t v = rng();
        for (int i = 0; i < 16; ++i) {
            out[static_cast<std::size_t>(half * 16 + i)] = kHex[v & 0xF];
            v >>= 4;
        }
    }
    return out;
}

std::string request_id_for(std::optional<std::string_view> client_id) {
    if (client_id && is_valid_request_id(*client_id)) {
        return std::string(*client_id);
    }
    return generate_request_id();
}

} // namespace agentd::gateway::http
