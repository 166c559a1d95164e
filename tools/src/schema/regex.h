#pragma once
// ECMA-262-flavoured regular expressions on PCRE2 (UTF mode), compiled once with bounded size and
// matched with bounded backtracking so a hostile pattern cannot hang a validation.

#include "agentd/base/result.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace agentd::tools::schema {

struct RegexLimits {
    std::size_t max_pattern_length = 4096;
    std::uint32_t match_limit = 1'000'000;
    std::uint32_t depth_limit = 250'000;
};

/// A compiled pattern. Immutable; search() is thread-safe.
class Regex {
public:
    enum class Match { yes, no, limit_exceeded, bad_subject };

    /// Compiles `pattern`; the error message says what is wrong and where (character offset).
    [[nodiscard]] static base::Result<std::unique_ptr<Regex>> compile(std::string_view pattern,
                                                                      const RegexLimits& limits);
    ~Regex();
    Regex(const Regex&) = delete;
    Regex& operator=(const Regex&) = delete;

    /// Unanchored search (JSON Schema patterns match anywhere unless anchored with ^ / $).
    [[nodiscard]] Match search(std::string_view subject) const;
    [[nodiscard]] const std::string& source() const { return source_; }

private:
    struct Handles;
    Regex(std::string source, std::unique_ptr<Handles> handles);
    std::string source_;
    std::unique_ptr<Handles> handles_;
};

} // namespace agentd::tools::schema
