"""dltheory.repro: seeding, rounding, grading, claim-record validation, and writing only under the runner."""

import json

import numpy as np
import pytest
import torch

from dltheory import repro

CONTROL = {"shuffled": repro.control("labels shuffled", {"above_chance": False})}
ARGS = dict(title="t", status="reproduced", criterion="c", checks={"above_chance": True}, controls=CONTROL)


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


@pytest.mark.parametrize(("checks", "status"), [({"a": True, "b": True}, "reproduced"),
                                                ({"a": True, "b": False}, "partially reproduced"),
                                                ({"a": False, "b": False}, "not reproduced")])
def test_grade_names_the_status_of_the_checks(checks, status):
    assert repro.grade(checks) == status


def test_record_claim_writes_only_under_the_runner(tmp_path, monkeypatch, capsys):
    # without DLTHEORY_CLAIMS_DIR nothing is written; with it the rounded record lands in <dir>/<ID>.json with
    # its checks, tolerances and controls
    monkeypatch.delenv(repro.CLAIMS_DIR_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    measured = {"x": 1.234567, "n": 3, "slope": repro.measure(-0.98765, tol=0.2612, basis="2 SE")}
    assert repro.record_claim("Y9", measured=measured, **ARGS) is None
    assert list(tmp_path.iterdir()) == []
    assert capsys.readouterr().out == ("Y9: reproduced\n  check above_chance: holds\n  x = 1.235\n  n = 3\n"
                                       "  slope = -0.9877\n  control shuffled (fail expected): failed the check\n")
    monkeypatch.setenv(repro.CLAIMS_DIR_ENV, str(tmp_path / "claims"))
    repro.record_claim("Y9", measured=measured, **ARGS)
    record = json.loads((tmp_path / "claims" / "Y9.json").read_text())
    assert record["measured"] == {"x": 1.235, "n": 3, "slope": -0.9877} and record["status"] == "reproduced"
    assert record["tolerances"] == {"slope": {"tol": 0.26, "basis": "2 SE"}}
    assert record["controls"]["shuffled"]["passed_check"] is False
    assert record["checks"] == {"above_chance": True}


@pytest.mark.parametrize(("kwargs", "error"), [
    (dict(claim_id="y2"), "not of the form"),
    (dict(status="mostly"), "status 'mostly' is not one of"),
    (dict(measured={"x": "high"}), "must be a number"),
    (dict(measured={"x": True}), "must be a number"),
    (dict(controls={}), "needs at least one negative control"),
    (dict(controls={"c": repro.control("a known case", {"a": True}, expected="pass")}), "negative control"),
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
