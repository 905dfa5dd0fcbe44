"""The cache of forms read (pipeline/form/cache.py): a form is read again unless its name and
bytes are those of an entry made by the same code and methodology; the tables are the same
with the cache or without; a cache in doubt is not used at all."""

from __future__ import annotations

import hashlib
import json
import os
import signal
from pathlib import Path

import pytest
from formbuilder import form_bytes, good_values, raw_folder

from pipeline.config.methodology import load_methodology
from pipeline.config.params import load_params
from pipeline.form import cache as form_cache
from pipeline.io import storage
from pipeline.stages import ingest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def year(tmp_path, make_params, methodology):
    m = methodology
    files = {
        "0107.xlsx": form_bytes(m, good_values(m, "0107")),
        "0108.xlsx": form_bytes(m, good_values(m, "0108", info__school_code=108)),
        "0201_a.xlsx": form_bytes(m, good_values(m, "0201")),
        "copy of 0201_a.xlsx": form_bytes(m, good_values(m, "0201")),
        "broken.xlsx": form_bytes(m, good_values(m, "0999"))[:900],
        "readme.txt": "не форма".encode(),
    }
    raw = raw_folder(tmp_path / "raw", files)
    return load_params(make_params(raw_dir=raw)), raw


def ingest_once(params, methodology, **kw):
    """files.csv and forms.csv as their CSV bytes, and the cache used (saved after)."""
    cache = ingest.form_cache(params, methodology)
    tables = ingest.run(ingest.load_raw(params), methodology, params, cache=cache, **kw)
    cache.save()
    return {name: storage.to_csv_bytes(df) for name, df in tables.items()}, cache


def plain(params, methodology):
    tables = ingest.run(ingest.load_raw(params), methodology, params)
    return {name: storage.to_csv_bytes(df) for name, df in tables.items()}


def cache_file(params) -> Path:
    return form_cache.cache_path(params.processed_dir)


def test_second_run_reads_nothing_and_gives_the_same_tables(year, methodology):
    params, _ = year
    expected = plain(params, methodology)
    first, c1 = ingest_once(params, methodology)
    assert first == expected and c1.hits == 0 and cache_file(params).is_file()
    before = cache_file(params).read_bytes()
    second, c2 = ingest_once(params, methodology)
    readable = 6  # every file read, the broken one and the text file included (their rejections too)
    assert second == expected and c2.hits == readable and c2.dropped == ""
    assert cache_file(params).read_bytes() == before  # not rewritten: nothing changed


def test_a_changed_form_is_read_again_and_only_it(year, methodology, monkeypatch):
    params, raw = year
    ingest_once(params, methodology)
    (raw / "0107.xlsx").write_bytes(form_bytes(methodology, good_values(methodology, "0107", info__school_name="Другая школа")))
    (raw / "0109.xlsx").write_bytes(form_bytes(methodology, good_values(methodology, "0109")))
    (raw / "broken.xlsx").unlink()
    read = []
    real = ingest._read_all
    monkeypatch.setattr(ingest, "_read_all", lambda items, *a: read.extend(n for n, _ in items) or real(items, *a))
    tables, cache = ingest_once(params, methodology)
    assert read == ["0107.xlsx", "0109.xlsx"] and cache.hits == 4
    assert tables == plain(params, methodology)
    assert "Другая школа".encode() in tables["forms.csv"]
    kept = form_cache.parse(cache_file(params).read_bytes(), cache.key)
    assert sorted(kept) == ["0107.xlsx", "0108.xlsx", "0109.xlsx", "0201_a.xlsx", "copy of 0201_a.xlsx", "readme.txt"]


def test_an_entry_is_never_used_for_other_bytes_or_another_name(year, methodology):
    """A form renamed, or another file with the bytes of a remembered one, or a remembered name
    with other bytes: read from its own bytes (an entry cannot bring rows into another file)."""
    params, raw = year
    _, cache = ingest_once(params, methodology)
    (raw / "0108.xlsx").rename(raw / "0108_renamed.xlsx")
    (raw / "0201_a.xlsx").write_bytes((raw / "0107.xlsx").read_bytes())
    tables, cache = ingest_once(params, methodology)
    assert tables == plain(params, methodology)
    forms = tables["forms.csv"].decode()
    assert "0201_a.xlsx,Сведения,B4,4,info.school_code,Код ОО,0107" in forms


def _tamper(params, edit) -> None:
    path = cache_file(params)
    body, _, digest = path.read_bytes().rpartition(b"\n")
    assert hashlib.sha256(body).hexdigest().encode() == digest
    doc = json.loads(body)
    edit(doc)
    body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
    path.write_bytes(body + b"\n" + hashlib.sha256(body).hexdigest().encode())


def _set_value(doc, value):
    doc["forms"][0][3][0] = value


@pytest.mark.parametrize("damage, why", [
    (lambda p: cache_file(p).write_bytes(cache_file(p).read_bytes()[:-10]), "контрольная сумма"),
    (lambda p: cache_file(p).write_bytes(b"\n{}"), "контрольная сумма"),
    (lambda p: _tamper(p, lambda d: d.update(key="0" * 64)), "другой версией"),
    (lambda p: _tamper(p, lambda d: d.update(format=99)), "другой формат"),
    (lambda p: _tamper(p, lambda d: _set_value(d, 5)), "неожиданное содержимое"),
    (lambda p: _tamper(p, lambda d: d["forms"][0][3].append("лишнее")), "неожиданное содержимое"),
    (lambda p: _tamper(p, lambda d: d["forms"][0].__setitem__(4, "9" * len(d["forms"][0][4]))), "неожиданное содержимое"),
    (lambda p: _tamper(p, lambda d: d["forms"].reverse()), "неожиданное содержимое"),
    (lambda p: _tamper(p, lambda d: d["forms"][0].__setitem__(1, "../x")), "неожиданное содержимое"),
    (lambda p: _tamper(p, lambda d: d["layouts"][0][0].__setitem__(3, "4")), "неожиданное содержимое"),
])
def test_a_damaged_or_foreign_cache_is_not_used_at_all(year, methodology, damage, why):
    params, _ = year
    expected = plain(params, methodology)
    ingest_once(params, methodology)
    damage(params)
    tables, cache = ingest_once(params, methodology)
    assert why in cache.dropped and cache.hits == 0
    assert tables == expected
    assert ingest_once(params, methodology)[1].hits == 6  # written anew, whole


def test_a_cache_made_for_another_methodology_is_not_used(year, methodology, tmp_path):
    params, _ = year
    ingest_once(params, methodology)
    other_file = tmp_path / "other.yaml"
    other_file.write_bytes((ROOT / "methodology" / "default.yaml").read_bytes() + b"\n# another version\n")
    other = load_methodology(other_file)
    cache = ingest.form_cache(params, other)
    assert cache.hits == 0 and not cache.entries and "другой версией" in cache.dropped


def test_a_symlinked_cache_is_not_followed(year, methodology, tmp_path):
    params, _ = year
    ingest_once(params, methodology)
    elsewhere = tmp_path / "elsewhere.json"
    os.replace(cache_file(params), elsewhere)
    cache_file(params).symlink_to(elsewhere)
    cache = ingest.form_cache(params, methodology)
    assert not cache.entries and cache.dropped


def test_a_value_the_cache_holds_is_what_the_run_writes(year, methodology):
    """A valid entry is used as it is: the cache is as trusted as processed_dir, and no more
    (it is looked up only by the sha256 of the bytes this run read)."""
    params, _ = year
    ingest_once(params, methodology)
    doc = json.loads(cache_file(params).read_bytes().rpartition(b"\n")[0])
    name = doc["forms"][0][0]
    _tamper(params, lambda d: _set_value(d, "подменено"))
    tables, cache = ingest_once(params, methodology)
    assert cache.hits == 6 and "подменено".encode() in tables["forms.csv"]
    # …but only for the bytes it was made from: the form changed, its entry is not used
    _tamper(params, lambda d: _set_value(d, "подменено"))
    form = Path(params.raw_dir) / name
    form.write_bytes(form.read_bytes() + b"\0")
    tables, _ = ingest_once(params, methodology)
    assert "подменено".encode() not in tables["forms.csv"]


def test_cache_bytes_are_deterministic(year, methodology, tmp_path, make_params):
    params, raw = year
    _, cache = ingest_once(params, methodology)
    first = cache_file(params).read_bytes()
    assert form_cache.dump(cache.entries, cache.key) == first
    cache_file(params).unlink()
    ingest_once(params, methodology)
    assert cache_file(params).read_bytes() == first


def test_a_form_that_killed_its_reader_is_not_remembered(year, methodology, monkeypatch):
    params, _ = year
    real = ingest.read_form_values

    def read(data, m, *, name=None):
        if name == "0107.xlsx":
            os.kill(os.getpid(), signal.SIGKILL)
        return real(data, m, name=name)

    monkeypatch.setattr(ingest, "read_form_values", read)
    tables, cache = ingest_once(params, methodology)
    assert b"file.reader_crash" in tables["files.csv"]
    kept = form_cache.parse(cache_file(params).read_bytes(), cache.key)
    assert "0107.xlsx" not in kept and "broken.xlsx" in kept
    monkeypatch.setattr(ingest, "read_form_values", real)
    tables, cache = ingest_once(params, methodology)
    assert b"file.reader_crash" not in tables["files.csv"] and cache.hits == 5


def test_a_failed_cache_write_does_not_fail_the_run(year, methodology):
    params, _ = year
    folder = cache_file(params).parent
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_bytes(b"not a folder")  # the cache cannot be written there
    tables, cache = ingest_once(params, methodology)
    assert tables == plain(params, methodology) and not cache.save()


def test_status_reads_the_cache_and_never_writes_it(year, methodology, monkeypatch):
    from pipeline.run import collection

    params, raw = year
    fresh = collection.build(params)
    assert not Path(params.processed_dir).exists()  # status writes nothing into processed/
    ingest_once(params, methodology)
    before = cache_file(params).read_bytes()
    (raw / "0109.xlsx").write_bytes(form_bytes(methodology, good_values(methodology, "0109")))
    read = []
    real = ingest._read_all
    monkeypatch.setattr(ingest, "_read_all", lambda items, *a: read.extend(n for n, _ in items) or real(items, *a))
    cached = collection.build(params)
    assert read == ["0109.xlsx"] and cache_file(params).read_bytes() == before
    (raw / "0109.xlsx").unlink()
    again = collection.build(params)
    assert again.status.equals(fresh.status) and again.reminders.equals(fresh.reminders) and again.letters == fresh.letters
    assert len(cached.status) >= len(fresh.status)
