"""Stage kernels forked from the warm process (pipeline/run/kernels.py): to jupyter and papermill
they are ordinary kernels (environment, folder, outputs, interrupt, death), a run gives the
same bytes as with plain kernels, and no kernel outlives the warm process."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import papermill as pm
import pytest
from jupyter_client.manager import AsyncKernelManager



from pipeline.run.notebooks import join_streams

from conftest import ROOT, write_params
from pipeline.run import kernels
from pipeline.run import manifest as mf
from pipeline.run import stages as run_stages

pytestmark = pytest.mark.skipif(not kernels.enabled(), reason="fork or pidfd unavailable here")

PROBE = [
    "import os, sys\nprint(os.getcwd()); print(os.environ['KERNEL_PROBE']); print(sys.path); print(sys.argv[1:2])",
    "import matplotlib\nprint(matplotlib.get_backend())",
    "import pandas as pd\npd.DataFrame({f'колонка {i}': range(3) for i in range(30)})",
    "import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(2, 1))\nax.plot([1, 2], [2, 1])\nplt.show()",
    "import random\nprint(0 <= random.random() < 1)",
]


def _execute(tmp_path: Path, manager: type, name: str) -> list[list[dict]]:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in PROBE])
    nb.metadata["kernelspec"] = {"name": run_stages.KERNEL, "display_name": "Python 3", "language": "python"}
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    source, out = tmp_path / f"{name}_in.ipynb", tmp_path / f"{name}_out.ipynb"
    nbformat.write(nb, source)
    pm.execute_notebook(str(source), str(out), kernel_name=run_stages.KERNEL, progress_bar=False,
                        resources={"metadata": {"path": str(work)}}, extra_arguments=run_stages.KERNEL_ARGUMENTS,
                        kernel_manager_class=manager)
    return [join_streams(cell.outputs) for cell in nbformat.read(out, as_version=4).cells]


def test_forked_kernel_gives_the_outputs_of_a_plain_kernel(tmp_path, monkeypatch):
    monkeypatch.setenv("KERNEL_PROBE", "метка запуска")
    forked = _execute(tmp_path, kernels.ForkingKernelManager, "forked")
    plain = _execute(tmp_path, AsyncKernelManager, "plain")
    assert forked == plain
    lines = forked[0][0]["text"].splitlines()
    assert lines[0] == str(tmp_path / "work") and lines[1] == "метка запуска"
    assert lines[3] == "['-f']"  # ipykernel's own command line, connection file first
    assert "inline" in forked[1][0]["text"]
    table = forked[2][0]["data"]["text/plain"]
    assert "..." in table and "колонка 29" in table  # at most 20 columns, as pandas does in a kernel
    assert "image/png" in forked[3][0]["data"]


@pytest.mark.parametrize("manager", ["ForkingKernelManager", "QuickKernelManager"])
def test_quick_readiness_loses_no_output_of_the_first_cell(tmp_path, manager):
    """QuickReadyClient declares a kernel ready sooner than jupyter's own check (~0.2 s less
    per kernel); what the first cell prints at once still arrives, kernel after kernel."""
    cls = getattr(kernels, manager)
    assert issubclass(cls, AsyncKernelManager) and cls(kernel_name=run_stages.KERNEL).client_factory is kernels.QuickReadyClient
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('первая ячейка')"),
                                         nbformat.v4.new_code_cell("print('вторая')")])
    nb.metadata["kernelspec"] = {"name": run_stages.KERNEL, "display_name": "Python 3", "language": "python"}
    source = tmp_path / "first.ipynb"
    nbformat.write(nb, source)
    for i in range(5 if manager == "ForkingKernelManager" else 2):
        out = tmp_path / f"out{i}.ipynb"
        pm.execute_notebook(str(source), str(out), kernel_name=run_stages.KERNEL, progress_bar=False,
                            extra_arguments=run_stages.KERNEL_ARGUMENTS, kernel_manager_class=cls)
        cells = nbformat.read(out, as_version=4).cells
        assert [join_streams(c.outputs)[0]["text"] for c in cells] == ["первая ячейка\n", "вторая\n"]


def test_a_dying_forked_kernel_is_reported_not_waited_for(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import os\nos._exit(3)")])
    nb.metadata["kernelspec"] = {"name": run_stages.KERNEL, "display_name": "Python 3", "language": "python"}
    source = tmp_path / "dies.ipynb"
    nbformat.write(nb, source)
    started = time.monotonic()
    with pytest.raises(Exception, match="(?i)dead|died"):
        pm.execute_notebook(str(source), str(tmp_path / "out.ipynb"), kernel_name=run_stages.KERNEL,
                            progress_bar=False, kernel_manager_class=kernels.ForkingKernelManager)
    assert time.monotonic() - started < 60


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_forked_kernel_interrupts_and_ends_with_the_warm_process():
    async def scenario() -> tuple[int, str]:
        km = kernels.ForkingKernelManager(kernel_name=run_stages.KERNEL)
        await km.start_kernel(extra_arguments=run_stages.KERNEL_ARGUMENTS)
        assert isinstance(km.provisioner, kernels.ForkProvisioner)
        pid = km.provisioner.pid
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)
            msg_id = kc.execute("import time\ntime.sleep(60)")
            await asyncio.sleep(1)
            await km.interrupt_kernel()
            while True:
                reply = await kc.get_shell_msg(timeout=30)
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
            assert await km.is_alive()
        finally:
            kc.stop_channels()
        return pid, reply["content"].get("ename", "")

    pid, ename = asyncio.run(scenario())
    assert ename == "KeyboardInterrupt"
    assert _alive(pid)
    kernels.shutdown()  # the warm process ends (as when the runner exits): its kernels follow
    deadline = time.monotonic() + 15
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(pid)


def test_warm_process_that_cannot_start_gives_no_kernel_and_says_why():
    warm = kernels._WarmProcess(preload=("pipeline.no_such_module",))
    try:
        assert warm.fork(["-f", "x.json"], dict(os.environ), str(ROOT)) is None
        assert "no_such_module" in warm.reason
    finally:
        warm.close()


def test_plain_kernels_on_request(monkeypatch):
    monkeypatch.setenv(kernels.SWITCH, "plain")
    assert kernels.kernel_manager_class() is kernels.QuickKernelManager
    monkeypatch.delenv(kernels.SWITCH)
    assert kernels.kernel_manager_class() is kernels.ForkingKernelManager
    assert kernels._kernel_argv([sys.executable, "-m", "ipykernel_launcher", "-f", "c.json"]) == ["-f", "c.json"]
    assert kernels._kernel_argv(["/usr/bin/R", "--slave", "-e", "IRkernel::main()"]) is None


def test_plain_kernels_where_pidfds_are_refused(monkeypatch):
    def refused(pid, flags=0):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "pidfd_open", refused)
    kernels._pidfd_works.cache_clear()
    try:
        assert kernels.kernel_manager_class() is kernels.QuickKernelManager
    finally:
        kernels._pidfd_works.cache_clear()


@pytest.mark.slow
def test_a_year_run_with_forked_kernels_equals_one_with_plain_kernels(tmp_path):
    params = write_params(tmp_path, 2026)
    trees = {}
    for mode in ("forked", "plain"):
        env = dict(os.environ, **{kernels.SWITCH: "plain" if mode == "plain" else ""})
        done = subprocess.run([sys.executable, "-m", "pipeline", "run", "--params", str(params), "--quiet"],
                              cwd=tmp_path, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        trees[mode] = {rel: p.read_bytes() for rel, p in mf.tree_files(tmp_path).items() if not rel.startswith("params")}
        for folder in ("processed", "reports"):
            shutil.rmtree(tmp_path / folder)
    assert len(trees["forked"]) > 40 and any(rel.endswith("05_report.ipynb") for rel in trees["forked"])
    assert trees["forked"].keys() == trees["plain"].keys()
    assert [rel for rel in trees["forked"] if trees["forked"][rel] != trees["plain"][rel]] == []


def test_ctrl_c_leaves_the_warm_process_to_the_runner():
    """Ctrl-C reaches the runner's whole process group: the runner stops its kernels, and the
    warm process keeps quiet until the runner closes it."""
    import signal

    warm = kernels._WarmProcess()
    try:
        assert warm.fork(["--version"], dict(os.environ), str(ROOT)) is not None  # ready
        os.kill(warm.process.pid, signal.SIGINT)
        time.sleep(0.5)
        assert warm.process.poll() is None
        assert warm.fork(["--version"], dict(os.environ), str(ROOT)) is not None
    finally:
        warm.close()
    assert warm.process.returncode == 0


def test_warm_process_that_does_not_answer_is_given_up(monkeypatch):
    monkeypatch.setattr(kernels, "READY_TIMEOUT", 0.05)  # less than importing pandas takes
    warm = kernels._WarmProcess(preload=("pandas", "matplotlib.pyplot"))
    try:
        assert warm.fork(["-f", "x.json"], dict(os.environ), str(ROOT)) is None
        assert "не ответил" in warm.reason
        assert warm.process.wait(timeout=10) is not None  # stopped, not left behind
    finally:
        warm.close()


def test_a_warm_process_that_died_leaves_plain_kernels_not_a_wait():
    warm = kernels._WarmProcess(preload=("json",))
    try:
        assert warm.fork(["--version"], dict(os.environ), str(ROOT)) is not None
        warm.process.kill()
        warm.process.wait(timeout=10)
        assert warm.fork(["--version"], dict(os.environ), str(ROOT)) is None
        assert warm.reason
        warm._read = lambda: pytest.fail("waited again for a warm process that failed")
        assert warm.fork(["--version"], dict(os.environ), str(ROOT)) is None
    finally:
        warm.close()
