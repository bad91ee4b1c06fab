"""dltheory.repro: seeding, rounding, claim-record validation, and writing only under the runner."""

import json

import numpy as np
import pytest
import torch

from dltheory import repro

ARGS = dict(title="t", status="reproduced", criterion="c")


def test_setup_makes_draws_repeatable():
    # the same seed gives the same numpy, torch and generator draws
    a = repro.setup(3)
    draws_a = (a.rng.normal(3), torch.randn(3, generator=a.generator), np.random.rand(2))
    b = repro.setup(3)
    draws_b = (b.rng.normal(3), torch.randn(3, generator=b.generator), np.random.rand(2))
    for x, y in zip(draws_a, draws_b, strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    assert torch.get_num_threads() == 1


def test_setup_rejects_non_int_seed():
    with pytest.raises(TypeError, match="seed must be an int"):
        repro.setup(1.5)


@pytest.mark.parametrize(("x", "expected"), [(123456, 123456), (0.000123456, 0.0001235), (98765.4321, 98770.0),
                                             (-1.23456, -1.235), (0.0, 0.0), (np.int64(7), 7)])
def test_significant_rounds_to_four_digits(x, expected):
    out = repro.significant(x)
    assert out == expected and type(out) is type(expected)


def test_record_claim_writes_only_under_the_runner(tmp_path, monkeypatch, capsys):
    # without DLTHEORY_CLAIMS_DIR nothing is written; with it the rounded record lands in <dir>/<ID>.json
    monkeypatch.delenv(repro.CLAIMS_DIR_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert repro.record_claim("Y9", measured={"x": 1.234567, "n": 3}, **ARGS) is None
    assert list(tmp_path.iterdir()) == []
    assert capsys.readouterr().out == "Y9: reproduced\n  x = 1.235\n  n = 3\n"
    monkeypatch.setenv(repro.CLAIMS_DIR_ENV, str(tmp_path / "claims"))
    repro.record_claim("Y9", measured={"x": 1.234567, "n": 3}, **ARGS)
    record = json.loads((tmp_path / "claims" / "Y9.json").read_text())
    assert record["measured"] == {"x": 1.235, "n": 3} and record["status"] == "reproduced"


@pytest.mark.parametrize(("kwargs", "error"), [
    (dict(claim_id="y2"), "not of the form"),
    (dict(status="mostly"), "status 'mostly' is not one of"),
    (dict(measured={"x": "high"}), "must be numbers"),
    (dict(measured={"x": True}), "must be numbers"),
])
def test_record_claim_rejects_bad_records(kwargs, error):
    args = dict(claim_id="Y9", measured={"x": 1.0}, **ARGS) | kwargs
    with pytest.raises((ValueError, TypeError), match=error):
        repro.record_claim(args.pop("claim_id"), **args)
