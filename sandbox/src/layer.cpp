#include "agentd/sandbox/layer.h"

namespace agentd::sandbox {
namespace {

constexpr std::string_view kNames[kLayerCount] = {
    "userns",   "pidns",         "netns",        "mountns",      "ipcns",          "utsns",
    "cgroupns", "pivot_root",    "no_new_privs", "caps_dropped", "nonroot_uid",    "seccomp",
    "rlimits",  "cgroup_memory", "cgroup_pids",  "fds_closed",   "workspace_quota"};

} // namespace

std::string_view to_string(Layer layer) noexcept {
    const auto i = static_cast<int>(layer);
    return i >= 0 && i < kLayerCount ? kNames[i] : std::string_view("unknown");
}

std::optional<Layer> parse_layer(std::string_view name) noexcept {
    for (int i = 0; i < kLayerCount; ++i) {
        if (kNames[i] == name) {
            return static_cast<Layer>(i);
        }
    }
    return std::nullopt;
}

std::vector<std::string> LayerSet::names() const {
    std::vector<std::string> out;
    for (int i = 0; i < kLayerCount; ++i) {
        if (contains(static_cast<Layer>(i))) {
            out.emplace_back(kNames[i]);
        }
    }
    return out;
}

std::optional<LayerSet> parse_layer_list(std::string_view list) {
    LayerSet set;
    while (!list.empty()) {
        const auto comma = list.find(',');
        const auto item = list.substr(0, comma);
        if (!item.empty()) {
            const auto layer = parse_layer(item);
            if (!layer) {
                return std::nullopt;
            }
            set.insert(*layer);
        }
        if (comma == std::string_view::npos) {
            break;
        }
        list.remove_prefix(comma + 1);
    }
    return set;
}

} // namespace agentd::sandbox
