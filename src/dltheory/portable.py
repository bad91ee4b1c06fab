"""Portable numerics: the environment under which every x86-64 CPU computes the same bits.

PyTorch's vectorised kernels, MKL (PyTorch's BLAS, with separate Intel and AMD paths), OpenBLAS (numpy's and
scipy's) and numpy's own SIMD loops each pick code for the CPU they load on. The last bits then differ between
machines, and training amplifies them into different results. Each library reads one environment variable, once,
when it loads, that pins it to a code path every x86-64 CPU runs the same way. So the settings must be in a
process's environment before it imports torch or numpy: a notebook cell is too late. This module is the one place
that names them; the pipeline starts every kernel that computes or replays a published figure with them (the
Jupyter kernel ``dltheory``), and ``qemu-x86_64 -cpu MODEL`` kernels run the same settings on emulated CPUs.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

__all__ = ["ENV", "KERNEL_ENV", "KERNEL", "active", "kernel_name", "kernel_spec", "install_kernel", "qemu"]

# numpy 2.4 dispatches these groups above its x86-64-v2 baseline (numpy._core._multiarray_umath.__cpu_dispatch__);
# tests/test_portable.py fails if the pinned numpy dispatches anything else.
NUMPY_DISPATCH = ("X86_V3", "X86_V4", "AVX512_ICL", "AVX512_SPR")

ENV: dict[str, str] = {
    "ATEN_CPU_CAPABILITY": "default",  # PyTorch: its baseline kernels, no AVX2 or AVX-512 variants
    "MKL_CBWR": "COMPATIBLE",  # MKL: conditional numerical reproducibility, one code path on Intel and AMD
    "OPENBLAS_CORETYPE": "Prescott",  # OpenBLAS (numpy's and scipy's copies): SSE3 kernels on every CPU
    "NPY_DISABLE_CPU_FEATURES": " ".join(NUMPY_DISPATCH),  # numpy: no SIMD loop above the baseline
}
"""The four settings that make torch, MKL, OpenBLAS and numpy compute the same bits on every x86-64 CPU."""

KERNEL_ENV: dict[str, str] = {
    **ENV,
    "OMP_NUM_THREADS": "1",  # float sums change with the thread count: published pages use one thread
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "PYTHONHASHSEED": "0",
    # the inline backend whatever the caller set: with MPLBACKEND=Agg an IPython kernel emits no figures
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
}
"""What a kernel that executes or replays a page gets: :data:`ENV`, one thread, a fixed hash seed, inline figures."""

KERNEL = "dltheory"


def active() -> bool:
    """Whether this process computes portably: every setting of :data:`ENV` is in its environment and PyTorch,
    if loaded, runs its baseline kernels."""
    if any(os.environ.get(k) != v for k, v in ENV.items()):
        return False
    torch = sys.modules.get("torch")
    return torch is None or torch.backends.cpu.get_cpu_capability() == "DEFAULT"


def kernel_name(cpu: str | None = None) -> str:
    """``dltheory`` for this CPU, ``dltheory-<model>`` for a QEMU model such as ``Haswell-v4`` (lower case,
    as Jupyter stores kernel names)."""
    return KERNEL if cpu is None else f"{KERNEL}-{cpu.lower()}"


def qemu() -> str | None:
    """Path of ``qemu-x86_64`` (Debian's ``qemu-user``), or None."""
    return shutil.which("qemu-x86_64")


def kernel_spec(cpu: str | None = None, *, python: str | None = None) -> dict:
    """The ``kernel.json`` of the portable kernel; with ``cpu``, the kernel runs under ``qemu-x86_64 -cpu cpu``.

    QEMU user mode emulates one process and does not follow an exec, so the kernel's own command starts under it.
    """
    python = python or sys.executable
    argv = [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    display = "Python 3 (dltheory, portable numerics)"
    if cpu is not None:
        argv = [qemu() or "qemu-x86_64", "-cpu", cpu, *argv]
        display = f"Python 3 (dltheory, portable numerics, emulated {cpu})"
    return {"argv": argv, "display_name": display, "language": "python", "env": dict(KERNEL_ENV),
            "metadata": {"debugger": False}}


def install_kernel(cpu: str | None = None, *, prefix: str | None = None) -> Path:
    """Write the kernel spec of :func:`kernel_spec` under ``prefix`` (default: this environment) if it differs
    from what is there; returns its folder. Idempotent, so every run can call it."""
    folder = Path(prefix or sys.prefix) / "share" / "jupyter" / "kernels" / kernel_name(cpu)
    text = json.dumps(kernel_spec(cpu), indent=1) + "\n"
    path = folder / "kernel.json"
    if not path.exists() or path.read_text() != text:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / ".kernel.json.tmp"
        tmp.write_text(text)
        os.replace(tmp, path)
    return folder
