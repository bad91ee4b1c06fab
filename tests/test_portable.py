"""dltheory.portable: the settings take effect in a fresh process, and make emulated CPUs of both vendors compute
the same bits as this one, where without them they differ; the preloaded vector-math library computes what the C
library and scipy compute, and PyTorch's calls reach it."""

import ctypes
import json
import os
import subprocess
import sys

import mpmath
import numpy as np
import pytest
import scipy.special

from conftest import ROOT
from dltheory import portable

# A computation touching every library the settings pin: torch matmul/tanh/exp (MKL, ATen), numpy eigvalsh and
# exp (OpenBLAS, numpy SIMD), scipy Cholesky (scipy's OpenBLAS). It prints a hash of the bits and torch's kernels.
BITS = """
import hashlib, numpy as np, torch, scipy.linalg
g = torch.Generator().manual_seed(0)
a, b = torch.randn(64, 300, generator=g), torch.randn(300, 50, generator=g)
t = torch.tanh(a @ b).exp().sum(0)
u = torch.rand(20000, generator=g, dtype=torch.float64)  # MKL's vector math: sqrt, log on (0, 1), acos, Adam;
v = (u * 200 - 100).exp().sin().atan()  # and glibc's double exp, sin, atan, whose FMA and SSE2 variants differ
w = torch.nn.Parameter(a.clone()); opt = torch.optim.Adam([w], lr=0.01, weight_decay=1e-4)
for _ in range(3):
    opt.zero_grad(); (w.tanh() ** 2).sum().backward(); opt.step()
r = np.random.default_rng(0).normal(size=(200, 200)); s = r @ r.T
parts = [t.numpy(), u.float().sqrt().numpy(), u.log().numpy(), (2 * u - 1).acos().numpy(), w.detach().numpy(),
         v.numpy(),
         np.linalg.eigvalsh(s), np.exp(np.linspace(-3, 3, 1001)), scipy.linalg.cho_factor(s + 200 * np.eye(200))[0]]
print(hashlib.sha256(b"".join(p.tobytes() for p in parts)).hexdigest()[:16], torch.backends.cpu.get_cpu_capability())
"""


def _bare_env() -> dict:
    return {k: v for k, v in os.environ.items() if k not in portable.kernel_env()}


def _portable_env(*, vml: bool = True) -> dict:
    env = {**_bare_env(), **portable.kernel_env(), "MPLBACKEND": "Agg"}
    if not vml:
        del env["LD_PRELOAD"]
    return env


@pytest.fixture(scope="module")
def vml():
    path = portable.vml_library()
    if path is None:
        pytest.skip("no C compiler: the vector-math library cannot be built")
    return ctypes.CDLL(str(path))


def _call(lib, name: str, x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    fn = getattr(lib, ("vms" if x.dtype == np.float32 else "vmd") + name)
    fn(ctypes.c_int(len(x)), x.ctypes.data_as(ctypes.c_void_p), out.ctypes.data_as(ctypes.c_void_p), ctypes.c_int64(0))
    return out


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
    assert _run(code, env=_portable_env()) == "DEFAULT True"
    assert _run(code, env=_bare_env()).endswith("False")
    assert _run(code, env=_portable_env(vml=False)).endswith("False")  # the settings without the library


def test_kernel_spec_carries_the_settings(tmp_path):
    # the installed kernel starts this environment's python with ENV, one thread and inline figures; the emulated
    # kernel starts the same command under qemu-x86_64
    folder = portable.install_kernel(prefix=str(tmp_path))
    spec = json.loads((folder / "kernel.json").read_text())
    assert spec["argv"][:3] == [sys.executable, "-m", "ipykernel_launcher"]
    assert {k: spec["env"][k] for k in portable.ENV} == portable.ENV and spec["env"]["OMP_NUM_THREADS"] == "1"
    library = ctypes.CDLL(spec["env"]["LD_PRELOAD"])  # a shared library that defines MKL's vector functions
    assert all(hasattr(library, f"vm{t}{name}") for t in "sd" for name, *_ in FUNCTIONS) and hasattr(library, "vdLn")
    emulated = portable.kernel_spec("Haswell-v4")
    assert emulated["argv"][1:3] == ["-cpu", "Haswell-v4"] and emulated["argv"][3:] == spec["argv"]
    assert portable.install_kernel(prefix=str(tmp_path)) == folder  # idempotent


def test_make_install_writes_the_current_kernel():
    # the kernel that executes and replays pages is the one this package would write now
    path = ROOT / ".venv" / "share" / "jupyter" / "kernels" / portable.KERNEL / "kernel.json"
    if not path.exists():
        pytest.skip("no .venv kernel: run `make install`")
    assert json.loads(path.read_text())["env"] == portable.kernel_env()


@pytest.mark.parametrize("module", ["torch", "scipy.stats", "sklearn.base", "cdt"])
def test_make_install_writes_the_bytecode_of_smoke_kernels(module):
    # smoke kernels run with asserts off (python -O); without this bytecode, where PYTHONDONTWRITEBYTECODE is set,
    # each compiles these packages from source again: 90 s a page under emulation
    import importlib.util

    if not (ROOT / ".venv" / ".installed").exists() or not sys.prefix.startswith(str(ROOT / ".venv")):
        pytest.skip("not the .venv of `make install`")
    origin = importlib.util.find_spec(module).origin
    assert os.path.exists(importlib.util.cache_from_source(origin, optimization=1)), f"{module}: run `make install`"


@pytest.mark.slow
def test_emulated_cpus_of_both_vendors_compute_the_same_bits():
    # with the settings: this CPU, an emulated Intel Haswell and an emulated AMD Rome print the same hash.
    # Negative control: without them, this CPU and the emulated Haswell differ (vectorised code paths).
    if portable.qemu() is None:
        if os.environ.get("CI"):
            pytest.fail("qemu-x86_64 missing: CI installs qemu-user")
        pytest.skip("qemu-x86_64 not installed (Debian's qemu-user)")
    env = _portable_env()
    native = _run(BITS, env=env)
    assert native.endswith("DEFAULT")
    for cpu in ("Haswell-v4", "EPYC-Rome", "SandyBridge"):  # Intel and AMD with FMA, and an Intel without
        assert _run(BITS, env=env, cpu=cpu) == native, cpu
    assert _run(BITS, env=_bare_env()).split()[0] != _run(BITS, env=_bare_env(), cpu="Haswell-v4").split()[0]
    # and with the other settings but without the vector-math library, MKL's sqrt and log still differ here
    bare_vml = _portable_env(vml=False)
    assert _run(BITS, env=bare_vml).split()[0] != _run(BITS, env=bare_vml, cpu="Haswell-v4").split()[0]
    # and without glibc's tunables, this CPU (with FMA) and the SandyBridge (without) compute other exp and sin
    free_libm = {k: v for k, v in env.items() if k != "GLIBC_TUNABLES"}
    assert _run(BITS, env=free_libm).split()[0] != _run(BITS, env=free_libm, cpu="SandyBridge").split()[0]


# (name in MKL, the function as numpy, scipy or mpmath (where scipy's tail is off) computes it, inputs, most ulp:
# glibc's published bounds, e.g. 5 for erfc)
FUNCTIONS = [("Sqrt", np.sqrt, (0, 1e6), 0), ("Exp", np.exp, (-50, 50), 1), ("Ln", np.log, (1e-6, 1e6), 1),
             ("Log10", np.log10, (1e-6, 1e6), 1), ("Log2", np.log2, (1e-6, 1e6), 1), ("Tanh", np.tanh, (-20, 20), 2),
             ("Sin", np.sin, (-30, 30), 1), ("Cos", np.cos, (-30, 30), 1), ("Tan", np.tan, (-1.5, 1.5), 2),
             ("Acos", np.arccos, (-1, 1), 1), ("Asin", np.arcsin, (-1, 1), 1), ("Atan", np.arctan, (-1e3, 1e3), 1),
             ("Erf", scipy.special.erf, (-6, 6), 2),
             ("Erfc", np.vectorize(lambda v: float(mpmath.erfc(v))), (-6, 9), 5),
             ("ErfInv", scipy.special.erfinv, (-1, 1), 4), ("Trunc", np.trunc, (-1e3, 1e3), 0)]


@pytest.mark.parametrize("name, reference, bounds, ulp", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_vector_math_library_computes_each_function(vml, name, reference, bounds, ulp):
    # an independent route (numpy's and scipy's own implementations, in double precision) agrees to ``ulp`` in
    # each precision; a swapped function (exp for exp2, erf for erfc) is off by orders of magnitude
    x = np.random.default_rng(0).uniform(*bounds, 20_000)
    for dtype in (np.float64, np.float32):
        xs = x.astype(dtype)
        ours, ref = _call(vml, name, xs), reference(xs.astype(np.float64)).astype(dtype)
        finite = np.isfinite(ref) & (ref != 0)
        err = np.abs(ours[finite].astype(np.float64) - ref[finite]) / np.spacing(np.abs(ref[finite]))
        assert err.max() <= ulp, (name, dtype.__name__, float(err.max()))


def test_vector_math_library_edges(vml):
    y = np.array([-1.0, 1.0, 1.5, 0.0, np.nan])
    assert np.array_equal(_call(vml, "ErfInv", y), [-np.inf, np.inf, np.nan, 0.0, np.nan], equal_nan=True)
    assert np.array_equal(_call(vml, "Sqrt", np.array([0.0, np.inf, 4.0])), [0.0, np.inf, 2.0])


TORCH_CALLS = """
import torch, numpy as np, ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
ops = dict(Sqrt=torch.sqrt, Exp=torch.exp, Ln=torch.log, Log10=torch.log10, Log2=torch.log2, Tanh=torch.tanh,
           Sin=torch.sin, Cos=torch.cos, Tan=torch.tan, Acos=torch.acos, Asin=torch.asin, Atan=torch.atan,
           Erf=torch.erf, Erfc=torch.erfc, ErfInv=torch.erfinv, Trunc=torch.trunc)
# the process's global lookup (as libtorch's calls see it) finds the library's own functions
glob = ctypes.CDLL(None)
address = lambda h, n: ctypes.cast(getattr(h, n), ctypes.c_void_p).value if hasattr(h, n) else None
names = [p + n for p in ("vms", "vmd") for n in ops] + ["vsLn", "vdLn"]
bad = [n for n in names if address(glob, n) != address(lib, n)]
for dtype, prefix in ((torch.float32, "vms"), (torch.float64, "vmd")):
    x = torch.rand(5000, dtype=dtype, generator=torch.Generator().manual_seed(0)) * 1.8 - 0.9
    for name, op in ops.items():
        a = x.abs() + 0.01 if name in ("Sqrt", "Ln", "Log10", "Log2") else x
        ours = np.empty(len(a), dtype=a.numpy().dtype)
        getattr(lib, prefix + name)(ctypes.c_int(len(a)), a.numpy().ctypes.data_as(ctypes.c_void_p),
                                    ours.ctypes.data_as(ctypes.c_void_p), ctypes.c_int64(0))
        if not np.array_equal(op(a).numpy(), ours):
            bad.append(prefix + name)
print(" ".join(bad) or "all")
"""


def test_torch_calls_reach_the_vector_math_library(vml):
    # in the portable kernel the loader binds MKL's names to the library, and PyTorch's sixteen vector-math calls
    # return its bits exactly; without the preload the names are not the library's
    lib = str(portable.vml_library())
    assert _run(TORCH_CALLS.replace("sys.argv[1]", repr(lib)), env=_portable_env()) == "all"
    assert _run(TORCH_CALLS.replace("sys.argv[1]", repr(lib)), env=_portable_env(vml=False)) != "all"
