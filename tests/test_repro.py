"""dltheory.repro: seeding, rounding, grading, claim-record validation, and writing only under the runner."""

import json

import numpy as np
import pytest
import torch

from dltheory import repro

CHECKS = {"above_chance": repro.evidence(0.8, ">=", 0.6), "sums_to_one": repro.sanity(True)}
CONTROL = {"shuffled": repro.control("labels shuffled", {"above_chance": repro.evidence(0.5, ">=", 0.6),
                                                         "sums_to_one": repro.sanity(True)}, kind="near miss")}
ARGS = dict(title="t", status=repro.grade(CHECKS), criterion="c", checks=CHECKS, controls=CONTROL)


def test_setup_makes_draws_repeatable():
    # the same seed gives the same numpy, torch and generator draws, on one thread
    a = repro.setup(3)
    draws_a = (a.rng.normal(3), torch.randn(3, generator=a.generator), np.random.rand(2))
    b = repro.setup(3)
    draws_b = (b.rng.normal(3), torch.randn(3, generator=b.generator), np.random.rand(2))
    for x, y in zip(draws_a, draws_b, strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    assert torch.get_num_threads() == 1


def test_setup_warns_when_numerics_are_not_portable(monkeypatch):
    # the test process was not started with dltheory.portable.ENV: setup says the digits may differ
    monkeypatch.delenv("ATEN_CPU_CAPABILITY", raising=False)
    with pytest.warns(RuntimeWarning, match="numerics are not portable"):
        assert repro.setup(0).portable is False


def test_setup_rejects_non_int_seed():
    with pytest.raises(TypeError, match="seed must be an int"):
        repro.setup(1.5)


@pytest.mark.parametrize(("x", "expected"), [(123456, 123456), (0.000123456, 0.0001235), (98765.4321, 98770.0),
                                             (-1.23456, -1.235), (0.0, 0.0), (np.int64(7), 7)])
def test_significant_rounds_to_four_digits(x, expected):
    out = repro.significant(x)
    assert out == expected and type(out) is type(expected)


def test_derived_seeds_are_distinct_across_names_indices_and_page_seeds():
    # no two streams of seeds 0-3, five names, ten indices share a seed (seed + i would collide at once)
    seen = {repro.derive_seed(s, name, i) for s in range(4) for name in ("net", "data", "a", "b", "c")
            for i in range(10)}
    assert len(seen) == 4 * 5 * 10
    assert repro.derive_seed(0, "net", 1) != repro.derive_seed(1, "net", 0)
    assert repro.derive_seed(2, "net", 3) == repro.derive_seed(2, "net", 3) < 2**63
    s = repro.setup(5)
    assert s.seed_for("x", 2) == repro.derive_seed(5, "x", 2)
    np.testing.assert_array_equal(s.rng_for("x").normal(3), np.random.default_rng(repro.derive_seed(5, "x")).normal(3))
    assert torch.equal(torch.randn(3, generator=s.generator_for("x")),
                       torch.randn(3, generator=torch.Generator().manual_seed(repro.derive_seed(5, "x"))))


@pytest.mark.parametrize(("op", "value", "threshold", "passed", "margin"), [
    (">=", 0.8, 0.6, True, 0.2), (">=", 0.6, 0.6, True, 0.0), (">", 0.6, 0.6, False, 0.0),
    ("<=", 0.03, 0.05, True, 0.02), ("<", 0.07, 0.05, False, -0.02), (">=", float("nan"), 0.0, False, None)])
def test_a_check_holds_by_its_margin(op, value, threshold, passed, margin):
    c = repro.evidence(value, op, threshold)
    assert c.passed is passed and c.kind == "evidence"
    assert (np.isnan(c.margin) if margin is None else c.margin == pytest.approx(margin))


def test_a_check_scale_defaults_to_the_threshold_and_must_be_given_sense():
    assert repro.evidence(0.8, ">=", -0.5).relative_margin == pytest.approx(2.6)
    assert repro.evidence(-0.3, "<", 0, scale=0.1).relative_margin == pytest.approx(3.0)
    with pytest.raises(TypeError, match="must be a number"):
        repro.evidence(True, ">=", 1)
    with pytest.raises(ValueError, match="op must be"):
        repro.evidence(1, "==", 1)


@pytest.mark.parametrize(("passes", "status"), [((True, True), "reproduced"), ((True, False), "partially reproduced"),
                                                ((False, False), "not reproduced")])
def test_grade_counts_evidence_only(passes, status):
    # a failing sanity check never changes the grade; evidence decides it
    checks = {f"e{i}": repro.evidence(1.0 if p else -1.0, ">=", 0) for i, p in enumerate(passes)}
    assert repro.grade(checks | {"identity": repro.sanity(False)}).status == status


def test_grade_refuses_sanity_only_and_applies_caps():
    with pytest.raises(ValueError, match="no evidence check"):
        repro.grade({"identity": repro.sanity(True)})
    ok = {"e": repro.evidence(1, ">=", 0)}
    capped = repro.grade(ok, cap="partially reproduced", reason="part (iii) untested")
    assert capped.status == "partially reproduced" and capped.reason == "part (iii) untested"
    with pytest.raises(ValueError, match="reason"):
        repro.grade(ok, cap="partially reproduced")
    bad = {"e": repro.evidence(-1, ">=", 0)}
    assert repro.grade(bad, undecided="n too small").status == "undecided at this size"
    assert repro.grade(ok, undecided="n too small").status == "reproduced"


def test_record_claim_refuses_a_status_set_by_hand():
    args = dict(ARGS, measured={"x": 1.0})
    with pytest.raises(ValueError, match="as repro.grade"):
        repro.record_claim("Y9", **(args | {"status": "reproduced"}))
    lie = repro.Verdict("reproduced")
    with pytest.raises(ValueError, match="is not what its checks grade"):
        repro.record_claim("Y9", **(args | {"status": lie, "checks": {"e": repro.evidence(-1, ">=", 0)}}))


def test_record_claim_writes_only_under_the_runner(tmp_path, monkeypatch, capsys):
    # without DLTHEORY_CLAIMS_DIR nothing is written; with it the rounded record lands in <dir>/<ID>.json with
    # its checks, tolerances and controls
    monkeypatch.delenv(repro.CLAIMS_DIR_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    measured = {"x": 1.234567, "n": 3, "slope": repro.measure(-0.98765, tol=0.2612, basis="2 SE")}
    assert repro.record_claim("Y9", measured=measured, **ARGS) is None
    assert list(tmp_path.iterdir()) == []
    assert capsys.readouterr().out == (
        "Y9: reproduced\n  evidence above_chance: holds (0.8 >= 0.6, margin 0.2)\n"
        "  sanity sums_to_one: holds (1 >= 1, margin 0)\n  x = 1.235\n  n = 3\n  slope = -0.9877\n"
        "  control shuffled (near miss, fail expected): failed above_chance\n")
    monkeypatch.setenv(repro.CLAIMS_DIR_ENV, str(tmp_path / "claims"))
    repro.record_claim("Y9", measured=measured, **ARGS)
    record = json.loads((tmp_path / "claims" / "Y9.json").read_text())
    assert record["measured"] == {"x": 1.235, "n": 3, "slope": -0.9877} and record["status"] == "reproduced"
    assert record["tolerances"] == {"slope": {"tol": 0.26, "basis": "2 SE"}}
    shuffled = record["controls"]["shuffled"]
    assert shuffled["passed_check"] is False and shuffled["kind"] == "near miss" and shuffled["sanity_passed"]
    assert shuffled["failed_evidence"] == ["above_chance"]
    assert record["checks"]["above_chance"] == {"passed": True, "kind": "evidence", "value": 0.8, "op": ">=",
                                                "threshold": 0.6, "margin": 0.2, "scale": 0.6}


@pytest.mark.parametrize(("kwargs", "error"), [
    (dict(claim_id="y2"), "not of the form"),
    (dict(status="mostly"), "status 'mostly' is not one of"),
    (dict(checks={"a": True}), "must be repro.evidence"),
    (dict(measured={"x": "high"}), "must be a number"),
    (dict(measured={"x": True}), "must be a number"),
    (dict(controls={}), "needs at least one negative control"),
    (dict(controls={"c": repro.control("a known case", CHECKS, expected="pass", kind="near miss")}),
     "negative control"),
    (dict(controls={"c": repro.control("a strawman", CHECKS, kind="far")}), "near miss"),
])
def test_record_claim_rejects_bad_records(kwargs, error):
    args = dict(ARGS, claim_id="Y9", measured={"x": 1.0}) | kwargs
    with pytest.raises((ValueError, TypeError), match=error):
        repro.record_claim(args.pop("claim_id"), **args)


def test_measure_rejects_a_bad_tolerance():
    with pytest.raises(ValueError, match="tolerance"):
        repro.measure(1.0, tol=float("nan"), basis="x")


def test_is_timing_names_only_machine_speed():
    assert repro.is_timing("cgnn_seconds_per_set") and repro.is_timing("speedup")
    assert not repro.is_timing("accuracy")


def test_to_numpy_leaves_torch_from_any_device_with_its_dtype(device):
    x = torch.arange(3, dtype=torch.float32, device=device, requires_grad=True) * 2
    out = repro.to_numpy(x)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    np.testing.assert_array_equal(out, [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(repro.to_numpy([1, 2]), [1, 2])


def test_a_cpu_only_page_refuses_cuda_in_one_line():
    with pytest.raises(ValueError, match=r"runs on the CPU only \(numpy\): run it with device='cpu'"):
        repro.setup(0, device="cuda", cpu_only="numpy")
    with pytest.raises(ValueError, match="device must be"):
        repro.setup(0, device="tpu")
