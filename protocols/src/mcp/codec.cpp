#include "mcp/codec.h"

#include <cstring>

namespace agentd::protocols::mcp::detail {
namespace {

constexpr char kStd[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int decode_char(char c, bool url_safe) {
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == (url_safe ? '-' : '+')) {
        return 62;
    }
    if (c == (url_safe ? '_' : '/')) {
        return 63;
    }
    return -1;
}

// ---- SHA-256 (FIPS 180-4) ----

constexpr std::uint32_t kK[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

constexpr std::uint32_t rotr(std::uint32_t x, int n) {
    return (x >> n) | (x << (32 - n));
}

void sha256_block(std::uint32_t state[8], const std::uint8_t block[64]) {
    std::uint32_t w[64];
    for (int i = 0; i < 16; ++i) {
        w[i] = (std::uint32_t{block[4 * i]} << 24) | (std::uint32_t{block[4 * i + 1]} << 16) |
               (std::uint32_t{block[4 * i + 2]} << 8) | std::uint32_t{block[4 * i + 3]};
    }
    for (int i = 16; i < 64; ++i) {
        const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    std::uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    std::uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (int i = 0; i < 64; ++i) {
        const std::uint32_t s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        const std::uint32_t ch = (e & f) ^ (~e & g);
        const std::uint32_t t1 = h + s1 + ch + kK[i] + w[i];
        const std::uint32_t s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        const std::uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        const std::uint32_t t2 = s0 + maj;
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
    state[5] += f;
    state[6] += g;
    state[7] += h;
}

std::string digest_bytes(const Sha256Digest& d) {
    return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

} // namespace

std::string base64_encode(std::string_view bytes, bool url_safe) {
    const char* alphabet = url_safe ? kUrl : kStd;
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const std::uint32_t n = (std::uint32_t{static_cast<std::uint8_t>(bytes[i])} << 16) |
                                (std::uint32_t{static_cast<std::uint8_t>(bytes[i + 1])} << 8) |
                                std::uint32_t{static_cast<std::uint8_t>(bytes[i + 2])};
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += alphabet[(n >> 6) & 63];
        out += alphabet[n & 63];
    }
    const std::size_t rest = bytes.size() - i;
    if (rest > 0) {
        std::uint32_t n = std::uint32_t{static_cast<std::uint8_t>(bytes[i])} << 16;
        if (rest == 2) {
            n |= std::uint32_t{static_cast<std::uint8_t>(bytes[i + 1])} << 8;
        }
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        if (rest == 2) {
            out += alphabet[(n >> 6) & 63];
        }
        if (!url_safe) {
            out.append(rest == 1 ? "==" : "=");
        }
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text, bool url_safe) {
    if (!url_safe) {
        if (text.size() % 4 != 0) {
            return std::nullopt;
        }
        std::size_t pad = 0;
        while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') {
            ++pad;
        }
        text.remove_suffix(pad);
    }
    if (text.size() % 4 == 1) {
        return std::nullopt;
    }
    std::string out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (const char c : text) {
        const int v = decode_char(c, url_safe);
        if (v < 0) {
            return std::nullopt;
        }
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    // Leftover bits must be zero: otherwise two encodings would decode to the same bytes.
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
        return std::nullopt;
    }
    return out;
}

Sha256Digest sha256(std::string_view data) {
    std::uint32_t state[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                              0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    const auto* p = reinterpret_cast<const std::uint8_t*>(data.data());
    std::size_t n = data.size();
    while (n >= 64) {
        sha256_block(state, p);
        p += 64;
        n -= 64;
    }
    std::uint8_t tail[128] = {};
    std::memcpy(tail, p, n);
    tail[n] = 0x80;
    const std::size_t tail_len = n < 56 ? 64 : 128;
    const std::uint64_t bit_len = static_cast<std::uint64_t>(data.size()) * 8;
    for (int i = 0; i < 8; ++i) {
        tail[tail_len - 1 - i] = static_cast<std::uint8_t>(bit_len >> (8 * i));
    }
    sha256_block(state, tail);
    if (tail_len == 128) {
        sha256_block(state, tail + 64);
    }
    Sha256Digest out{};
    for (int i = 0; i < 8; ++i) {
        out[4 * i] = static_cast<std::uint8_t>(state[i] >> 24);
        out[4 * i + 1] = static_cast<std::uint8_t>(state[i] >> 16);
        out[4 * i + 2] = static_cast<std::uint8_t>(state[i] >> 8);
        out[4 * i + 3] = static_cast<std::uint8_t>(state[i]);
    }
    return out;
}

Sha256Digest hmac_sha256(std::string_view key, std::string_view message) {
    std::string k(key);
    if (k.size() > 64) {
        k = digest_bytes(sha256(k));
    }
    k.resize(64, '\0');
    std::string inner(64, '\0');
    std::string outer(64, '\0');
    for (std::size_t i = 0; i < 64; ++i) {
        inner[i] = static_cast<char>(k[i] ^ 0x36);
        outer[i] = static_cast<char>(k[i] ^ 0x5c);
    }
    inner.append(message);
    outer.append(digest_bytes(sha256(inner)));
    return sha256(outer);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    }
    return diff == 0;
}

std::string encode_cursor(std::string_view kind, std::string_view last_key) {
    std::string raw;
    raw.reserve(kind.size() + 1 + last_key.size());
    raw.append(kind).append(1, '\n').append(last_key);
    return base64_encode(raw, /*url_safe=*/true);
}

std::optional<std::string> decode_cursor(std::string_view kind, std::string_view cursor) {
    auto raw = base64_decode(cursor, /*url_safe=*/true);
    if (!raw || raw->size() <= kind.size() || raw->compare(0, kind.size(), kind) != 0 ||
        (*raw)[kind.size()] != '\n') {
        return std::nullopt;
    }
    return raw->substr(kind.size() + 1);
}

namespace {

std::string state_mac(std::string_view key, std::string_view binding, std::string_view body) {
    std::string message;
    message.reserve(binding.size() + 1 + body.size());
    message.append(binding).append(1, '\0').append(body);
    return digest_bytes(hmac_sha256(key, message));
}

} // namespace

std::string seal_state(std::string_view key, std::string_view binding, std::int64_t expires_unix_s,
                       std::string_view state) {
    std::string body = std::to_string(expires_unix_s);
    body.append(1, ':').append(state);
    const std::string mac = state_mac(key, binding, body);
    return "s1." + base64_encode(body, true) + "." + base64_encode(mac, true);
}

std::optional<std::string> open_state(std::string_view key, std::string_view binding,
                                      std::int64_t now_unix_s, std::string_view sealed) {
    if (sealed.substr(0, 3) != "s1.") {
        return std::nullopt;
    }
    sealed.remove_prefix(3);
    const auto dot = sealed.find('.');
    if (dot == std::string_view::npos) {
        return std::nullopt;
    }
    auto body = base64_decode(sealed.substr(0, dot), true);
    auto mac = base64_decode(sealed.substr(dot + 1), true);
    if (!body || !mac || !constant_time_equal(*mac, state_mac(key, binding, *body))) {
        return std::nullopt;
    }
    const auto colon = body->find(':');
    if (colon == std::string::npos || colon == 0 || colon > 19) {
        return std::nullopt;
    }
    std::int64_t expires = 0;
    for (std::size_t i = 0; i < colon; ++i) {
        const char c = (*body)[i];
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        expires = expires * 10 + (c - '0');
    }
    if (now_unix_s > expires) {
        return std::nullopt;
    }
    return body->substr(colon + 1);
}

} // namespace agentd::protocols::mcp::detail
