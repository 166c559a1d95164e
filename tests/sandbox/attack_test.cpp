// Hostile programs: each is contained, with the precise outcome asserted, in cold and warm runs.
// Where it is safe, the same probe runs unsandboxed first to show it would have worked.
#include "sandbox_fixture.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <sys/wait.h>

namespace agentd::sandbox {
namespace {

using testing::python;
using testing::run;
using testing::sandbox;

// ctypes prelude for syscall-level probes: `call(name, *args)` prints "<name> OK" or
// "<name> E<errno>".
constexpr const char* kPrelude = R"PY(
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
def report(name, rc):
    print(name, "OK" if rc >= 0 else "E" + errno.errorcode[ctypes.get_errno()], flush=True)
def call(name, *args):
    report(name, getattr(libc, name)(*args))
def sys_call(name, nr, *args):
    libc.syscall.restype = ctypes.c_long
    report(name, libc.syscall(nr, *[ctypes.c_long(a) for a in args]))
)PY";

class AttackTest : public ::testing::TestWithParam<bool> {
protected:
    bool warm() const { return GetParam(); }
    RunResult py(const std::string& code, Limits limits = testing::test_limits()) {
        auto req = python(std::string(kPrelude) + code, warm());
        req.limits = limits;
        return run(sandbox(warm()), req);
    }
};

TEST_P(AttackTest, NetworkSocketsAreRefused) {
    const std::string probe = R"PY(
import socket
for fam in ("AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET"):
    try:
        socket.socket(getattr(socket, fam), socket.SOCK_RAW if fam == "AF_PACKET" else socket.SOCK_DGRAM)
        print(fam, "OK")
    except OSError as e:
        print(fam, "E" + errno.errorcode[e.errno])
a, b = socket.socketpair()
a.send(b"unix ok"); print(b.recv(10).decode())
)PY";
    if (testing::running_as_root()) {
        EXPECT_EQ(testing::unsandboxed_python("import errno\n" + probe),
                  "AF_INET OK\nAF_INET6 OK\nAF_NETLINK OK\nAF_PACKET OK\nunix ok\n");
    }
    const auto r = py(probe);
    EXPECT_EQ(r.stdout_data,
              "AF_INET EEPERM\nAF_INET6 EEPERM\nAF_NETLINK EEPERM\nAF_PACKET EEPERM\nunix ok\n")
        << r.stderr_data;
}

TEST_P(AttackTest, NoNetworkEvenThroughTheKernelsView) {
    const auto r = py("print(sorted(l.split(':')[0].strip() for l in "
                      "open('/proc/net/dev').read().splitlines()[2:]))\n");
    EXPECT_EQ(r.stdout_data, "['lo']\n") << r.stderr_data;
}

TEST_P(AttackTest, PtraceIsRefused) {
    const std::string probe = "pid = os.fork()\n"
                              "if pid == 0:\n"
                              "    call('ptrace', 0, 0, 0, 0)\n" // PTRACE_TRACEME
                              "    os._exit(0)\n"
                              "os.waitpid(pid, 0)\n"
                              "call('ptrace', 16, 1, 0, 0)\n"; // PTRACE_ATTACH to pid 1
    const auto control = testing::unsandboxed_python(std::string(kPrelude) + probe);
    EXPECT_EQ(control.substr(0, 10), "ptrace OK\n");
    const auto r = py(probe);
    EXPECT_EQ(r.stdout_data, "ptrace EEPERM\nptrace EEPERM\n") << r.stderr_data;
}

TEST_P(AttackTest, NamespaceCreationIsRefused) {
    // unshare(CLONE_NEWUSER), unshare(CLONE_NEWNET), clone(CLONE_NEWUSER|SIGCHLD), clone3.
    const std::string probe = "call('unshare', 0x10000000)\n"
                              "call('unshare', 0x40000000)\n"
                              "sys_call('clone', 56, 0x10000000 | 17, 0, 0, 0, 0)\n"
                              "sys_call('clone3', 435, 0, 0)\n"
                              "call('setns', 0, 0)\n";
    const auto control = testing::unsandboxed_python(
        std::string(kPrelude) + "pid = os.fork()\nif pid == 0:\n    call('unshare', 0x10000000)\n"
                                "    os._exit(0)\nos.waitpid(pid, 0)\n");
    EXPECT_EQ(control, "unshare OK\n");
    const auto r = py(probe);
    EXPECT_EQ(r.stdout_data, "unshare EEPERM\nunshare EEPERM\nclone EEPERM\nclone3 EENOSYS\n"
                             "setns EEPERM\n")
        << r.stderr_data;
}

TEST_P(AttackTest, MountAndFriendsAreRefused) {
    const std::string probe = "call('mount', b'none', b'/tmp', b'tmpfs', 0, None)\n"
                              "call('umount2', b'/proc', 2)\n"
                              "call('chroot', b'/tmp')\n"
                              "sys_call('pivot_root', 155, 0, 0)\n"
                              "sys_call('open_by_handle_at', 304, 0, 0, 0)\n"
                              "sys_call('bpf', 321, 0, 0, 0)\n"
                              "sys_call('perf_event_open', 298, 0, 0, -1, -1, 0)\n"
                              "sys_call('keyctl', 250, 0, 0, 0)\n"
                              "sys_call('init_module', 175, 0, 0, 0)\n"
                              "sys_call('userfaultfd', 323, 0)\n"
                              "sys_call('io_uring_setup', 425, 1, 0)\n"
                              "call('sethostname', b'x', 1)\n"
                              "call('setuid', 0)\n";
    const auto r = py(probe);
    EXPECT_EQ(r.stdout_data, "mount EEPERM\numount2 EEPERM\nchroot EEPERM\npivot_root EEPERM\n"
                             "open_by_handle_at EEPERM\nbpf EEPERM\nperf_event_open EEPERM\n"
                             "keyctl EEPERM\ninit_module EEPERM\nuserfaultfd EEPERM\n"
                             "io_uring_setup EEPERM\nsethostname EEPERM\nsetuid EEPERM\n")
        << r.stderr_data;
}

TEST_P(AttackTest, SetIdBitsCannotBeCreated) {
    const auto r = py(R"PY(
import stat
for label, fn in (("open", lambda: os.open("f1", os.O_CREAT | os.O_WRONLY, 0o4755)),
                  ("chmod", lambda: os.chmod("plain", 0o2755)),
                  ("mkfifo", lambda: os.mkfifo("fifo", 0o4644))):
    open("plain", "w").close()
    try:
        fn()
        print(label, "OK")
    except OSError as e:
        print(label, "E" + errno.errorcode[e.errno])
os.chmod("plain", 0o755)
print(oct(os.stat("plain").st_mode & 0o7777))
)PY");
    EXPECT_EQ(r.stdout_data, "open EEPERM\nchmod EEPERM\nmkfifo EEPERM\n0o755\n") << r.stderr_data;
}

TEST_P(AttackTest, TiocstiIsRefusedWhateverTheUpperBits) {
    const auto r = py("call('ioctl', 0, 0x5412, b'x')\n"
                      "libc.syscall.restype = ctypes.c_long\n"
                      "sys_call('ioctl', 16, 0, 0x100005412, 0)\n"
                      "call('ioctl', 1, 0x5401, ctypes.create_string_buffer(64))\n");
    // TIOCSTI is refused by the filter (EPERM), not by the kernel (which would say ENOTTY):
    // TCGETS on the same pipe reaches the kernel and gets ENOTTY.
    EXPECT_EQ(r.stdout_data, "ioctl EEPERM\nioctl EEPERM\nioctl EENOTTY\n") << r.stderr_data;
}

TEST_P(AttackTest, ForeignArchitectureSyscallsKillTheProgram) {
    // x32 getpid (0x40000000 | 39): an ABI the filter does not cover must not be a way around it.
    const auto r = py("print('before', flush=True)\nsys_call('x32', 0x40000000 | 39)\n");
    EXPECT_EQ(r.stdout_data, "before\n");
    EXPECT_EQ(r.signal, SIGSYS);
}

TEST_P(AttackTest, ForkBombIsBounded) {
    Limits l = testing::test_limits(3000);
    const auto r = py(R"PY(
children = 0
try:
    while True:
        if os.fork() == 0:
            import time
            time.sleep(60)
            os._exit(0)
        children += 1
except OSError as e:
    print("stopped", errno.errorcode[e.errno], children < 64, flush=True)
)PY",
                      l);
    EXPECT_EQ(r.stdout_data, "stopped EAGAIN True\n") << r.stderr_data;
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_FALSE(r.timed_out); // the sleeping children died with the PID namespace
}

TEST_P(AttackTest, MemoryHogsAreBounded) {
    Limits l = testing::test_limits();
    l.memory_bytes = 128 * kMiB;
    auto r =
        py("try:\n    x = bytearray(1 << 30)\nexcept MemoryError:\n    print('MemoryError')\n", l);
    EXPECT_EQ(r.stdout_data, "MemoryError\n") << r.stderr_data;
    EXPECT_EQ(r.exit_code, 0);
    // Four processes each under the per-process limit, together over it: the cgroup stops them.
    r = py(R"PY(
import time
pids = []
for i in range(4):
    pid = os.fork()
    if pid == 0:
        blocks = []
        try:
            for j in range(100):
                blocks.append(b"x" * (1 << 20))
            time.sleep(0.5)
        except MemoryError:
            os._exit(3)
        os._exit(0)
    pids.append(pid)
codes = sorted(os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in pids)
print(codes)
)PY",
           l);
    EXPECT_EQ(r.exit_code, 0) << r.stderr_data;
    EXPECT_LE(r.max_rss_kb, 128U * 1024U);
    if (r.isolation.contains(Layer::cgroup_memory)) {
        EXPECT_EQ(r.limit, LimitHit::memory);
        EXPECT_NE(r.stdout_data.find("-9"), std::string::npos) << r.stdout_data;
    }
}

TEST_P(AttackTest, InfiniteLoopsHitTheWallClock) {
    const auto r = py("while True:\n    pass\n", testing::test_limits(500));
    EXPECT_TRUE(r.timed_out);
    EXPECT_EQ(r.signal, SIGKILL);
    EXPECT_EQ(r.limit, LimitHit::wall);
    EXPECT_FALSE(r.exit_code.has_value());
}

TEST_P(AttackTest, CpuLimitStopsBusyPrograms) {
    Limits l = testing::test_limits(20000);
    l.cpu_ms = 1000;
    const auto r = py("while True:\n    pass\n", l);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.signal, SIGXCPU);
    EXPECT_EQ(r.limit, LimitHit::cpu);
    EXPECT_GE(r.cpu_ms, 500U); // tick-sampled usage can trail the precise CPU timer
}

TEST_P(AttackTest, FileSizeLimitApplies) {
    Limits l = testing::test_limits();
    l.max_file_bytes = 1 * kMiB;
    const auto r = py("import signal\nsignal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
                      "f = open('/workspace/big', 'wb')\n"
                      "try:\n    f.write(b'x' * (2 << 20)); f.flush()\n"
                      "except OSError as e:\n    print(errno.errorcode[e.errno])\n"
                      "print(os.path.getsize('/workspace/big'))\n",
                      l);
    EXPECT_EQ(r.stdout_data, "EFBIG\n1048576\n") << r.stderr_data;
}

TEST_P(AttackTest, WritesOutsideTheWorkspaceFail) {
    const auto marker = "agentd-attack-" + std::to_string(::getpid());
    const auto r = py("for p in ['/usr/" + marker + "', '/etc/" + marker + "', '/" + marker +
                      "', '/run/agentd/main.py', '/proc/sys/kernel/hostname', "
                      "'/proc/sys/vm/drop_caches', '/dev/" +
                      marker +
                      "']:\n"
                      "    try:\n"
                      "        open(p, 'w').write('1')\n"
                      "        print('written', p)\n"
                      "    except OSError as e:\n"
                      "        print(errno.errorcode[e.errno])\n"
                      "open('/workspace/ok', 'w').write('ok'); open('/tmp/ok', 'w').write('ok')\n"
                      "print('workspace ok')\n");
    EXPECT_EQ(r.stdout_data, "EROFS\nEROFS\nEROFS\nEROFS\nEROFS\nEROFS\nEROFS\nworkspace ok\n")
        << r.stderr_data;
    for (const char* dir : {"/usr/", "/etc/", "/", "/dev/"}) {
        EXPECT_FALSE(std::filesystem::exists(std::string(dir) + marker));
    }
}

TEST_P(AttackTest, HostSecretsAreOutOfReach) {
    ::setenv("AGENTD_TEST_SECRET", "hunter2", 1);
    const std::string probe =
        "for p in ['/etc/shadow', '/root', '/proc/" + std::to_string(::getpid()) +
        "/environ', '/proc/1/environ', '/proc/1/mem', '/proc/1/root/etc/hostname']:\n"
        "    try:\n"
        "        open(p, 'rb').read(16)\n"
        "        print('read', p)\n"
        "    except OSError as e:\n"
        "        print(errno.errorcode[e.errno])\n"
        "print('hunter2' in repr(os.environ), sorted(os.environ))\n"
        "print(b'AGENTD_TEST_SECRET' in open('/proc/1/cmdline', 'rb').read())\n";
    if (testing::running_as_root()) {
        EXPECT_EQ(
            testing::unsandboxed_python("import os\nprint(len(open('/etc/shadow').read()) > 0, "
                                        "os.environ.get('AGENTD_TEST_SECRET'))\n"),
            "True hunter2\n");
    }
    const auto r = py(probe);
    ::unsetenv("AGENTD_TEST_SECRET");
    // /proc/1 is the run's own init: it is not dumpable, so even its owner cannot read it.
    EXPECT_EQ(r.stdout_data,
              "ENOENT\nENOENT\nENOENT\nEACCES\nEACCES\nEACCES\n"
              "False ['HOME', 'LANG', 'LOGNAME', 'PATH', 'PWD', 'SHELL', 'TMPDIR', 'USER']\n"
              "False\n")
        << r.stderr_data;
}

TEST_P(AttackTest, HostProcessesCannotBeSignalled) {
    // A sentinel running as the sandbox's own host uid: without a PID namespace the program
    // could kill it.
    const pid_t sentinel = ::fork();
    ASSERT_GE(sentinel, 0);
    if (sentinel == 0) {
        if (testing::running_as_root() && (::setgid(65534) != 0 || ::setuid(65534) != 0)) {
            ::_exit(1);
        }
        ::execl("/bin/sleep", "sleep", "30", nullptr);
        ::_exit(1);
    }
    EXPECT_EQ(testing::unsandboxed_python("import os\nos.kill(" + std::to_string(sentinel) +
                                          ", 0)\nprint('visible')\n"),
              "visible\n");
    const auto r = py("import signal\n"
                      "for target in (" +
                      std::to_string(sentinel) + ", " + std::to_string(::getpid()) +
                      ", 1):\n"
                      "    try:\n        os.kill(target, signal.SIGKILL)\n        print('sent')\n"
                      "    except OSError as e:\n        print(errno.errorcode[e.errno])\n"
                      "os.kill(-1, signal.SIGKILL)\n");
    EXPECT_EQ(::kill(sentinel, 0), 0) << "the sentinel was killed";
    ::kill(sentinel, SIGKILL);
    ::waitpid(sentinel, nullptr, 0);
    // pid 1 is the run's own init: signals from inside its namespace are ignored by the kernel.
    EXPECT_EQ(r.stdout_data, "ESRCH\nESRCH\nsent\n") << r.stderr_data;
}

TEST_P(AttackTest, NoDescriptorsLeakIn) {
    // A descriptor agentd holds without close-on-exec must not reach the program.
    const int secret = ::open("/etc/hostname", O_RDONLY);
    ASSERT_GE(secret, 0);
    const auto r = py("n = 0\nfor fd in range(3, 4096):\n    try:\n        os.fstat(fd); n += 1\n"
                      "    except OSError:\n        pass\nprint(n)\n");
    ::close(secret);
    EXPECT_EQ(r.stdout_data, "0\n") << r.stderr_data;
    EXPECT_TRUE(r.isolation.contains(Layer::fds_closed) ||
                !testing::host_layers().contains(Layer::fds_closed));
}

TEST_P(AttackTest, DaemonsDieWithTheRun) {
    const std::string marker = "31337." + std::to_string(::getpid()) + (warm() ? "1" : "0");
    const auto r = py("import subprocess\n"
                      "subprocess.Popen(['/bin/sleep', '" +
                      marker +
                      "'], start_new_session=True)\n"
                      "if os.fork() == 0:\n    os.setsid()\n    import time\n    time.sleep(100)\n"
                      "print('spawned')\n");
    EXPECT_EQ(r.stdout_data, "spawned\n");
    EXPECT_FALSE(r.timed_out);
    EXPECT_TRUE(testing::host_processes_with(marker).empty());
}

INSTANTIATE_TEST_SUITE_P(ColdAndWarm, AttackTest, ::testing::Bool(),
                         [](const auto& p) { return p.param ? "warm" : "cold"; });

} // namespace
} // namespace agentd::sandbox
