#pragma once
// Validation of workspace ids and workspace-relative paths (shared by agentd and the zygote).

#include <string_view>

namespace agentd::sandbox::detail {

/// 1-64 of [A-Za-z0-9_.-], not "." or "..": safe as one path component and inside JSON.
inline bool valid_workspace_id(std::string_view id) noexcept {
    if (id.empty() || id.size() > 64 || id == "." || id == "..") {
        return false;
    }
    for (char c : id) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

} // namespace agentd::sandbox::detail
