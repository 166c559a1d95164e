#pragma once
// String concatenation by appending (also sidesteps GCC 12's -Wrestrict false positive on
// `"literal" + std::string&&` at -O3).

#include <string>
#include <string_view>

namespace agentd::tools::util {

template <class... Parts>
[[nodiscard]] std::string str_cat(const Parts&... parts) {
    std::string out;
    out.reserve((std::string_view(parts).size() + ... + 0));
    (out.append(std::string_view(parts)), ...);
    return out;
}

/// "\"name\"".
[[nodiscard]] inline std::string in_quotes(std::string_view text) {
    return str_cat("\"", text, "\"");
}

} // namespace agentd::tools::util
