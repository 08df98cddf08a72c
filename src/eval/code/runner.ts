/**
 * The sandbox supervisor, a small Python program embedded as a string so that it ships inside
 * dist/ (tsc does not copy .py files). exec.ts writes it into the run's private host directory and
 * starts it, usually as PID 1 of fresh PID/network/mount/IPC/UTS namespaces made by `unshare`.
 *
 * What it does, in order (argv[1] is the JSON config written by exec.ts, fd 3 is the status pipe):
 *  1. reads the config (program text included) while the host directory is still visible, and
 *     joins the run's memory cgroup when exec.ts made one;
 *  2. with a mount namespace: makes every mount private, builds a new root on a small tmpfs holding
 *     only the interpreter, its import path and the shared libraries it loads (exec.ts's `visible`
 *     list, bound read-only at the same paths; symlinks recreated), the namespace's /proc, a /dev
 *     with null/zero/full/random/urandom, and size-capped private tmpfs mounts on /tmp (the run's
 *     only writable place; its work directory is /tmp/leaf-work) and /dev/shm; pivots into it,
 *     detaches the old root and remounts everything else read-only (keeping nosuid/nodev/noexec/
 *     atime flags). Host files outside that list, unix sockets included, are unreachable;
 *  3. forks the solution: drops the capability bounding set, switches to the per-run uid/gid
 *     (when started as real root), sets PR_SET_NO_NEW_PRIVS, drops every capability, applies the
 *     rlimits (CPU, AS, NPROC, FSIZE, NOFILE, CORE), chdirs to the work directory, closes every fd
 *     above 2 and execs `python -I -B main.py` with the scrubbed environment;
 *  4. reaps every process until the solution exits (or its own wall-clock watchdog fires), writes
 *     one JSON status line on fd 3 and exits. As namespace init, its exit makes the kernel kill
 *     every process left in the namespace; without a PID namespace it kills every process of the
 *     per-run uid instead (kill(-1) from a child that switched to that uid).
 * It never writes to fds 1/2 itself, except a one-line message on fd 2 if exec fails.
 */
export const RUNNER_PY = String.raw`
import ctypes, json, os, re, resource, signal, sys

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2
MS_RELATIME = 1 << 21
MS_STRICTATIME = 1 << 24
FLAGMAP = {'nosuid': MS_NOSUID, 'nodev': MS_NODEV, 'noexec': MS_NOEXEC, 'noatime': MS_NOATIME,
           'nodiratime': MS_NODIRATIME, 'relatime': MS_RELATIME, 'strictatime': MS_STRICTATIME}
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]

STATUS_FD = 3


def report(obj):
    data = (json.dumps(obj) + '\n').encode()
    try:
        while data:
            n = os.write(STATUS_FD, data)
            data = data[n:]
    except OSError:
        pass


def enc(s):
    return None if s is None else s.encode()


def mount(src, target, fstype, flags, data=None):
    if libc.mount(enc(src), enc(target), enc(fstype), flags, enc(data)) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), target)


def unescape(s):
    return re.sub(r'\\([0-7]{3})', lambda m: chr(int(m.group(1), 8)), s)


def read_mounts():
    # Later entries shadow earlier ones at the same mount point: keep the last options per path.
    order, opts = [], {}
    with open('/proc/self/mountinfo') as f:
        for line in f:
            parts = line.split()
            if len(parts) < 6:
                continue
            mp = unescape(parts[4])
            if mp not in opts:
                order.append(mp)
            opts[mp] = parts[5].split(',')
    return order, opts


def remount_read_only(skip):
    # Every mount read-only, keeping its nosuid/nodev/noexec/atime flags (a user namespace may not
    # clear them); returns whether / is read-only and the errors.
    order, opts = read_mounts()
    errors = []
    root_ro = False
    for mp in order:
        if mp in skip:
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        for o in opts[mp]:
            flags |= FLAGMAP.get(o, 0)
        try:
            mount(None, mp, None, flags)
            if mp == '/':
                root_ro = True
        except OSError as e:
            errors.append('%s: %s' % (mp, e.strerror))
    return root_ro, errors


def make_parent(path):
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)


def expose(new, entry):
    # One entry of cfg['visible']: a symlink recreated as is, or a host file/folder bound at the same path.
    dst = new + entry['path']
    if os.path.lexists(dst):
        return
    make_parent(dst)
    if 'link' in entry:
        os.symlink(entry['link'], dst)
        return
    if os.path.isdir(entry['path']):
        os.mkdir(dst, 0o755)
    else:
        os.close(os.open(dst, os.O_WRONLY | os.O_CREAT, 0o644))
    mount(entry['path'], dst, None, MS_BIND | MS_REC)


def pivot_root(new, old):
    nr = {'x86_64': 155, 'aarch64': 41, 'riscv64': 41, 'ppc64le': 203, 's390x': 217}.get(os.uname().machine)
    if nr is None or libc.syscall(ctypes.c_long(nr), enc(new), enc(old)) != 0:
        e = ctypes.get_errno() if nr is not None else 38
        raise OSError(e, 'pivot_root: ' + os.strerror(e), new)


def setup_root(cfg, st):
    # A new root holding only what the interpreter needs (cfg['visible'], bound read-only at the
    # same paths), /proc of the PID namespace, a minimal /dev, and private size-capped tmpfs
    # mounts on /tmp and /dev/shm; the host's other files (and its unix sockets) are unreachable.
    mount(None, '/', None, MS_REC | MS_PRIVATE)
    new = cfg['newRoot']
    nodev = MS_NOSUID | MS_NODEV
    mount('tmpfs', new, 'tmpfs', nodev, 'size=1024k,mode=755')
    for entry in cfg['visible']:
        expose(new, entry)
    os.makedirs(new + '/proc', 0o555, exist_ok=True)
    mount('/proc', new + '/proc', None, MS_BIND | MS_REC)
    dev = new + '/dev'
    os.makedirs(dev, 0o755, exist_ok=True)
    mount('tmpfs', dev, 'tmpfs', MS_NOSUID | MS_NOEXEC, 'size=64k,mode=755')
    for n in ('null', 'zero', 'full', 'random', 'urandom'):
        if os.path.exists('/dev/' + n):
            os.close(os.open(dev + '/' + n, os.O_WRONLY | os.O_CREAT, 0o666))
            mount('/dev/' + n, dev + '/' + n, None, MS_BIND)
    for name, target in (('fd', '/proc/self/fd'), ('stdin', '/proc/self/fd/0'), ('stdout', '/proc/self/fd/1'), ('stderr', '/proc/self/fd/2')):
        os.symlink(target, dev + '/' + name)
    os.mkdir(dev + '/shm', 0o1777)
    mount('tmpfs', dev + '/shm', 'tmpfs', nodev | MS_NOEXEC, 'size=%dk,mode=1777' % (cfg['shmKb'],))
    os.makedirs(new + '/tmp', 0o1777, exist_ok=True)
    mount('tmpfs', new + '/tmp', 'tmpfs', nodev, 'size=%dk,mode=1777' % (cfg['tmpfsKb'],))
    old = new + '/.old-root'
    os.mkdir(old, 0o700)
    pivot_root(new, old)
    os.chdir('/')
    if libc.umount2(b'/.old-root', MNT_DETACH) != 0:
        e = ctypes.get_errno()
        raise OSError(e, 'umount old root: ' + os.strerror(e), '/.old-root')
    os.rmdir('/.old-root')
    root_ro, errors = remount_read_only({'/tmp', '/dev/shm'})
    st['rootReadOnly'] = root_ro
    st['minimalRoot'] = True
    st['mountErrors'] = errors[:20]


def drop_caps():
    for cap in range(64):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            if ctypes.get_errno() == 22:  # EINVAL: past the last capability
                break
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)


def clear_caps():
    class Header(ctypes.Structure):
        _fields_ = [('version', ctypes.c_uint32), ('pid', ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [('effective', ctypes.c_uint32), ('permitted', ctypes.c_uint32), ('inheritable', ctypes.c_uint32)]

    hdr = Header(0x20080522, 0)
    data = (Data * 2)()
    libc.capset(ctypes.byref(hdr), data)


def child(cfg, workdir):
    uid = cfg.get('uid')
    drop_caps()
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), 'prctl(PR_SET_NO_NEW_PRIVS) failed')
    clear_caps()
    lim = cfg['limits']
    for name, value in (('RLIMIT_CORE', 0), ('RLIMIT_CPU', lim['cpuSec']), ('RLIMIT_AS', lim['asBytes']),
                        ('RLIMIT_NPROC', lim['nproc']), ('RLIMIT_FSIZE', lim['fsizeBytes']),
                        ('RLIMIT_NOFILE', lim['nofile'])):
        if value is None:
            continue
        soft = value
        hard = value + 1 if name == 'RLIMIT_CPU' else value  # SIGXCPU at soft, SIGKILL a second later
        resource.setrlimit(getattr(resource, name), (soft, hard))
    os.chdir(workdir)
    for sig in (signal.SIGPIPE, signal.SIGINT, signal.SIGXFSZ, signal.SIGXCPU, signal.SIGALRM, signal.SIGTERM, signal.SIGUSR1):
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    os.closerange(3, 1 << 16)
    py = cfg['python']
    os.execve(py, [py, '-I', '-B', 'main.py'] + list(cfg.get('argv', [])), cfg['env'])


def kill_uid(uid):
    # No PID namespace: kill every process of the per-run uid, from a child running as that uid.
    pid = os.fork()
    if pid == 0:
        try:
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            for _ in range(1000):
                try:
                    os.kill(-1, signal.SIGKILL)
                except ProcessLookupError:
                    break
        finally:
            os._exit(0)
    while True:
        try:
            w, _ = os.waitpid(pid, 0)
            if w == pid:
                break
        except ChildProcessError:
            break


class Watchdog(Exception):
    pass


def on_alarm(signum, frame):
    raise Watchdog()


def main():
    cfg_path = sys.argv[1]
    with open(cfg_path, 'rb') as f:
        cfg = json.loads(f.read().decode('utf-8'))
    st = {'ok': True, 'uid': cfg.get('uid'), 'pid1': os.getpid() == 1}
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        if cfg.get('cgroupProcs'):
            # Join the run's memory cgroup first: everything forked later inherits it.
            with open(cfg['cgroupProcs'], 'w') as f:
                f.write(str(os.getpid()))
        if cfg['mountSetup']:
            setup_root(cfg, st)
            workdir = '/tmp/leaf-work'
            os.mkdir(workdir, 0o700)
        else:
            workdir = cfg['workdir']
        path = os.path.join(workdir, 'main.py')
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, 'wb') as f:
            f.write(cfg['code'].encode('utf-8', 'surrogatepass'))
        uid = cfg.get('uid')
        if uid is not None:
            os.chown(workdir, uid, uid)
            os.chown(path, uid, uid)
    except Exception as e:
        report({'ok': False, 'error': 'sandbox setup failed: %s: %s' % (type(e).__name__, e)})
        os._exit(70)

    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGUSR1, on_alarm)  # exec.ts: time is up (tiers without a PID namespace)
    pid = os.fork()
    if pid == 0:
        try:
            child(cfg, workdir)
        except BaseException as e:
            try:
                os.write(2, ('leaf sandbox: could not start the program: %s: %s\n' % (type(e).__name__, e)).encode())
            finally:
                os._exit(127)
    signal.alarm(max(1, int(cfg['wallSec'])))
    status = None
    rusage = None
    try:
        while True:
            try:
                w, s, ru = os.wait4(-1, 0)
            except ChildProcessError:
                break
            if w == pid:
                status, rusage = s, ru
                break
    except Watchdog:
        st['watchdog'] = True
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            _, status, rusage = os.wait4(pid, 0)
        except OSError:
            pass
    signal.alarm(0)
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    if status is not None:
        if os.WIFEXITED(status):
            st['exit'] = os.WEXITSTATUS(status)
        elif os.WIFSIGNALED(status):
            st['signal'] = os.WTERMSIG(status)
    if rusage is not None:
        st['cpuSec'] = rusage.ru_utime + rusage.ru_stime
        st['maxRssKb'] = rusage.ru_maxrss
    if not st['pid1'] and cfg.get('uid') is not None:
        kill_uid(cfg['uid'])
    report(st)
    os._exit(0)


main()
`;
