"""Every page at the smoke scale (a few seconds, every code path) on every device present: it runs to its claim
record; a page that computes on the CPU by nature refuses ``cuda`` in one line instead of ignoring it."""

import json

import pytest

from conftest import DEVICES, ROOT
from dltheory.pipeline import CellFailed, layout
from dltheory.pipeline.runner import execute

SOURCES = layout.sources(ROOT)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("source", SOURCES, ids=[layout.claim_id(s) for s in SOURCES])
def test_every_page_runs_at_smoke_scale(source, device, tmp_path):
    cid = layout.claim_id(source)
    cpu_only = layout.catalogue(ROOT)["claims"][cid].get("cpu_only")
    if device != "cpu" and cpu_only:
        with pytest.raises(CellFailed, match="runs on the CPU only"):
            execute(ROOT, cid, [("device", device)], out=tmp_path, scale="smoke")
        return
    _, rec = execute(ROOT, cid, [("device", device)], out=tmp_path, scale="smoke")
    record = json.loads(rec.read_text())
    assert record["scale"] == "smoke" and record["parameters"]["device"] == device
    assert record["id"] == cid and "failed" not in record
