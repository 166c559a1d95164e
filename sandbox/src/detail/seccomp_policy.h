#pragma once
// The seccomp allowlists, compiled once with libseccomp (in agentd, before the zygote is forked)
// into classic BPF that forked processes install with one system call.
//
// kStrict is what every sandboxed program runs under: a syscall allowlist (default EPERM;
// clone3 ENOSYS so libc falls back to clone, whose flags are checked), with argument filters:
// clone without namespace flags, socket/socketpair only AF_UNIX, ioctl only terminal queries
// and FIO* (TIOCSTI and friends refused, compared on the low 32 bits as the kernel does),
// prctl only harmless options, prlimit64 only on itself, mknod only FIFOs and regular files,
// no set-user/group-ID bits in open/creat/chmod/mknod modes (openat2 ENOSYS, like clone3).
// kTemplate adds what the warm Python interpreter needs to build each run's namespaces before
// it stacks kStrict (unshare, mount, umount2, sethostname, capset, seccomp and a few prctl
// options); untrusted code never runs under kTemplate alone.

#include "agentd/base/result.h"

#include <linux/filter.h>
#include <vector>

namespace agentd::sandbox::detail {

enum class FilterKind { strict, template_ };

using BpfProgram = std::vector<sock_filter>;

/// Compiles a filter for the native architecture (other architectures are killed).
base::Result<BpfProgram> build_filter(FilterKind kind);

/// Installs `prog` on the calling thread (requires no_new_privs or CAP_SYS_ADMIN). Returns 0 or
/// -1 with errno. Async-signal-safe.
int install_filter(const BpfProgram& prog) noexcept;

/// The raw bytes of a program (for handing it to the warm interpreter or bubblewrap).
std::string bpf_bytes(const BpfProgram& prog);

} // namespace agentd::sandbox::detail
