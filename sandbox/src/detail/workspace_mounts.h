#pragma once
// The zygote's half of managed workspaces: one tmpfs of the requested size per id, mounted
// under the workspace root in the zygote's private mount namespace (invisible on the host),
// owned by the sandbox user. Handles the "WSC"/"WSR" control messages (zygote.h).

#include "detail/context.h"

#include <set>
#include <string>

namespace agentd::sandbox::detail {

class WorkspaceMounts {
public:
    explicit WorkspaceMounts(Context& ctx) : ctx_(ctx) {}
    /// Handles one control message and answers on `reply`.
    void handle(const std::string& msg, int reply);
    /// Unmounts every workspace (zygote shutdown).
    void remove_all() noexcept;

private:
    void create(const std::string& id, std::uint64_t bytes, int reply);
    void remove(const std::string& id, int reply);

    Context& ctx_;
    std::set<std::string> ids_;
};

} // namespace agentd::sandbox::detail
