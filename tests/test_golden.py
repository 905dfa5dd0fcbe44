"""The sample's outputs are what they were: a change of code that is meant to keep behaviour
(a refactoring, a speed-up) leaves every processed table, page and Excel sheet the same.

The fingerprints are in tests/golden/sample.json (see tests/golden.py for what is compared
and how to update them when a change is meant to alter outputs)."""

from __future__ import annotations

import json

import pytest

import golden

pytestmark = pytest.mark.slow


def test_sample_outputs_equal_their_fingerprints(sample_root):
    # sample_root (conftest): the sample's every year run once per session, as run here before
    expected = json.loads(golden.GOLDEN.read_text(encoding="utf-8"))
    actual = golden.digest(sample_root)
    assert len(actual) > 100, "the sample run wrote too little"
    diff = golden.differences(expected, actual)
    assert not diff, ("outputs of the sample changed; if that is intended, run `make report` and "
                      "`.venv/bin/python tests/golden.py --update`, and say why in the commit:\n" + "\n".join(diff[:40]))


def test_fingerprints_see_a_changed_cell_and_ignore_chart_bytes(tmp_path):
    page = tmp_path / "p.html"
    page.write_text('<p>42,3 %</p><img alt="диаграмма" src="data:image/png;base64,AAAA">', encoding="utf-8")
    before = golden.fingerprint(page)
    page.write_text('<p>42,3 %</p><img alt="диаграмма" src="data:image/png;base64,BBBB">', encoding="utf-8")
    assert golden.fingerprint(page) == before
    page.write_text('<p>42,2 %</p><img alt="диаграмма" src="data:image/png;base64,BBBB">', encoding="utf-8")
    assert golden.fingerprint(page) != before
