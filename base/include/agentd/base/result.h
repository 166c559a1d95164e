#pragma once
/// Errors as values across module APIs (STYLE.md 2.3).
///
/// `Error` pairs an error_code from a module's own category with a human-readable message;
/// `Result<T>` is `boost::system::result<T, Error>`. `value()` on a failed Result throws
/// `ErrorException` (through the ADL hook below), which is only acceptable on the control plane.

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <boost/system/system_error.hpp>

#include <stdexcept>
#include <string>
#include <utility>

namespace agentd::base {

/// An error code plus the message that explains this occurrence of it.
struct Error {
    boost::system::error_code code;
    std::string message;

    Error() = default;
    Error(boost::system::error_code c, std::string m) : code(c), message(std::move(m)) {}
    template <class E>
    requires boost::system::is_error_code_enum<E>::value Error(E e, std::string m)
        : code(make_error_code(e)), message(std::move(m)) {}

    /// "message" when present, else the category's text for the code.
    [[nodiscard]] std::string what() const { return message.empty() ? code.message() : message; }
};

/// Thrown by Result<T>::value() when it holds an error.
class ErrorException : public std::runtime_error {
public:
    explicit ErrorException(Error e) : std::runtime_error(e.what()), error_(std::move(e)) {}
    [[nodiscard]] const Error& error() const noexcept { return error_; }

private:
    Error error_;
};

/// ADL hook used by boost::system::result<T, Error>::value().
[[noreturn]] inline void throw_exception_from_error(const Error& e,
                                                    const boost::source_location& /*loc*/) {
    throw ErrorException(e);
}

template <class T>
using Result = boost::system::result<T, Error>;

/// Shorthand for returning a failure: `return fail(errc::x, "why");`.
template <class E>
[[nodiscard]] Error fail(E code, std::string message) {
    return Error(code, std::move(message));
}

/// Defines the glue that makes a module's `enum class errc` an error_code enum. Use at global
/// namespace: AGENTD_DECLARE_ERRC(agentd::memory::errc)
#define AGENTD_DECLARE_ERRC(EnumType)                                                              \
    template <>                                                                                    \
    struct boost::system::is_error_code_enum<EnumType> : std::true_type {}

} // namespace agentd::base

namespace agentd::base {

/// An error category whose messages come from a `describe(E)` function; each module defines one
/// for its `errc` (see e.g. agentd/memory/errc.h).
// boost::system::error_category has a protected non-virtual destructor by design (categories are
// never deleted through a base pointer), which -Wnon-virtual-dtor flags in every derived class.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
template <class E>
class EnumErrorCategory final : public boost::system::error_category {
public:
    using Describe = const char* (*)(E) noexcept;
    EnumErrorCategory(const char* name, Describe describe) noexcept
        : name_(name), describe_(describe) {}
    [[nodiscard]] const char* name() const noexcept override { return name_; }
    [[nodiscard]] std::string message(int ev) const override {
        return describe_(static_cast<E>(ev));
    }

private:
    const char* name_;
    Describe describe_;
};
#pragma GCC diagnostic pop

} // namespace agentd::base
