#pragma once
/// Isolation layers and sets of them: what a run's result reports as actually applied, and what
/// a configuration may demand. Plain value types; thread-compatible.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::sandbox {

/// One protection the sandbox applies. Each is verified for every run (read back from the
/// kernel's view of the sandboxed process), never assumed; docs/SANDBOX.md says how.
enum class Layer : std::uint8_t {
    userns,          ///< own user namespace; the program's uid maps to an unprivileged host uid
    pidns,           ///< own PID namespace; host processes invisible; killed as one on exit
    netns,           ///< own network namespace (no interfaces up: no network at all)
    mountns,         ///< own mount namespace
    ipcns,           ///< own System V IPC / POSIX mqueue namespace
    utsns,           ///< own hostname
    cgroupns,        ///< own cgroup namespace (its cgroup appears as the root)
    pivot_root,      ///< private root file system (tmpfs + read-only binds), host root detached
    no_new_privs,    ///< PR_SET_NO_NEW_PRIVS: exec can never raise privileges
    caps_dropped,    ///< every capability set empty (effective, permitted, bounding, ambient)
    nonroot_uid,     ///< runs as a non-root host uid (e.g. 65534) even when agentd is root
    seccomp,         ///< seccomp allowlist filter with argument checks is installed
    rlimits,         ///< CPU, address space, files, processes, file size and core limits
    cgroup_memory,   ///< per-run memory cgroup limit (v1 or v2)
    cgroup_pids,     ///< per-run pids cgroup limit (v1 or v2)
    fds_closed,      ///< no inherited file descriptors beyond stdin/stdout/stderr
    workspace_quota, ///< the writable workspace has a kernel-enforced size cap (tmpfs)
};

inline constexpr int kLayerCount = static_cast<int>(Layer::workspace_quota) + 1;

/// The stable name of a layer ("userns", "seccomp", ...), as used in JSON and configuration.
std::string_view to_string(Layer layer) noexcept;

/// Parses a layer name; nullopt when unknown.
std::optional<Layer> parse_layer(std::string_view name) noexcept;

/// A small set of layers.
class LayerSet {
public:
    constexpr LayerSet() = default;

    constexpr void insert(Layer l) noexcept { bits_ |= bit(l); }
    constexpr void erase(Layer l) noexcept { bits_ &= ~bit(l); }
    [[nodiscard]] constexpr bool contains(Layer l) const noexcept { return (bits_ & bit(l)) != 0; }
    [[nodiscard]] constexpr bool contains_all(LayerSet other) const noexcept {
        return (bits_ & other.bits_) == other.bits_;
    }
    [[nodiscard]] constexpr bool empty() const noexcept { return bits_ == 0; }
    [[nodiscard]] constexpr std::uint32_t bits() const noexcept { return bits_; }
    static constexpr LayerSet from_bits(std::uint32_t b) noexcept {
        LayerSet s;
        s.bits_ = b & ((1U << kLayerCount) - 1U);
        return s;
    }
    /// Layers in `*this` but not in `other`.
    [[nodiscard]] constexpr LayerSet minus(LayerSet other) const noexcept {
        return from_bits(bits_ & ~other.bits_);
    }
    friend constexpr bool operator==(LayerSet, LayerSet) = default;

    /// Names in declaration order.
    [[nodiscard]] std::vector<std::string> names() const;

    /// Every layer.
    static constexpr LayerSet all() noexcept { return from_bits(~0U); }

private:
    static constexpr std::uint32_t bit(Layer l) noexcept { return 1U << static_cast<unsigned>(l); }
    std::uint32_t bits_ = 0;
};

/// Parses a comma-separated list of layer names ("userns,seccomp"); nullopt on an unknown name.
std::optional<LayerSet> parse_layer_list(std::string_view list);

} // namespace agentd::sandbox
