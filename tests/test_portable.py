"""dltheory.portable: the settings take effect in a fresh process, and make emulated CPUs of both vendors compute
the same bits as this one, where without them they differ."""

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from dltheory import portable

# A computation touching every library the settings pin: torch matmul/tanh/exp (MKL, ATen), numpy eigvalsh and
# exp (OpenBLAS, numpy SIMD), scipy Cholesky (scipy's OpenBLAS). It prints a hash of the bits and torch's kernels.
BITS = """
import hashlib, numpy as np, torch, scipy.linalg
g = torch.Generator().manual_seed(0)
a, b = torch.randn(64, 300, generator=g), torch.randn(300, 50, generator=g)
t = torch.tanh(a @ b).exp().sum(0)
r = np.random.default_rng(0).normal(size=(200, 200)); s = r @ r.T
parts = [t.numpy(), np.linalg.eigvalsh(s), np.exp(np.linspace(-3, 3, 1001)),
         scipy.linalg.cho_factor(s + 200 * np.eye(200))[0]]
print(hashlib.sha256(b"".join(p.tobytes() for p in parts)).hexdigest()[:16], torch.backends.cpu.get_cpu_capability())
"""


def _bare_env() -> dict:
    return {k: v for k, v in os.environ.items() if k not in portable.KERNEL_ENV}


def _run(code: str, *, env: dict, cpu: str | None = None) -> str:
    cmd = [sys.executable, "-c", code]
    if cpu:
        cmd = [portable.qemu(), "-cpu", cpu, *cmd]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, timeout=600).stdout.strip()


def test_numpy_dispatch_list_is_complete():
    # the pinned numpy dispatches exactly the groups ENV disables: nothing above its baseline stays vectorised
    out = _run("from numpy._core._multiarray_umath import __cpu_dispatch__ as d; print(' '.join(d))", env=_bare_env())
    assert out.split() == list(portable.NUMPY_DISPATCH)


def test_settings_take_effect_in_a_fresh_process():
    # with the settings torch runs its baseline kernels and active() says so; without them it does not
    code = ("import torch; from dltheory import portable; "
            "print(torch.backends.cpu.get_cpu_capability(), portable.active())")
    assert _run(code, env={**_bare_env(), **portable.ENV}) == "DEFAULT True"
    assert _run(code, env=_bare_env()).endswith("False")


def test_kernel_spec_carries_the_settings(tmp_path):
    # the installed kernel starts this environment's python with ENV, one thread and inline figures; the emulated
    # kernel starts the same command under qemu-x86_64
    folder = portable.install_kernel(prefix=str(tmp_path))
    spec = json.loads((folder / "kernel.json").read_text())
    assert spec["argv"][:3] == [sys.executable, "-m", "ipykernel_launcher"]
    assert {k: spec["env"][k] for k in portable.ENV} == portable.ENV and spec["env"]["OMP_NUM_THREADS"] == "1"
    emulated = portable.kernel_spec("Haswell-v4")
    assert emulated["argv"][1:3] == ["-cpu", "Haswell-v4"] and emulated["argv"][3:] == spec["argv"]
    assert portable.install_kernel(prefix=str(tmp_path)) == folder  # idempotent


def test_make_install_writes_the_current_kernel():
    # the kernel that executes and replays pages is the one this package would write now
    path = ROOT / ".venv" / "share" / "jupyter" / "kernels" / portable.KERNEL / "kernel.json"
    if not path.exists():
        pytest.skip("no .venv kernel: run `make install`")
    assert json.loads(path.read_text())["env"] == portable.KERNEL_ENV


@pytest.mark.slow
def test_emulated_cpus_of_both_vendors_compute_the_same_bits():
    # with the settings: this CPU, an emulated Intel Haswell and an emulated AMD Rome print the same hash.
    # Negative control: without them, this CPU and the emulated Haswell differ (vectorised code paths).
    if portable.qemu() is None:
        if os.environ.get("CI"):
            pytest.fail("qemu-x86_64 missing: CI installs qemu-user")
        pytest.skip("qemu-x86_64 not installed (Debian's qemu-user)")
    env = {**_bare_env(), **portable.ENV}
    native = _run(BITS, env=env)
    assert native.endswith("DEFAULT")
    for cpu in ("Haswell-v4", "EPYC-Rome"):
        assert _run(BITS, env=env, cpu=cpu) == native, cpu
    assert _run(BITS, env=_bare_env()).split()[0] != _run(BITS, env=_bare_env(), cpu="Haswell-v4").split()[0]
