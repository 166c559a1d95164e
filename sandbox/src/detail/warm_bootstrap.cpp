// The warm interpreter's bootstrap (Python, run by /usr/bin/python3 inside its own sandbox).
// @NAME@ placeholders are filled from this platform's headers by warm_bootstrap_source().
#include "detail/warm.h"

#include <sched.h>

#include <linux/capability.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <string>
#include <sys/mount.h>
#include <utility>

namespace agentd::sandbox::detail {
namespace {

constexpr const char* kSource = R"PY(
import atexit, builtins, collections, ctypes, errno, gc, json, os, resource, selectors, signal
import io, socket, sys, threading, traceback, types

PRELOAD = @PRELOAD@
for _name in PRELOAD:
    try:
        __import__(_name)
    except Exception:
        pass

STRICT_BPF = bytes.fromhex("@STRICT_BPF@")
CLONE_NEWUSER = @CLONE_NEWUSER@
NAMESPACES = @NAMESPACES@
POOL = @POOL@
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = @MS_RDONLY@, @MS_NOSUID@, @MS_NODEV@, @MS_NOEXEC@
MS_REMOUNT, MS_BIND, MS_REC, MS_SLAVE = @MS_REMOUNT@, @MS_BIND@, @MS_REC@, @MS_SLAVE@
PR_CAPBSET_DROP, PR_SET_SECCOMP, PR_SET_DUMPABLE = @PR_CAPBSET_DROP@, @PR_SET_SECCOMP@, @PR_SET_DUMPABLE@
PR_CAPBSET_READ = @PR_CAPBSET_READ@
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = @PR_CAP_AMBIENT@, @PR_CAP_AMBIENT_CLEAR_ALL@
SECCOMP_MODE_FILTER = @SECCOMP_MODE_FILTER@
CAP_VERSION = @CAP_VERSION@
PROGRAM = "/run/agentd/main.py"

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                       ctypes.c_char_p]
libc.unshare.argtypes = [ctypes.c_int]
libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                       ctypes.c_ulong]
libc.sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
libc.capset.argtypes = [ctypes.c_void_p, ctypes.c_void_p]


class Fail(Exception):
    def __init__(self, what, err):
        super().__init__(what)
        self.err = err


def check(rc, what):
    if rc != 0:
        raise Fail(what, ctypes.get_errno())


def mount(src, dst, fstype, flags, data=None):
    check(libc.mount(src, dst, fstype, flags, data), "mount " + dst.decode())


def tmpfs(path, size, mode, extra=0):
    opts = b"size=%d,mode=%o,uid=1000,gid=1000" % (size, mode)
    mount(b"tmpfs", path, b"tmpfs", MS_NOSUID | MS_NODEV | extra, opts)


def write(path, data):
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def send_pidfd(sock, tag, pid):
    pidfd = os.pidfd_open(pid)
    try:
        socket.send_fds(sock, [tag], [pidfd])
    finally:
        os.close(pidfd)


def drop_capabilities():
    for cap in range(64):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() != errno.EINVAL:
            raise Fail("drop bounding capabilities", ctypes.get_errno())
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(CAP_VERSION, 0)
    data = (ctypes.c_uint32 * 6)()
    check(libc.capset(header, data), "capset")


def install_strict_filter():
    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
    buf = ctypes.create_string_buffer(STRICT_BPF, len(STRICT_BPF))
    prog = SockFprog(len(STRICT_BPF) // 8, ctypes.cast(buf, ctypes.c_void_p))
    check(libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(prog), 0, 0),
          "install the seccomp filter")


def set_limit(res, soft, hard):
    # Never above the inherited hard limit, as for cold runs (verification reports a clamp).
    cur = resource.getrlimit(res)[1]
    if cur != resource.RLIM_INFINITY:
        soft, hard = min(soft, cur), min(hard, cur)
    resource.setrlimit(res, (soft, hard))


def set_limits(spec):
    cpu = spec["cpu_s"]
    for res, value in ((resource.RLIMIT_CORE, 0), (resource.RLIMIT_NOFILE, spec["nofile"]),
                       (resource.RLIMIT_FSIZE, spec["fsize"]), (resource.RLIMIT_NPROC, spec["nproc"]),
                       (resource.RLIMIT_MEMLOCK, 0), (resource.RLIMIT_MSGQUEUE, 0)):
        set_limit(res, value, value)
    set_limit(resource.RLIMIT_CPU, cpu, cpu + 1)
    set_limit(resource.RLIMIT_AS, spec["mem"], spec["mem"])


def exit_status(exc):
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        print(code, file=sys.stderr)
    except BaseException:
        pass
    return 1


def run_program(source):
    main = types.ModuleType("__main__")
    main.__file__ = PROGRAM
    main.__builtins__ = builtins
    sys.modules["__main__"] = main
    status = 0
    try:
        exec(compile(source, PROGRAM, "exec", dont_inherit=True), main.__dict__)
    except SystemExit as exc:
        status = exit_status(exc)
    except BaseException as exc:
        tb = exc.__traceback__
        if tb is not None and tb.tb_frame.f_code is run_program.__code__:
            tb = tb.tb_next  # hide this frame: the traceback reads like `python3 main.py`'s
        traceback.print_exception(type(exc), exc, tb)
        status = 1
    try:
        threading._shutdown()
    except BaseException:
        pass
    try:
        atexit._run_exitfuncs()
    except BaseException:
        pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            status = status or 120
    os._exit(status)


def enter_slot_namespaces(cgroup_fds):
    for fd in cgroup_fds:
        os.write(fd, b"0")
        os.close(fd)
    check(libc.unshare(CLONE_NEWUSER), "unshare(CLONE_NEWUSER)")
    write("/proc/self/setgroups", b"deny")
    write("/proc/self/uid_map", b"1000 1000 1")
    write("/proc/self/gid_map", b"1000 1000 1")
    check(libc.unshare(NAMESPACES), "unshare namespaces")
    # Slave, not private: workspaces created after this slot was forked must still arrive
    # under /.ws; nothing mounted here goes back.
    mount(None, b"/", None, MS_REC | MS_SLAVE)
    check(libc.sethostname(b"sandbox", 7), "sethostname")


def finish_mounts(spec, source):
    tmpfs(b"/tmp", spec["tmp"], 0o1777)
    tmpfs(b"/dev/shm", spec["tmp"], 0o1777)
    if spec["ws"]:
        mount(b"/.ws/" + spec["ws"].encode(), b"/workspace", None, MS_BIND | MS_REC)
    else:
        tmpfs(b"/workspace", spec["ws_bytes"], 0o755)
    if os.path.isdir("/.ws"):
        tmpfs(b"/.ws", 4096, 0)  # every other workspace stays out of sight
    size = (len(source) + 65536 + 4095) & ~4095
    tmpfs(b"/run/agentd", size, 0o755, MS_NOEXEC)
    fd = os.open(PROGRAM, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    try:
        os.write(fd, source)
    finally:
        os.close(fd)
    mount(None, b"/run/agentd", None,
          MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)


def read_fd(fd):
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def run_job(job, to_init, cgroup_name):
    send_pidfd(job, b"I " + cgroup_name, 1)
    msg, fds, _, _ = socket.recv_fds(job, 1 << 16, 8)
    if not msg.startswith(b"SPEC ") or len(fds) < 4:
        raise Fail("bad job", errno.EPROTO)
    spec = json.loads(msg[5:])
    stdio, code_fd = fds[0:3], fds[3]
    source = read_fd(code_fd)
    os.close(code_fd)
    finish_mounts(spec, source)
    socket.send_fds(to_init, [b"J"], [job.fileno()])
    to_init.close()
    os.setsid()
    for target, fd in enumerate(stdio):
        os.dup2(fd, target)
    os.dup2(job.fileno(), 3)
    os.closerange(4, 1 << 30)
    job.detach()
    job = socket.socket(fileno=3)
    guarded(job, lambda: become_program(job, spec, source))


def become_program(job, spec, source):
    os.chdir("/workspace")
    sys.argv = [PROGRAM] + [bytes.fromhex(a).decode("utf-8", "surrogateescape")
                            for a in spec["args"]]
    set_limits(spec)
    drop_capabilities()
    install_strict_filter()
    send_pidfd(job, b"R", os.getpid())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    job.send(b"V %d" % int((usage.ru_utime + usage.ru_stime) * 1e6))  # set-up CPU, not the run's
    if job.recv(16) != b"G":
        os._exit(126)
    job.close()
    del job, spec
    run_program(source)


def prewarm():
    # Every page a run writes after the fork costs a copy-on-write fault (~10 us on a busy VM):
    # take the faults of what every run does now, while no request waits.
    json.loads(b'{"ws": "", "tmp": 1, "args": ["61"], "mem": 1}')
    code = compile("import io\nx = [str(i) for i in range(64)]\nprint(len(x), file=io.StringIO())\n",
                   PROGRAM, "exec", dont_inherit=True)
    exec(code, types.ModuleType("__main__").__dict__)
    resource.getrlimit(resource.RLIMIT_NOFILE)
    libc.prctl(PR_CAPBSET_READ, 0, 0, 0, 0)
    traceback.format_exception(ValueError, ValueError("x"), None)
    bytearray(1 << 20)


def program_main(slot, to_init, cgroup_name):
    # pid 2 of the run: ready; waits for a job, then becomes the program.
    prewarm()
    slot.send(b"OK")
    msg, fds, _, _ = socket.recv_fds(slot, 16, 1)
    if not fds:
        os._exit(0)
    slot.close()
    job = socket.socket(fileno=fds[0])
    guarded(job, lambda: run_job(job, to_init, cgroup_name))


def init_main(slot, from_program, to_init, cgroup_name):
    # pid 1 of the run: reaps, reports the program's status, and its exit ends the namespace.
    mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    mount(b"/proc/sys", b"/proc/sys", None, MS_BIND | MS_REC)
    mount(None, b"/proc/sys", None,
          MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    program = os.fork()
    if program == 0:
        from_program.close()
        guarded(None, lambda: program_main(slot, to_init, cgroup_name))
    slot.close()
    to_init.close()
    drop_capabilities()
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    job = None
    try:
        _, fds, _, _ = socket.recv_fds(from_program, 16, 1)
        if fds:
            job = socket.socket(fileno=fds[0])
    except OSError:
        pass
    from_program.close()
    status = 0
    while True:
        try:
            pid, st = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        if pid == program:
            status = st
            break
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_us = int((usage.ru_utime + usage.ru_stime) * 1e6)
    if job is not None:
        job.send(b"X %d %d %d" % (status, cpu_us, usage.ru_maxrss))
    os._exit(0)


def slot_main(slot, cgroup_name, cgroup_fds):
    # Everything that does not depend on the request happens here, before it arrives.
    enter_slot_namespaces(cgroup_fds)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    from_program, to_init = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    init = os.fork()
    if init == 0:
        guarded(None, lambda: init_main(slot, from_program, to_init, cgroup_name))
    slot.close()
    from_program.close()
    to_init.close()
    os.waitpid(init, 0)
    os._exit(0)


def guarded(job, fn):
    try:
        fn()
    except Fail as exc:
        report(job, exc.err, str(exc))
    except BaseException as exc:
        report(job, 0, "warm interpreter: " + repr(exc))
    os._exit(125)


def report(job, err, what):
    if job is None:
        return
    try:
        job.send(("E %d %s" % (err, what)).encode()[:500])
    except BaseException:
        pass


class Interpreter:
    def __init__(self):
        self.control = socket.socket(fileno=4)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.control, selectors.EVENT_READ)
        self.ready = collections.deque()
        self.jobs = collections.deque()

    def start_slot(self, name, fds):
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        if os.fork() == 0:
            self.selector.close()
            os.close(self.control.detach())
            mine.close()
            for s in self.ready:
                s.close()
            for fd in self.jobs:
                os.close(fd)
            guarded(None, lambda: slot_main(theirs, name, fds))
        theirs.close()
        for fd in fds:
            os.close(fd)
        self.selector.register(mine, selectors.EVENT_READ)

    def on_control(self):
        msg, fds, _, _ = socket.recv_fds(self.control, 256, 2)
        if not msg:
            os._exit(0)  # the zygote is gone
        if msg.startswith(b"CG "):
            self.start_slot(msg[3:] if msg[3:] != b"-" else b"", fds)
        elif msg == b"JOB" and fds:
            self.jobs.append(fds[0])
        else:
            for fd in fds:
                os.close(fd)

    def on_slot(self, slot):
        self.selector.unregister(slot)
        try:
            ok = slot.recv(16) == b"OK"
        except OSError:
            ok = False
        if ok:
            self.ready.append(slot)
        else:
            slot.close()
            self.control.send(b"NEED")

    def dispatch(self):
        while self.jobs and self.ready:
            slot = self.ready.popleft()
            try:
                socket.send_fds(slot, [b"J"], [self.jobs[0]])
            except OSError:
                slot.close()
                self.control.send(b"NEED")
                continue
            os.close(self.jobs.popleft())
            slot.close()
            self.control.send(b"NEED")

    def run(self):
        for _ in range(POOL):
            self.control.send(b"NEED")
        self.control.send(b"READY")
        while True:
            for key, _ in self.selector.select():
                if key.fileobj is self.control:
                    self.on_control()
                else:
                    self.on_slot(key.fileobj)
            self.dispatch()


signal.signal(signal.SIGCHLD, signal.SIG_IGN)
# Everything imported so far is shared, copy-on-write, with every run: keep the collector
# (which writes to every object it visits) away from it.
gc.collect()
gc.freeze()
Interpreter().run()
)PY";

void replace_all(std::string& s, const std::string& key, const std::string& value) {
    for (std::size_t pos = 0; (pos = s.find(key, pos)) != std::string::npos; pos += value.size()) {
        s.replace(pos, key.size(), value);
    }
}

std::string hex(const std::string& bytes) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 15]);
    }
    return out;
}

std::string python_list(const std::vector<std::string>& names) {
    std::string out = "[";
    for (const auto& n : names) {
        // Module names are identifiers and dots only; anything else is dropped.
        bool ok = !n.empty();
        for (char c : n) {
            ok = ok && (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.');
        }
        if (ok) {
            out += "\"" + n + "\", ";
        }
    }
    return out + "]";
}

} // namespace

std::string warm_bootstrap_source(const Context& ctx) {
    std::string s = kSource;
    const std::pair<const char*, unsigned long> constants[] = {
        {"@CLONE_NEWUSER@", CLONE_NEWUSER},
        {"@MS_RDONLY@", MS_RDONLY},
        {"@MS_NOSUID@", MS_NOSUID},
        {"@MS_NODEV@", MS_NODEV},
        {"@MS_NOEXEC@", MS_NOEXEC},
        {"@MS_REMOUNT@", MS_REMOUNT},
        {"@MS_BIND@", MS_BIND},
        {"@MS_REC@", MS_REC},
        {"@MS_SLAVE@", MS_SLAVE},
        {"@PR_CAPBSET_DROP@", PR_CAPBSET_DROP},
        {"@PR_CAPBSET_READ@", PR_CAPBSET_READ},
        {"@PR_SET_SECCOMP@", PR_SET_SECCOMP},
        {"@PR_SET_DUMPABLE@", PR_SET_DUMPABLE},
        {"@PR_CAP_AMBIENT@", PR_CAP_AMBIENT},
        {"@PR_CAP_AMBIENT_CLEAR_ALL@", PR_CAP_AMBIENT_CLEAR_ALL},
        {"@SECCOMP_MODE_FILTER@", SECCOMP_MODE_FILTER},
        {"@CAP_VERSION@", _LINUX_CAPABILITY_VERSION_3},
    };
    for (const auto& [key, value] : constants) {
        replace_all(s, key, std::to_string(value));
    }
    replace_all(s, "@PRELOAD@", python_list(ctx.config.warm_preload));
    // Per run: fresh mount, PID, net, IPC, UTS and cgroup namespaces (those the host allows).
    replace_all(s, "@NAMESPACES@", std::to_string(ctx.host.clone_flags));
    replace_all(s, "@POOL@", std::to_string(std::max(1U, ctx.config.warm_pool)));
    replace_all(s, "@STRICT_BPF@", hex(bpf_bytes(ctx.strict)));
    return s;
}

} // namespace agentd::sandbox::detail
