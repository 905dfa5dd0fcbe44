"""`publish` writes only into a folder that is safe to write into, keeps it equal to the site
(removing what it published earlier and is no longer part of it, nothing else), writes
nothing outside it and follows no symbolic link."""

from __future__ import annotations

import pathlib
import shutil

import pytest

from pipeline.core.errors import RunError
from pipeline.report import site

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def built(crafted_site_plain):
    return crafted_site_plain  # built once per run (conftest), read only: tests change a copy


@pytest.fixture
def reports(built, tmp_path):
    """A copy of the built site the test may change."""
    return pathlib.Path(shutil.copytree(built, tmp_path / "reports", symlinks=True))


def _tree(folder: pathlib.Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def no_writes(monkeypatch):
    """Any write is a failure (a refused folder must not be touched, even by mistake)."""
    def boom(*args, **kwargs):
        raise AssertionError("publish wrote something")

    monkeypatch.setattr(shutil, "copyfile", boom)
    monkeypatch.setattr(site, "write_bytes_atomic", boom)
    monkeypatch.setattr(pathlib.Path, "mkdir", boom)


@pytest.mark.parametrize("out", ["/", "/etc", "/usr", "/usr/share/site", "/bin", "/var", "/home", str(ROOT),
                                 str(ROOT.parent)])
def test_system_and_project_folders_are_refused(built, no_writes, out):
    with pytest.raises(RunError) as info:
        site.publish(built, out)
    assert out in str(info.value) or str(pathlib.Path(out).resolve()) in str(info.value)


def test_the_home_folder_is_refused(built, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    with pytest.raises(RunError):
        site.publish(built, home)
    assert not any(home.iterdir())


def test_a_non_empty_folder_that_is_no_publication_is_refused(built, tmp_path):
    out = tmp_path / "docs"
    out.mkdir()
    (out / "thesis.docx").write_bytes(b"mine")
    before = _tree(out)
    with pytest.raises(RunError) as info:
        site.publish(built, out)
    assert str(out) in str(info.value) and site.MARKER in str(info.value)
    assert _tree(out) == before


def test_republishing_removes_only_what_left_the_site(reports, tmp_path):
    out = tmp_path / "www"
    n = site.publish(reports, out)
    assert n == len(site.publishable_files(reports)) and (out / site.MARKER).is_file()
    assert (out / "2026" / "schools" / "009.html").is_file()
    (out / "notes.txt").write_text("not ours", encoding="utf-8")
    (out / "2026" / "schools" / "extra.html").write_text("not ours", encoding="utf-8")
    (reports / "2026" / "schools" / "009.html").unlink()  # a school left the registry
    shutil.rmtree(reports / "2025")  # a year withdrawn
    site.publish(reports, out)
    assert not (out / "2026" / "schools" / "009.html").exists()
    assert not (out / "2025").exists()
    assert (out / "notes.txt").read_text(encoding="utf-8") == "not ours"
    assert (out / "2026" / "schools" / "extra.html").is_file()
    published = {p for p in _tree(out) if p not in ("notes.txt", "2026/schools/extra.html", site.MARKER)}
    assert published == {p.as_posix() for p in site.publishable_files(reports)}


def test_symbolic_links_are_never_followed(reports, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("outside", encoding="utf-8")
    # OUT itself a link
    link = tmp_path / "link"
    link.symlink_to(outside, target_is_directory=True)
    with pytest.raises(RunError):
        site.publish(reports, link)
    # a folder inside an earlier publication replaced by a link to elsewhere
    out = tmp_path / "www"
    site.publish(reports, out)
    shutil.rmtree(out / "2026" / "schools")
    (out / "2026" / "schools").symlink_to(outside, target_is_directory=True)
    with pytest.raises(RunError):
        site.publish(reports, out)
    assert _tree(outside) == {"keep.txt": b"outside"}
    # a published page that is now a link out: replaced by the page, its target untouched
    (out / "2026" / "schools").unlink()
    site.publish(reports, out)
    page = out / "2026" / "index.html"
    page.unlink()
    page.symlink_to(outside / "keep.txt")
    site.publish(reports, out)
    assert not page.is_symlink() and _tree(outside) == {"keep.txt": b"outside"}
    # a stale entry that is a link: left alone, its target too
    (reports / "2026" / "schools" / "001.html").unlink()
    stale = out / "2026" / "schools" / "001.html"
    stale.unlink()
    stale.symlink_to(outside / "keep.txt")
    site.publish(reports, out)
    assert stale.is_symlink() and _tree(outside) == {"keep.txt": b"outside"}


def test_a_page_of_the_reports_that_is_a_link_is_not_published(reports, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("secret", encoding="utf-8")
    page = reports / "2026" / "schools" / "001.html"
    page.unlink()
    page.symlink_to(secret)
    out = tmp_path / "www"
    with pytest.raises(RunError):
        site.publish(reports, out)
    assert not any("secret" in v.decode("utf-8", "replace") for v in _tree(out).values()) if out.exists() else True
