"""The sandbox the autograder runs students' code in (a module, not a script).

Each submission's kernel runs inside bubblewrap (`bwrap`, Debian's `bubblewrap`
package); the grader, which only talks to the kernel and writes the report, stays
outside.

Boundaries (see also book/instructors.md):
  - no network: a fresh network namespace holding only its own loopback. The grader
    talks to the kernel over Unix sockets ("ipc" transport) in a directory private to
    that kernel, bind-mounted into the sandbox, since TCP to the host's localhost is
    gone;
  - the file system is an empty root holding, read-only: /usr (and the /bin, /lib
    links), a short list of /etc files (no /etc/shadow, no SSH host keys), the CPU
    description in /sys, the Python installation and virtual environment, and the
    datasets folder. Nothing else: no home directory, no repository, no other
    submission, no submissions folder;
  - /tmp (the working directory) and /dev/shm are private, in memory, size-limited, and
    disappear with the kernel; everything else is read-only. The private /tmp is
    mounted first and every folder is bound on top of it, by its real path (symlinks
    resolved) and at the path the grader uses: the checkout, the virtual environment,
    the data and the hand-ins may live anywhere, under /tmp or in a folder with spaces;
  - an ordinary user can grade where the kernel allows unprivileged user namespaces;
    elsewhere `unavailable_reason` says so, and what to ask for;
  - new namespaces for users, processes, IPC, host name and cgroups; no capabilities; no
    new user namespaces inside; a new session (no terminal injection); environment
    cleared;
  - limits (`Limits`): heap memory (RLIMIT_DATA), address space (RLIMIT_AS), processes
    and threads (RLIMIT_NPROC, counted inside the sandbox's user namespace; as root,
    where the kernel ignores RLIMIT_NPROC, a pids cgroup instead), file size
    (RLIMIT_FSIZE), the size of /tmp, CPU seconds (RLIMIT_CPU) and total wall time
    (`timeout -s KILL`, outside the sandbox, so the code inside can neither see nor stop
    it). The per-cell time limit stays the grader's, as before.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

GiB = 1 << 30
MiB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """What one submission's kernel may use."""

    memory: int = 4 * GiB  # RLIMIT_DATA: heap and private anonymous memory
    # RLIMIT_AS: all mappings (torch alone maps about 3 GB)
    address_space: int = 12 * GiB
    processes: int = 256  # processes and threads inside the sandbox
    file_size: int = 256 * MiB  # RLIMIT_FSIZE: largest file the code may write
    # the private /tmp (in memory), also the working directory
    tmp_size: int = 512 * MiB
    cpu_seconds: int = 3600  # RLIMIT_CPU
    wall_seconds: int = 1800  # the whole notebook, then the sandbox is killed

    def describe(self) -> str:
        return (
            f"memory {self.memory // MiB} MiB "
            f"(address space {self.address_space // MiB} MiB), "
            f"{self.processes} processes/threads, files up to "
            f"{self.file_size // MiB} MiB, /tmp {self.tmp_size // MiB} MiB, "
            f"CPU {self.cpu_seconds} s, wall time {self.wall_seconds} s"
        )


# /etc files the kernel may read (present ones only): what Python, glibc, torch and
# matplotlib look up. Nothing secret: no shadow, no SSH or TLS private keys.
ETC_FILES = (
    "passwd",
    "group",
    "hosts",
    "nsswitch.conf",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "timezone",
    "alternatives",
    "fonts",
    "ssl/certs",
    "ca-certificates",
    "mime.types",
    "os-release",
    "matplotlibrc",
)
# Environment variables passed into the sandbox, if set (everything else is cleared).
PASSED_ENVIRONMENT = (
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "PYTHONHASHSEED",
    "MPLBACKEND",
    "COURSE_DATA_DIR",
)

# Runs first inside the sandbox: sets the limits the code cannot raise again, then
# becomes the kernel. RLIMIT_NPROC is set here, inside the new user namespace, so that
# it counts only the sandbox's processes.
_LIMITS_PRELUDE = """
import json, os, resource, sys
limits = json.loads(sys.argv[1])
for name, value in (("DATA", limits["memory"]), ("AS", limits["address_space"]),
                    ("NPROC", limits["processes"]), ("FSIZE", limits["file_size"]),
                    ("CPU", limits["cpu_seconds"]), ("CORE", 0)):
    resource.setrlimit(getattr(resource, "RLIMIT_" + name), (value, value))
os.execv(sys.argv[2], sys.argv[2:])
"""

# Runs first outside the sandbox, as root only: the kernel ignores RLIMIT_NPROC for
# root, so the sandbox's processes are counted by a pids cgroup instead.
_PIDS_CGROUP_PRELUDE = """
import os, sys
name, limit = sys.argv[1], sys.argv[2]
for base in ("/sys/fs/cgroup/pids", "/sys/fs/cgroup"):
    try:
        os.mkdir(f"{base}/{name}")
        with open(f"{base}/{name}/pids.max", "w") as handle:
            handle.write(limit)
        with open(f"{base}/{name}/cgroup.procs", "w") as handle:
            handle.write(str(os.getpid()))
        break
    except OSError:
        try:
            os.rmdir(f"{base}/{name}")
        except OSError:
            pass
else:
    print("sandbox: no writable pids cgroup: the number of processes is not limited",
          file=sys.stderr)
os.execvp(sys.argv[3], sys.argv[3:])
"""
CGROUP_PREFIX = "course-sandbox-"


def bwrap_path() -> str | None:
    """The bwrap executable: $COURSE_BWRAP if set, else bwrap on PATH (None if
    missing)."""
    return shutil.which(os.environ.get("COURSE_BWRAP", "bwrap"))


def unavailable_reason() -> str | None:
    """Why no sandbox can be made here, or None when bubblewrap works."""
    bwrap = bwrap_path()
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed"
    try:
        run = subprocess.run(
            [
                bwrap,
                "--unshare-all",
                "--unshare-user",
                "--ro-bind",
                "/",
                "/",
                "--die-with-parent",
                "true",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap does not run: {error}"
    if run.returncode != 0:
        error = run.stderr.strip()
        if os.geteuid() != 0 and any(
            words in error
            for words in (
                "user namespace",
                "uid map",
                "Operation not permitted",
                "Permission denied",
            )
        ):
            return (
                f"bubblewrap cannot create a sandbox here ({error}): this kernel does "
                "not let an ordinary user create user namespaces. Ask the machine's "
                "administrator to allow them (sysctl "
                "kernel.unprivileged_userns_clone=1 on Debian; "
                "user.max_user_namespaces above 0; on Ubuntu 24.04 "
                "kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile "
                "for bwrap), or grade as root, or in a virtual machine or container "
                "where they are allowed"
            )
        return f"bubblewrap cannot create a sandbox here: {error}"
    return None


def _root_is_user() -> bool:
    return os.geteuid() == 0


def _bind(source: str, target: str | None = None, writable: bool = False) -> list[str]:
    """bwrap arguments that show `source` at `target` (default: the same path).

    The real path (symlinks resolved) is what gets mounted; it is shown at the path the
    kernel will use and, when that differs, at its real path too, so a virtual
    environment or a folder reached through a symlink (`.venv -> /elsewhere/.venv`)
    works whichever of the two a program inside names.
    """
    target = os.path.abspath(target or source)
    real = os.path.realpath(source)
    option = "--bind" if writable else "--ro-bind"
    args = [option, real, target]
    if real != target:
        args += [option, real, real]
    return args


def _python_mounts() -> list[str]:
    """bwrap arguments that show the Python installation and the virtual environment
    (wherever they are: under /tmp, behind a symlink, in a folder with spaces)."""
    args, seen = [], set()
    for prefix in (sys.base_prefix, sys.prefix, sys.exec_prefix):
        if prefix in seen or os.path.realpath(prefix).startswith("/usr/"):
            continue
        seen.add(prefix)
        args += _bind(prefix)
    # site-packages folders outside those prefixes (a .pth file that layers this
    # environment on another one); never the repository or another folder of yours
    for entry in sys.path:
        folder = os.path.abspath(entry) if entry else ""
        if (
            Path(folder).name in ("site-packages", "dist-packages")
            and os.path.isdir(folder)
            and not os.path.realpath(folder).startswith("/usr/")
            and not any(folder.startswith(prefix + os.sep) for prefix in seen)
        ):
            args += _bind(folder)
    return args


MATPLOTLIB_DIR = "/tmp/.matplotlib"


@functools.cache
def matplotlib_cache() -> str | None:
    """A folder holding matplotlib's font list, built once per grading process (outside
    the sandbox, by trusted code), so that each kernel need not rebuild it (about 3 s).
    """
    folder = tempfile.mkdtemp(prefix="course-matplotlib-")
    # removed when the process that made it ends (the grader builds it before it starts
    # its worker processes, which inherit it: see tools/grade.py)
    atexit.register(shutil.rmtree, folder, True)
    run = subprocess.run(
        [sys.executable, "-c", "import matplotlib.font_manager"],
        env={**os.environ, "MPLCONFIGDIR": folder},
        capture_output=True,
        timeout=300,
        check=False,
    )
    return folder if run.returncode == 0 else None


def bwrap_arguments(
    limits: Limits, sockets_dir: str, shared_dirs: tuple[str, ...] = ()
) -> list[str]:
    """bwrap's options, up to (not including) the command run inside.

    `shared_dirs` are folders of the grader's that the kernel may write (the seal of
    tools/grade.py: where the checks' records go).
    """
    args = [
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--clearenv",
        "--ro-bind",
        "/usr",
        "/usr",
    ]
    for name in ("bin", "sbin", "lib", "lib32", "lib64"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for name in ETC_FILES:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    args += [
        "--ro-bind-try",
        "/sys/devices/system/cpu",
        "/sys/devices/system/cpu",
        "--ro-bind-try",
        "/sys/devices/system/node",
        "/sys/devices/system/node",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--remount-ro",
        "/dev",
        "--size",
        str(limits.tmp_size),
        "--perms",
        "1777",
        "--tmpfs",
        "/dev/shm",
    ]
    # The private /tmp is mounted before anything is bound into the sandbox: a virtual
    # environment, a data folder or a socket folder that lives under the host's /tmp
    # is then bound on top of it instead of being hidden by it.
    args += [
        "--size",
        str(limits.tmp_size),
        "--perms",
        "1777",
        "--tmpfs",
        "/tmp",
        "--dir",
        "/tmp/work",
    ]
    args += _python_mounts()
    args += _bind(sockets_dir, writable=True)
    for folder in shared_dirs:
        args += _bind(folder, writable=True)
    data_dir = os.environ.get("COURSE_DATA_DIR")
    if data_dir and Path(data_dir).is_dir():
        data_dir = os.path.abspath(data_dir)
        args += _bind(data_dir)
    args += ["--chdir", "/tmp/work"]
    fonts = matplotlib_cache()
    for name in os.listdir(fonts) if fonts else []:
        if name.startswith("fontlist") and name.endswith(".json"):
            args += ["--ro-bind", os.path.join(fonts, name), f"{MATPLOTLIB_DIR}/{name}"]
    args += ["--remount-ro", "/"]  # the sandbox's root (an unbounded tmpfs) stays empty
    environment = {
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "MPLCONFIGDIR": MATPLOTLIB_DIR,
    }
    environment.update(
        {k: os.environ[k] for k in PASSED_ENVIRONMENT if k in os.environ}
    )
    if data_dir:
        environment["COURSE_DATA_DIR"] = data_dir
    for key, value in environment.items():
        args += ["--setenv", key, value]
    return args


def wrap_command(
    kernel_command: list[str],
    limits: Limits,
    sockets_dir: str,
    cgroup_name: str,
    shared_dirs: tuple[str, ...] = (),
) -> list[str]:
    """The command that starts `kernel_command` inside the sandbox, within the
    limits."""
    command = ["timeout", "-s", "KILL", str(limits.wall_seconds), bwrap_path()]
    command += bwrap_arguments(limits, sockets_dir, shared_dirs)
    python = kernel_command[0]
    command += [
        "--",
        python,
        "-c",
        _LIMITS_PRELUDE,
        json.dumps(asdict(limits)),
        *kernel_command,
    ]
    if _root_is_user():
        command = [
            sys.executable,
            "-c",
            _PIDS_CGROUP_PRELUDE,
            cgroup_name,
            str(limits.processes),
            *command,
        ]
    return command


def remove_cgroup(name: str) -> None:
    for base in ("/sys/fs/cgroup/pids", "/sys/fs/cgroup"):
        try:
            os.rmdir(f"{base}/{name}")
        except OSError:
            pass


def remove_stale_cgroups() -> None:
    """Remove the empty pids cgroups earlier sandboxes left (root only; busy ones
    stay)."""
    for base in ("/sys/fs/cgroup/pids", "/sys/fs/cgroup"):
        for folder in (
            Path(base).glob(CGROUP_PREFIX + "*") if Path(base).is_dir() else []
        ):
            remove_cgroup(folder.name)


def kernel_manager_class(
    limits: Limits, shared_dirs: tuple[str, ...] = ()
) -> type[AsyncKernelManager]:
    """A jupyter_client KernelManager that starts its kernel in the sandbox (for
    nbclient); `shared_dirs` are bound into it writable (see bwrap_arguments)."""

    class SandboxedKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.transport = "ipc"
            self._sockets_dir = tempfile.mkdtemp(prefix="course-kernel-")
            self.connection_file = os.path.join(self._sockets_dir, "kernel.json")
            self.ip = os.path.join(self._sockets_dir, "k")
            self._cgroup = CGROUP_PREFIX + uuid.uuid4().hex[:12]

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            # ipykernel prints a banner ("Ctrl-C will not work ...") on its stdout,
            # which is the grader's terminal: nothing the kernel prints there matters
            kw["stdout"] = subprocess.DEVNULL
            return await super()._async_launch_kernel(kernel_cmd, **kw)

        _launch_kernel = _async_launch_kernel

        def format_kernel_cmd(self, extra_arguments=None):
            command = super().format_kernel_cmd(extra_arguments)
            return wrap_command(
                command, limits, self._sockets_dir, self._cgroup, shared_dirs
            )

        def cleanup_ipc_files(self):
            super().cleanup_ipc_files()
            shutil.rmtree(self._sockets_dir, ignore_errors=True)
            remove_cgroup(self._cgroup)

    return SandboxedKernelManager


def quiet_kernel_manager_class() -> type[AsyncKernelManager]:
    """A KernelManager without sandbox whose kernel's banner stays off the terminal
    (`grade.py --unsafe-no-sandbox`)."""

    class QuietKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd, **kw):
            kw["stdout"] = subprocess.DEVNULL
            return await super()._async_launch_kernel(kernel_cmd, **kw)

        _launch_kernel = _async_launch_kernel

    return QuietKernelManager
