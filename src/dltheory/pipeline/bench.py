"""``python -m dltheory bench``: our kernels against their peers, on the same inputs in one process.

Each row times ours and the peer (or the machine's limit) over repeats, checks that the two agree, and reports the
median time ratio (ours / peer: below 1 means ours is faster). The rows are written to ``book/_bench/bench.json``;
``python -m dltheory status`` renders them as ``book/performance.md``. Run under the portable numerics (one thread,
baseline kernels), as the pages are.
"""

from __future__ import annotations

import json
import platform
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = ["ROWS", "run", "median_time"]


def median_time(fn: Callable[[], object], repeats: int, *, warm_up: bool = True) -> tuple[float, object]:
    """The median wall time (s) of ``repeats`` calls of ``fn`` (after one warm-up call), and the last result."""
    out = fn() if warm_up else None
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def _row(name: str, claim: str, size: str, ours: float, peer: float, peer_name: str, agree: float,
         tolerance: float, reason: str = "") -> dict:
    return {"name": name, "claim": claim, "size": size, "ours_seconds": ours, "peer_seconds": peer,
            "peer": peer_name, "ratio": ours / peer, "disagreement": agree, "tolerance": tolerance,
            "agree": bool(agree <= tolerance), "reason": reason}


def entropic_transport(repeats: int) -> list[dict]:
    """K4's Sinkhorn plan on a 1-D grid against POT's plain scaling solver (where it converges) and its
    log-domain solver, at K4's regularisation and a larger one."""
    import ot

    from dltheory import transport

    x = np.linspace(0, 1, 200)
    cost = transport.squared_distance_cost(x[:, None])
    a = np.exp(-((x - 0.3) ** 2) / (2 * 0.03**2))
    b = np.exp(-((x - 0.7) ** 2) / (2 * 0.05**2))
    a, b = a / a.sum(), b / b.sum()
    rows = []
    for reg in (0.002, 0.02):
        ours, plan = median_time(lambda reg=reg: transport.sinkhorn(a, b, cost, reg, tol=1e-9).plan, repeats)
        for method in ("sinkhorn", "sinkhorn_log"):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                peer, theirs = median_time(lambda reg=reg, m=method: ot.sinkhorn(
                    a, b, cost, reg, method=m, numItermax=100_000, stopThr=1e-9), repeats)
            diff = float(np.abs(plan - theirs).sum()) if np.all(np.isfinite(theirs)) else float("inf")
            failed = bool(caught) or not np.isfinite(diff)
            reason = ("POT's plain solver underflows at this regularisation (its kernel exp(-C/reg) reaches "
                      "exp(-500)); ours keeps the log path there" if failed and method == "sinkhorn" else
                      "ours: log-domain potentials with absorbed scaling, one log-sum-exp per block" if
                      method == "sinkhorn" else "")
            rows.append(_row(f"Sinkhorn plan vs POT {method}", "K4", f"200 x 200, reg {reg}", ours, peer,
                             f"ot.sinkhorn(method='{method}')", diff, 1e-6, reason))
    return rows


def fisher_lambda_max(repeats: int, widths: tuple[int, ...] = (256, 1024, 4096)) -> list[dict]:
    """K1's largest Fisher eigenvalue through the (TC, TC) dual Gram matrix against curvlinops' GGN operator
    and scipy's Lanczos, across widths (the peer, far slower, is timed once, without a warm-up)."""
    import torch
    from scipy.sparse.linalg import eigsh

    from dltheory import fisher

    rows = []
    for width in widths:
        g = torch.Generator().manual_seed(width)
        net = fisher.random_network([100, width, width, 3], sigma_w2=2.0, sigma_b2=0.5, generator=g)
        x = torch.randn(30, 100, generator=g, dtype=torch.float64)
        ours, lam = median_time(lambda net=net, x=x: fisher.empirical_spectrum(net, x).max, repeats)
        op = fisher.peer_fisher_operator(net, x)
        peer, theirs = median_time(lambda op=op: float(eigsh(op, k=1, which="LA", tol=1e-10)[0][0]), 1,
                                   warm_up=False)
        rows.append(_row("Fisher lambda_max vs curvlinops + Lanczos", "K1", f"100-{width}-{width}-3, T = 30",
                         ours, peer, "curvlinops GGNLinearOperator + scipy eigsh", abs(lam / theirs - 1), 1e-6,
                         "ours: one (TC x TC) Gram matrix instead of matrix-vector products with the P x P Fisher"))
    return rows


def batched_training(repeats: int, nets: int = 8, n: int = 512, steps: int = 300) -> list[dict]:
    """F1's ReLU networks trained as one batch (``bmm``) against the same networks trained one by one. Agreement
    is checked after a few steps (training then amplifies last-bit differences of the summation order into
    different fits of equal quality); the times are of the full run."""
    import torch

    from dltheory import estimation

    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (nets, n))
    y = np.where(x > 0.5, 1.0, 0.0) + 0.2 * rng.standard_normal((nets, n))
    grid = np.linspace(0, 1, 101)

    def gens():
        return [torch.Generator().manual_seed(s) for s in range(nets)]

    def batched(k: int) -> np.ndarray:
        return estimation.relu_fit(x, y, gens(), steps=k).predict(grid)

    def looped(k: int) -> np.ndarray:
        return np.vstack([estimation.relu_fit(x[s:s + 1], y[s:s + 1], [g], steps=k).predict(grid)
                          for s, g in enumerate(gens())])

    ours, _ = median_time(lambda: batched(steps), repeats)
    peer, _ = median_time(lambda: looped(steps), repeats)
    diff = float(np.abs(batched(5) - looped(5)).max())
    return [_row("ReLU ensemble: one batch vs a loop", "F1", f"{nets} nets 3x32, n = {n}, {steps} Adam steps",
                 ours, peer, "the same networks trained one at a time", diff, 1e-5,
                 "near the thin-matmul limit either way: batching saves Python overhead, not FLOPs")]


def enumeration(repeats: int, n: int = 24, m: int = 20) -> list[dict]:
    """Exact enumeration of an RBM's hidden layer (Y2, Y1, M3) in states per second, against the bare cost of the
    float64 transcendental functions it must evaluate (a tanh and a log-cosh per field entry, one exp per state):
    the machine's limit for this computation, since each chunk of fields fits in cache."""
    import torch

    from dltheory import boltzmann

    model = boltzmann.random_rbm(n, m, 1.0, generator=torch.Generator().manual_seed(0))
    ours, ex = median_time(lambda: boltzmann.exact(model), repeats)
    fields = torch.randn(2**16, n, dtype=torch.float64)
    chunks = 2**m // 2**16

    def bare() -> None:
        for _ in range(chunks):
            torch.tanh(fields)
            boltzmann.log2cosh(fields)
            torch.exp(fields[:, 0])

    limit, _ = median_time(bare, repeats)
    chunked = boltzmann.exact(model, chunk=2**12)  # the same sum in other chunks: the running rescaling is exact
    return [_row("Exact enumeration of 2^20 hidden states", "Y2", f"RBM {n} x {m}: {2**m / ours:.3g} states/s",
                 ours, limit, "the bare float64 tanh, log-cosh and exp it must evaluate",
                 abs(float(ex.log_z - chunked.log_z)), 1e-9,
                 "the state bits and the (N, m) x (m, n) field products come on top of the transcendental work")]


def mutual_information(repeats: int, n: int = 1000, rho: float = 0.6) -> list[dict]:
    """M1's Gaussian-mixture mutual information against scikit-learn's kNN estimate, on Gaussian pairs of known
    mutual information; the disagreement reported is the larger of the two errors against the closed form."""
    from sklearn.feature_selection import mutual_info_regression

    from dltheory import interpret

    rng = np.random.default_rng(0)
    xy = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=n)
    truth = -0.5 * np.log(1 - rho**2)
    ours, est = median_time(lambda: interpret.gmm_mutual_information(
        xy[:, 0], xy[:, 1], max_components=4, n_mc=20000, rng=np.random.default_rng(1)), repeats)
    peer, knn = median_time(lambda: float(mutual_info_regression(xy[:, :1], xy[:, 1], n_neighbors=3,
                                                                 random_state=0)[0]), repeats)
    return [_row("Mutual information vs kNN", "M1", f"Gaussian pair, n = {n}, rho = {rho}", ours, peer,
                 "sklearn mutual_info_regression (k = 3)", max(abs(est - truth), abs(knn - truth)), 0.05,
                 "EM with BIC over 1-4 components and 20000 Monte Carlo draws against one kNN pass: the mixture "
                 "buys a density, which M1 needs for every input-output pair")]


ROWS = (entropic_transport, fisher_lambda_max, batched_training, enumeration, mutual_information)


def run(root: Path, repeats: int = 5) -> Path:
    """Every row of :data:`ROWS`; writes ``book/_bench/bench.json`` and returns its path."""
    from dltheory import portable
    from dltheory.pipeline.runner import machine

    rows = []
    for bench in ROWS:
        t0 = time.perf_counter()
        rows += bench(repeats)
        print(f"{bench.__name__}: {time.perf_counter() - t0:.0f} s", flush=True)
    out = root / "book" / "_bench" / "bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"machine": machine(), "python": platform.python_version(), "portable_numerics": portable.active(),
            "repeats": repeats, "executed": time.strftime("%Y-%m-%d", time.gmtime())}
    out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    return out
