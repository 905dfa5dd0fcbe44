"""Stage kernels forked from one warm process, so none of them pays the imports again.

A plain Jupyter kernel is a fresh `python -m ipykernel_launcher` that imports ipykernel
(~0.5 s) and then, in the notebook's first cells, pandas, matplotlib and the pipeline (~1.2 s):
fifteen kernels for three years spend most of a small run importing. The runner therefore
starts one warm process that imports all of that once, single-threaded, and forks it for each
stage's kernel. The child becomes an ordinary ipykernel — same command line, environment and
working folder as the plain kernel would get — and papermill talks to it as to any kernel;
the executed notebooks are the same, byte for byte (tests/test_kernels.py).

Plain kernels are used where fork or pidfds are missing or refused (not Linux, some
containers), when the warm process cannot start or does not answer (a warning says why), and
when the environment says PIPELINE_KERNELS=plain.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import importlib
import importlib.util
import json
import logging
import os
import queue
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from traitlets import DottedObjectName, Type

from ..core import parallel

log = logging.getLogger(__name__)

# What every stage notebook imports (their first code cells); whatever is not listed the
# kernel imports itself, as a plain kernel would.
PRELOAD = (
    # ipykernel.debugger (debugpy) is what a kernel imports while it starts: ~0.15 s each
    "IPython", "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.debugger", "numpy", "pandas",
    "matplotlib", "matplotlib.pyplot", "matplotlib.patches", "matplotlib.ticker",
    "pipeline.run.audit", "pipeline.stages.ingest", "pipeline.stages.clean", "pipeline.stages.score",
    "pipeline.stages.recommendations", "pipeline.report.context", "pipeline.report.sections",
    "pipeline.report.pages", "pipeline.report.excel", "pipeline.report.stage_charts",
)
READY_TIMEOUT = 120  # seconds the warm process may take to import, or to fork a kernel
SWITCH = "PIPELINE_KERNELS"  # "plain": start every kernel as a fresh process
_LAUNCHER = ("-m", "ipykernel_launcher")


def enabled() -> bool:
    """Whether stage kernels are forked from the warm process here."""
    return os.environ.get(SWITCH, "").strip().lower() != "plain" and parallel.can_fork() and _pidfd_works()


@functools.lru_cache(maxsize=1)
def _pidfd_works() -> bool:
    """pidfds name the forked kernels (not this process's children); Linux 5.3+, and a
    container's seccomp policy may still refuse them."""
    if not (hasattr(os, "pidfd_open") and hasattr(signal, "pidfd_send_signal")):
        return False
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError:
        return False
    return True


def kernel_manager_class(env: dict[str, str] | None = None) -> type[AsyncKernelManager]:
    """The kernel manager papermill should use: forking where it can, else jupyter's own
    (both with the quicker readiness check of QuickReadyClient); with `env`, its kernels get
    these variables on top of this process's environment (the stage's progress channel)."""
    base = ForkingKernelManager if enabled() else QuickKernelManager
    if not env:
        return base
    return type(base.__name__, (base,), {"extra_env": dict(env)})


# --- the warm process --------------------------------------------------------------------

def serve(requests_fd: int, replies_fd: int, preload: list[str]) -> None:
    """The warm process: import the modules once, then fork one kernel per request line."""
    # Ctrl-C in the terminal reaches the whole process group: the runner handles it and stops
    # its kernels; this process ends when the runner does (its request pipe closes)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # ipykernel sets this when a kernel starts; matplotlib reads it at import, here and now
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    replies = os.fdopen(replies_fd, "wb", buffering=0)
    try:
        for name in preload:
            importlib.import_module(name)
        if threading.active_count() != 1:  # fork copies no other thread: nothing may hold a lock
            raise RuntimeError(f"{threading.active_count()} потоков после импорта")
    except BaseException as exc:  # noqa: BLE001 - told to the runner, which starts plain kernels
        replies.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode() + b"\n")
        return
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the system reaps the kernels that end
    replies.write(b'{"ready": true}\n')
    with os.fdopen(requests_fd, "rb") as requests:
        for line in requests:  # the runner closes its end when it exits: the loop ends
            request = json.loads(line)
            pid = os.fork()
            if pid == 0:
                _become_kernel(request, (requests_fd, replies_fd))
            replies.write(json.dumps({"pid": pid}).encode() + b"\n")


def _become_kernel(request: dict[str, Any], private_fds: tuple[int, ...]) -> None:
    """In the forked child: take the kernel's environment and folder, run ipykernel, exit."""
    code = 1
    try:
        os.setsid()  # its own process group, as jupyter starts kernels (interrupts go to it)
        for fd in private_fds:
            os.close(fd)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)  # what a fresh Python has
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ["JPY_PARENT_PID"] = str(os.getppid())
        # as ipykernel_launcher: the kernel's folder is not on sys.path until IPython adds ''
        sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]
        spec = importlib.util.find_spec("ipykernel_launcher")
        sys.argv = [spec.origin if spec and spec.origin else "ipykernel_launcher", *request["argv"]]
        from ipykernel import kernelapp

        # the kernel ends when the warm process does (which ends with the runner)
        kernelapp.IPKernelApp.launch_instance(
            argv=[*request["argv"], f"--IPKernelApp.parent_handle={os.getppid()}"])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:  # noqa: BLE001 - the runner sees the kernel die and reports the stage
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        os._exit(code)


class _WarmProcess:
    """The runner's handle on the warm process: one request at a time, answered with a pid."""

    def __init__(self, preload: tuple[str, ...] = PRELOAD) -> None:
        requests_r, self._requests_w = os.pipe()
        self._replies_r, replies_w = os.pipe()
        code = f"import sys; from pipeline.run import kernels; kernels.serve({requests_r}, {replies_w}, sys.argv[1:])"
        # debugpy warns on import about frozen modules (breakpoints only; a kernel gets its own
        # environment when it is forked)
        env = {**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-c", code, *preload],
            pass_fds=(requests_r, replies_w), stdin=subprocess.DEVNULL, env=env,
        )
        os.close(requests_r)
        os.close(replies_w)
        self._lock = threading.Lock()
        self._ready: bool | None = None
        self.reason = ""

    def fork(self, argv: list[str], env: dict[str, str], cwd: str) -> int | None:
        """A new kernel's pid, or None if the warm process cannot give one."""
        with self._lock:
            if self._ready is None:
                reply = self._read()
                self._ready = bool(reply.get("ready"))
                self.reason = reply.get("error", "")
            if not self._ready:
                return None
            try:
                os.write(self._requests_w, json.dumps({"argv": argv, "env": env, "cwd": cwd}).encode() + b"\n")
            except OSError as exc:
                self._ready, self.reason = False, str(exc)
                return None
            reply = self._read()
            if "pid" not in reply:
                self._ready, self.reason = False, reply.get("error", "")
                return None
            return int(reply["pid"])

    def _read(self) -> dict[str, Any]:
        line = b""
        while not line.endswith(b"\n"):
            if not select.select([self._replies_r], [], [], READY_TIMEOUT)[0]:
                self.process.kill()  # stuck: the kernels start plainly instead
                return {"error": f"тёплый процесс не ответил за {READY_TIMEOUT} с"}
            chunk = os.read(self._replies_r, 4096)
            if not chunk:
                return {"error": "тёплый процесс завершился"}
            line += chunk
        return json.loads(line)

    def close(self) -> None:
        for fd in (self._requests_w, self._replies_r):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()


_warm: _WarmProcess | None = None
_warm_lock = threading.Lock()


def _warm_process() -> _WarmProcess:
    """This process's warm process, started on first use. One that failed stays failed (its
    fork() answers None at once): the rest of the run starts kernels plainly, not waiting
    again for a process that could not import or answer."""
    global _warm
    with _warm_lock:
        if _warm is None:
            _warm = _WarmProcess()
            atexit.register(_warm.close)
        return _warm


def prestart() -> None:
    """Start the warm process now, if kernels are forked here and it is not running: its
    imports then overlap the runner's own work before the first kernel is asked for (hashing
    a stage's inputs, loading papermill). Called once a stage is known to run, never on a run
    where nothing changed."""
    if enabled():
        _warm_process()


def shutdown() -> None:
    """End the warm process now (it also ends by itself when this process exits)."""
    global _warm
    with _warm_lock:
        if _warm is not None:
            _warm.close()
            _warm = None


# --- jupyter's side ----------------------------------------------------------------------

class _ForkedKernel:
    """Enough of subprocess.Popen for jupyter's provisioner, for a process that is not our child.

    The warm process is its parent; a pidfd names it without races. Its exit status stays
    with the warm process: 0 is reported once it has ended.
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        try:
            self._fd: int | None = os.pidfd_open(pid)
        except ProcessLookupError:  # ended already
            self._fd, self.returncode = None, 0

    def _ended(self, timeout: float | None) -> bool:
        if self._fd is None:
            return True
        ready, _, _ = select.select([self._fd], [], [], timeout)
        if ready:
            os.close(self._fd)
            self._fd, self.returncode = None, 0
        return self._fd is None

    def poll(self) -> int | None:
        self._ended(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._ended(timeout):
            raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout or 0)
        return 0

    def send_signal(self, signum: int) -> None:
        if self._fd is not None:
            signal.pidfd_send_signal(self._fd, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class ForkProvisioner(LocalProvisioner):
    """Jupyter's local provisioner, but the kernel process comes from the warm process."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any):  # type: ignore[no-untyped-def]
        argv = _kernel_argv(cmd)
        pid = None
        if argv is not None:
            env = dict(kwargs.get("env") or os.environ)
            cwd = str(kwargs.get("cwd") or Path.cwd())
            warm = _warm_process()
            pid = await asyncio.to_thread(warm.fork, argv, env, cwd)
            if pid is None:
                log.warning("Ядро запускается обычным способом: тёплый процесс недоступен (%s)", warm.reason)
        if pid is None:
            return await super().launch_kernel(cmd, **kwargs)
        self.process = _ForkedKernel(pid)
        self.pid = self.pgid = pid
        self.cwd = kwargs.get("cwd", Path.cwd())
        return self.connection_info


def _kernel_argv(cmd: list[str]) -> list[str] | None:
    """The kernel's own arguments if cmd starts this very Python's ipykernel, else None."""
    if len(cmd) >= 3 and tuple(cmd[1:3]) == _LAUNCHER and os.path.realpath(cmd[0]) == os.path.realpath(sys.executable):
        return list(cmd[3:])
    return None


READY_POLL = 0.02  # seconds: how often a starting kernel's IOPub channel is looked at


class QuickReadyClient(AsyncKernelClient):
    """Jupyter's client, but it learns sooner that a new kernel is ready.

    Jupyter's own check waits up to 0.2 s for a message on IOPub after each kernel_info reply
    (sending kernel_info again if none came), then drains IOPub until it has been quiet for
    0.2 s: at least 0.2 s for every kernel, on a run of fifteen stages 3 s and more. The same
    protocol here, looking every READY_POLL seconds: ready once the kernel has answered on the
    shell channel and a message has come through IOPub (so the first cell's output cannot be
    lost). What is then still queued on IOPub are status messages of the kernel_info requests,
    which papermill ignores (they answer no cell), so the drain stops at the first gap."""

    async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        asked = False
        while True:
            if not asked:
                self.kernel_info()
                asked = True
            try:
                msg = await self.shell_channel.get_msg(timeout=READY_POLL)
            except queue.Empty:
                msg = None
            if msg is not None and msg["msg_type"] == "kernel_info_reply":
                asked = False  # ask again if IOPub is not connected yet
                try:
                    await self.iopub_channel.get_msg(timeout=READY_POLL)
                except queue.Empty:
                    pass
                else:
                    self._handle_kernel_info_reply(msg)
                    break
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")
        while True:  # what is already queued on IOPub
            try:
                await self.iopub_channel.get_msg(timeout=READY_POLL)
            except queue.Empty:
                break

    wait_for_ready = _async_wait_for_ready  # (the base class binds its own at definition)


class QuickKernelManager(AsyncKernelManager):
    """jupyter's AsyncKernelManager with QuickReadyClient: for kernels started plainly."""

    client_class = DottedObjectName("pipeline.run.kernels.QuickReadyClient")
    client_factory = Type(klass=AsyncKernelClient, default_value=QuickReadyClient)
    extra_env: dict[str, str] = {}  # set per stage by kernel_manager_class(env)

    async def _async_pre_start_kernel(self, **kw: Any):  # type: ignore[no-untyped-def, override]
        if self.extra_env:
            kw["env"] = {**(kw.get("env") or os.environ), **self.extra_env}
        return await super()._async_pre_start_kernel(**kw)

    pre_start_kernel = _async_pre_start_kernel


class ForkingKernelManager(QuickKernelManager):
    """AsyncKernelManager whose kernels are forked from the warm process."""

    async def _async_pre_start_kernel(self, **kw: Any):  # type: ignore[no-untyped-def, override]
        if self.provisioner is None:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
            self.provisioner = ForkProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
        return await super()._async_pre_start_kernel(**kw)

    pre_start_kernel = _async_pre_start_kernel
