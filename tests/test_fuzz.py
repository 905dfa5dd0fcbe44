"""Fuzzing the form reader: 3,000 damaged and crafted forms (tests/fuzzforms.py, seeded, the
same every run) each read or rejected with a FormError whose rule is in the rule table —
never another exception, never a crash. The cases are read in a forked child whose address
space is limited, so that a case the size check let through cannot take the machine's memory:
the child dying fails the test, naming the case."""

from __future__ import annotations

import os
import resource
import traceback

import pytest
from formbuilder import form_bytes, good_values

import fuzzforms
from conftest import ROOT
from pipeline.config.methodology import load_methodology
from pipeline.core.errors import FormError
from pipeline.core.parallel import Forked, WorkerDied, can_fork
from pipeline.core.rules import RULES
from pipeline.form.reader import read_form_values

METHODOLOGY = load_methodology(ROOT / "methodology" / "default.yaml")
CASES = 3_000
SEED = 20
MEMORY_LIMIT = 2 << 30  # bytes of address space the child may add to what it starts with


def _forms() -> list[bytes]:
    m = METHODOLOGY
    return [form_bytes(m, good_values(m)), form_bytes(m, good_values(m, code="0201"), protect=False)]


def _vm_size() -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmSize:"))


def _run_cases(share: tuple[list[bytes], range]) -> dict[str, object]:
    """In the child: every case read; the rules met, and the cases that raised something else."""
    forms, cases = share
    if os.path.exists("/proc/self/status"):
        limit = _vm_size() + MEMORY_LIMIT
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    rules: dict[str, int] = {}
    bad: list[str] = []
    for case in cases:
        what, data = fuzzforms.mutate(forms[case % len(forms)], SEED, case)
        try:
            read_form_values(data, METHODOLOGY, name=f"случай {case}.xlsx")
            rules["read"] = rules.get("read", 0) + 1
        except FormError as exc:
            rules[exc.rule] = rules.get(exc.rule, 0) + 1
            if exc.rule not in RULES or f"случай {case}.xlsx" not in str(exc) or not exc.reason:
                bad.append(f"case {case} ({what}): rule {exc.rule!r} / {exc}")
        except BaseException as exc:  # noqa: BLE001 - what the test is looking for
            bad.append(f"case {case} ({what}): {''.join(traceback.format_exception_only(exc)).strip()}")
    return {"rules": rules, "bad": bad}


@pytest.mark.skipif(not can_fork(), reason="the cases are read in a forked child with a memory limit (no fork here)")
def test_damaged_and_crafted_forms_are_read_or_rejected_with_a_rule():
    forms = _forms()
    halves = [range(0, CASES // 2), range(CASES // 2, CASES)]
    results = []
    for cases in halves:
        try:
            results.append(Forked(_run_cases, (forms, cases)).result())
        except WorkerDied as died:
            pytest.fail(f"the reader died on one of cases {cases.start}…{cases.stop - 1} ({died}); "
                        "find it with fuzzforms.mutate and read_form_values")
    bad = [b for r in results for b in r["bad"]]
    assert bad == []
    rules: dict[str, int] = {}
    for r in results:
        for k, v in r["rules"].items():
            rules[k] = rules.get(k, 0) + v
    assert sum(rules.values()) == CASES
    # the mutations reach every kind of outcome, not only the first check
    assert {"read", "file.corrupt", "file.too_large", "file.not_xlsx"} <= set(rules), rules


def test_mutations_are_deterministic():
    form = _forms()[0]
    assert [fuzzforms.mutate(form, SEED, i) for i in range(20)] == [fuzzforms.mutate(form, SEED, i) for i in range(20)]
