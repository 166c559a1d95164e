#include "agentd/sandbox/run.h"

namespace agentd::sandbox {

std::string_view to_string(Language l) noexcept {
    return l == Language::python ? "python" : "bash";
}

std::optional<Language> parse_language(std::string_view name) noexcept {
    if (name == "python") {
        return Language::python;
    }
    if (name == "bash") {
        return Language::bash;
    }
    return std::nullopt;
}

std::string_view to_string(LimitHit l) noexcept {
    switch (l) {
    case LimitHit::none:
        return "none";
    case LimitHit::wall:
        return "wall";
    case LimitHit::cpu:
        return "cpu";
    case LimitHit::memory:
        return "memory";
    case LimitHit::file_size:
        return "file_size";
    case LimitHit::cancelled:
        return "cancelled";
    }
    return "none";
}

} // namespace agentd::sandbox
