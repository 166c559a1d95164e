#pragma once
// Incremental detection of where a JSON value ends in a character stream (without building it),
// so tool-call arguments can be streamed while they arrive.

#include <cstddef>
#include <cstdint>

namespace agentd::inference::toolcall {

class JsonScanner {
public:
    enum class Result : std::uint8_t {
        consumed,     ///< the character belongs to the value
        done,         ///< the character completed the value (and belongs to it)
        ended_before, ///< the value (a number or literal) ended before this character
        error,        ///< the character cannot start or continue a JSON value
    };

    Result feed(char c) {
        if (!started_) {
            started_ = true;
            if (c == '{' || c == '[') {
                depth_ = 1;
                return Result::consumed;
            }
            if (c == '"') {
                in_string_ = true;
                return Result::consumed;
            }
            if ((c >= '0' && c <= '9') || c == '-' || c == 't' || c == 'f' || c == 'n') {
                scalar_ = true;
                return Result::consumed;
            }
            return Result::error;
        }
        if (in_string_) {
            if (escape_) {
                escape_ = false;
            } else if (c == '\\') {
                escape_ = true;
            } else if (c == '"') {
                in_string_ = false;
                if (depth_ == 0) {
                    return Result::done;
                }
            }
            return Result::consumed;
        }
        if (scalar_) {
            bool part = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '.' || c == '+' ||
                        c == '-' || c == 'E';
            return part ? Result::consumed : Result::ended_before;
        }
        if (c == '"') {
            in_string_ = true;
        } else if (c == '{' || c == '[') {
            if (++depth_ > kMaxDepth) {
                return Result::error;
            }
        } else if (c == '}' || c == ']') {
            if (--depth_ == 0) {
                return Result::done;
            }
        }
        return Result::consumed;
    }

    [[nodiscard]] bool started() const { return started_; }
    /// A scalar value may end at the end of the input (nothing more will come).
    [[nodiscard]] bool complete_at_end() const { return scalar_; }
    [[nodiscard]] bool is_string() const { return in_string_ && depth_ == 0; }
    void reset() { *this = JsonScanner(); }

private:
    static constexpr int kMaxDepth = 512;
    int depth_ = 0;
    bool started_ = false;
    bool in_string_ = false;
    bool escape_ = false;
    bool scalar_ = false;
};

} // namespace agentd::inference::toolcall
