"""Portable numerics: the environment under which every x86-64 CPU computes the same bits.

PyTorch's vectorised kernels, MKL (PyTorch's BLAS, with separate Intel and AMD paths), OpenBLAS (numpy's and
scipy's) and numpy's own SIMD loops each pick code for the CPU they load on. The last bits then differ between
machines, and training amplifies them into different results. Each library reads one environment variable, once,
when it loads, that pins it to a code path every x86-64 CPU runs the same way. So the settings must be in a
process's environment before it imports torch or numpy: a notebook cell is too late. This module is the one place
that names them; the pipeline starts every kernel that computes or replays a published figure with them (the
Jupyter kernel ``dltheory``), and ``qemu-x86_64 -cpu MODEL`` kernels run the same settings on emulated CPUs.

One library has no such setting. PyTorch hands sqrt, exp, log, tanh and twelve more functions of whole arrays to
MKL's vector math library, which ignored ``MKL_CBWR`` on the AMD EPYC that published the book: emulated Intel and
AMD CPUs computed other bits, and a page that trains with Adam (a square root per step) printed other digits there.
So the kernel also preloads ``portable_vml.c``, compiled here once (:func:`vml_library`): the loader binds
PyTorch's calls to its loops over the C library's functions, pinned by ``GLIBC_TUNABLES`` like the rest.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
import warnings
from pathlib import Path

__all__ = ["ENV", "KERNEL", "VML_SOURCE", "active", "kernel_env", "kernel_name", "kernel_spec", "install_kernel",
           "qemu", "vml_library"]

# numpy 2.4 dispatches these groups above its x86-64-v2 baseline (numpy._core._multiarray_umath.__cpu_dispatch__);
# tests/test_portable.py fails if the pinned numpy dispatches anything else.
NUMPY_DISPATCH = ("X86_V3", "X86_V4", "AVX512_ICL", "AVX512_SPR")

ENV: dict[str, str] = {
    "ATEN_CPU_CAPABILITY": "default",  # PyTorch: its baseline kernels, no AVX2 or AVX-512 variants
    "MKL_CBWR": "COMPATIBLE",  # MKL: conditional numerical reproducibility, one code path on Intel and AMD
    "OPENBLAS_CORETYPE": "Prescott",  # OpenBLAS (numpy's and scipy's copies): SSE3 kernels on every CPU
    "NPY_DISABLE_CPU_FEATURES": " ".join(NUMPY_DISPATCH),  # numpy: no SIMD loop above the baseline
    # glibc's libm (exp, sin, atan, erf, ... in double) has FMA, FMA4 and AVX variants chosen per CPU, and they
    # differ in the last bit: the baseline SSE2 ones everywhere (an emulated SandyBridge, without FMA, showed it)
    "GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX2,-FMA,-FMA4,-AVX",
}
"""The five settings that make torch, MKL, OpenBLAS, numpy and the C library compute the same bits on every
x86-64 CPU (with the same glibc: its functions are not correctly rounded, and their last bits change between
versions)."""

THREADS: dict[str, str] = {
    "OMP_NUM_THREADS": "1",  # float sums change with the thread count: published pages use one thread
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "PYTHONHASHSEED": "0",
    # the inline backend whatever the caller set: with MPLBACKEND=Agg an IPython kernel emits no figures
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
}

KERNEL = "dltheory"
VML_SOURCE = Path(__file__).with_name("portable_vml.c")


# each element one call of the C library's function: nothing reassociated, fused into FMA or vectorised past the
# x86-64 baseline, whatever the compiler's defaults
VML_FLAGS = ("-O2", "-fPIC", "-shared", "-fno-fast-math", "-ffp-contract=off", "-march=x86-64", "-mtune=generic")


def vml_library(*, build: bool = True) -> Path | None:
    """The compiled ``portable_vml.c`` in this environment (``<sys.prefix>/lib``, named by the hash of the source
    and the flags).

    Compiles it with the C compiler (``$CC``, else ``cc``) when missing and ``build``; None, with a warning, when
    there is no compiler or it fails (then the kernels run without it, and :func:`active` is False).
    """
    key = hashlib.sha256(VML_SOURCE.read_bytes() + " ".join(VML_FLAGS).encode()).hexdigest()[:12]
    path = Path(sys.prefix) / "lib" / f"dltheory-vml-{key}.so"
    if path.exists() or not build:
        return path if path.exists() else None
    cc = shlex.split(os.environ.get("CC", "cc"))
    tmp = path.with_suffix(f".{os.getpid()}-{threading.get_ident()}.tmp")  # one per process and thread
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([*cc, *VML_FLAGS, "-o", str(tmp), str(VML_SOURCE), "-lm"], check=True, capture_output=True,
                       text=True)
        os.replace(tmp, path)
    except (OSError, subprocess.CalledProcessError) as e:
        detail = (getattr(e, "stderr", "") or str(e)).strip().splitlines()
        warnings.warn(f"cannot build {VML_SOURCE.name} with {' '.join(cc)} ({detail[-1] if detail else e}): "
                      "pages will run without it and their digits may differ between CPUs", RuntimeWarning,
                      stacklevel=2)
        tmp.unlink(missing_ok=True)
        return None
    for old in path.parent.glob("dltheory-vml-*.so"):  # builds of earlier sources (a running kernel keeps its copy)
        if old != path:
            old.unlink(missing_ok=True)
    return path


def kernel_env(*, build: bool = True) -> dict[str, str]:
    """What a kernel that executes or replays a page gets: :data:`ENV`, one thread, a fixed hash seed, inline
    figures, and :func:`vml_library` preloaded (when there is a compiler to build it)."""
    lib = vml_library(build=build)
    return {**ENV, **THREADS, **({"LD_PRELOAD": str(lib)} if lib else {})}


def _vml_loaded() -> bool:
    """Whether this process has the current :func:`vml_library` mapped (Linux's /proc/self/maps)."""
    lib = vml_library(build=False)
    try:
        return lib is not None and str(lib.resolve()) in Path("/proc/self/maps").read_text()
    except OSError:
        return False


def active() -> bool:
    """Whether this process computes portably: every setting of :data:`ENV` is in its environment, the
    :func:`vml_library` is loaded, and PyTorch, if loaded, runs its baseline kernels."""
    if any(os.environ.get(k) != v for k, v in ENV.items()) or not _vml_loaded():
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
    return {"argv": argv, "display_name": display, "language": "python", "env": kernel_env(),
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
