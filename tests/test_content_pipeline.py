"""Staff's batch pipeline: build, verify, apply, roll back; and every bad batch refused with
nothing changed."""

import json
import os
import random
import signal
import subprocess
import sys
import tarfile
import time

import pytest

from content.catalogue import Catalogue
from content.errors import BatchError
from content.store import CatalogueStore
from tests.conftest import ROOT
from tests.content_batches import Batches, edit_manifest, tar_of, tree

TODAY = "2026-11-25"


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    return Batches(tmp_path_factory.mktemp("batches"))


@pytest.fixture
def store(tmp_path):
    return CatalogueStore(tmp_path / "catalogue")


@pytest.fixture
def applied(store, batches):
    store.apply(batches.first, batches.public)
    return store


def kiosk(*args, config=None):
    command = [sys.executable, "-m", "kiosk", *map(str, args)]
    if config:
        command += ["--config", str(config)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_staff_build_apply_and_roll_back_from_the_command_line(tmp_path):
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\ndata_dir = "{tmp_path / "data"}"\n')
    assert kiosk("content", "keygen", tmp_path / "k", tmp_path / "data/content-signing.pub"
                 ).returncode == 0
    assert oct((tmp_path / "k").stat().st_mode & 0o777) == "0o600"
    assert kiosk("content", "sample", tmp_path / "src", "--count", "12").returncode == 0
    built = kiosk("content", "build", tmp_path / "src", tmp_path / "b.tar", "--key",
                  tmp_path / "k", "--batch", "2026-11")
    assert built.returncode == 0, built.stderr
    assert "12 added" in built.stdout and "covers from the books 12" in built.stdout
    assert "UTF-8" in built.stdout
    checked = kiosk("content", "verify", tmp_path / "b.tar", config=config)
    assert checked.returncode == 0 and "would add 12" in checked.stdout, checked.stderr
    assert not (tmp_path / "data/catalogue/current").exists()  # verify changes nothing
    done = kiosk("content", "apply", tmp_path / "b.tar", "--verbose", config=config)
    assert done.returncode == 0, done.stderr
    assert "新增 12" in done.stdout and "12 added, 0 updated, 0 withdrawn" in done.stdout
    assert "000001 000002" in done.stdout
    again = kiosk("content", "apply", tmp_path / "b.tar", config=config)
    assert again.returncode == 2 and "already applied" in again.stderr
    assert "Traceback" not in again.stderr
    listed = json.loads(kiosk("content", "list", "--json", config=config).stdout)
    assert [(v["batch"], v["titles"], v["current"]) for v in listed["versions"]] == [
        ("2026-11", 12, True)]
    assert listed["leftovers"] == []
    nothing = kiosk("content", "rollback", config=config)
    assert nothing.returncode == 2 and "no previous catalogue" in nothing.stderr


def test_a_hand_edited_manifest_is_refused_until_signed_again(tmp_path, batches):
    batch = batches.copy(batches.second, tmp_path / "b")
    edit_manifest(batch, lambda doc: doc["titles"][0].update(summary="改过的简介"))
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\ndata_dir = "{tmp_path / "data"}"\n')
    key = ["--public-key", batches.public]
    refused = kiosk("content", "verify", batch, *key, config=config)
    assert refused.returncode == 2 and "signature does not match" in refused.stderr
    assert kiosk("content", "sign", batch, "--key", batches.key).returncode == 0
    checked = kiosk("content", "verify", batch, *key, config=config)
    assert "no such title" in checked.stderr  # signed now; this kiosk lacks 2026-11's titles


def test_a_monthly_batch_reports_exactly_what_changed(applied, batches):
    before = {t.id: t for t in Catalogue.open(applied.current_dir()).all_titles()}
    report = applied.apply(batches.second, batches.public)
    assert report.added == [f"{n:06d}" for n in range(31, 36)]
    assert report.updated == ["000020"] and report.withdrawn == ["000021", "000022"]
    after = Catalogue.open(applied.current_dir())
    titles = {t.id: t for t in after.all_titles()}
    assert set(titles) == set(before) - {"000021", "000022"} | set(report.added)
    assert titles["000020"].summary.endswith("（修订版）")
    assert titles["000020"].added == "2026-11"  # an update is not "new this month"
    assert titles["000031"].added == "2026-12"
    assert all(t.added == "2026-12" for t in after.new_titles("2026-12-02"))
    assert [t.id for t in after.search("hlm", TODAY)][:1] == ["000001"]  # carried terms
    assert [t.id for t in after.search(titles["000031"].title, "2026-12-02")][:1] == ["000031"]
    # Unchanged files are the previous version's, hard-linked: no new bytes on the card.
    assert (applied.current_dir() / "books/000001.epub").stat().st_nlink == 2
    assert not (applied.current_dir() / "books/000021.epub").exists()
    applied_json = json.loads((applied.current_dir() / "applied.json").read_text())
    assert applied_json["withdrawn"] == ["000021", "000022"]


def test_rollback_goes_back_and_forth(applied, batches):
    first = applied.current_dir().name
    second = applied.apply(batches.second, batches.public).version
    assert applied.rollback() == first
    assert applied.current_dir().name == first and applied.previous_dir().name == second
    assert Catalogue.open(applied.current_dir()).get("000021", TODAY) is not None
    assert applied.rollback() == second


def test_only_current_and_previous_are_kept(applied, batches, tmp_path):
    applied.apply(batches.second, batches.public)
    third = batches.copy(batches.second, tmp_path / "third")
    edit_manifest(third, lambda doc: doc.update(batch="2027-01", titles=[
        {"id": "000001", "action": "withdraw"}], title_count=1), batches.key)
    for path in (third / "books").iterdir():
        path.unlink()
    for path in (third / "covers").iterdir():
        path.unlink()
    applied.apply(third, batches.public)
    assert sorted(v.batch for v in applied.versions()) == ["2026-12", "2027-01"]


def spoil(name, batches, folder):
    """A copy of the monthly batch, damaged one way; returns the path to apply."""
    batch = batches.copy(batches.second, folder / "spoilt")
    book = batch / "books/000031.epub"
    if name == "bad signature":
        (batch / "manifest.json.sig").write_bytes(bytes(64))
    elif name == "changed after signing":
        edit_manifest(batch, lambda doc: doc["titles"][0].update(title="别的书"))
    elif name == "signed by another key":
        from content.signing import keygen, sign
        keygen(folder / "other.key", folder / "other.pub")
        sign(batch / "manifest.json", folder / "other.key")
    elif name == "missing file":
        book.unlink()
    elif name == "wrong checksum":
        data = bytearray(book.read_bytes())
        data[-1] ^= 1
        book.write_bytes(bytes(data))
    elif name == "wrong size":
        book.write_bytes(book.read_bytes() + b"x")
    elif name == "extra file":
        (batch / "books/extra.epub").write_bytes(b"x")
    elif name == "link in the folder":
        book.unlink()
        book.symlink_to("/etc/passwd")
    elif name == "title_count lies":
        edit_manifest(batch, lambda doc: doc.update(title_count=31), batches.key)
    elif name == "duplicate id":
        edit_manifest(batch, lambda doc: doc["titles"][1].update(id="000031"), batches.key)
    elif name == "update of a missing title":
        edit_manifest(batch, lambda doc: doc["titles"][0].update(action="update"), batches.key)
    elif name == "unknown category":
        edit_manifest(batch, lambda doc: doc["titles"][0].update(category="poetry"), batches.key)
    elif name == "bad date":
        edit_manifest(batch, lambda doc: doc["titles"][0].update(valid_until="2026-13-01"),
                      batches.key)
    elif name == "path traversal in the manifest":
        edit_manifest(batch, lambda doc: doc["titles"][0]["file"].update(path="../books/x.epub"),
                      batches.key)
    elif name == "absolute path in the manifest":
        edit_manifest(batch, lambda doc: doc["titles"][0]["cover"].update(path="/etc/passwd"),
                      batches.key)
    elif name == "not json":
        (batch / "manifest.json").write_bytes(b"{oops")
        from content.signing import sign
        sign(batch / "manifest.json", batches.key)
    return batch


REASONS = {
    "bad signature": "signature does not match", "changed after signing": "signature",
    "signed by another key": "signature", "missing file": "lacks 1 file",
    "wrong checksum": "does not match its sha256", "wrong size": "not .* bytes",
    "extra file": "does not name", "link in the folder": "is a link",
    "title_count lies": "claims 31 titles but lists 8", "duplicate id": "appears twice",
    "update of a missing title": "no such title", "unknown category": "unknown category",
    "bad date": "not a date", "path traversal in the manifest": "not a plain file name",
    "absolute path in the manifest": "not a plain file name", "not json": "not valid UTF-8 JSON",
}


@pytest.mark.parametrize("name", REASONS)
def test_a_bad_batch_is_refused_with_its_reason_and_changes_nothing(name, applied, batches,
                                                                    tmp_path):
    batch = spoil(name, batches, tmp_path)
    before = tree(applied.root)
    with pytest.raises(BatchError, match=REASONS[name]):
        applied.apply(batch, batches.public)
    with pytest.raises(BatchError, match=REASONS[name]):
        applied.check(batch, batches.public)
    assert tree(applied.root) == before


@pytest.mark.parametrize("member, reason", [
    ("../escape.epub", "not a plain file name"), ("/etc/cron.d/evil", "not a plain file name"),
    ("books/../../evil", "not a plain file name"), ("symlink", "is a link"),
    ("hardlink", "is a link"), ("device", "special file"),
])
def test_a_tar_with_a_dangerous_member_is_refused(member, reason, applied, batches, tmp_path):
    info = tarfile.TarInfo(member)
    data = b"x"
    if member == "symlink":
        info.name, info.type, info.linkname, data = "books/000001.epub", tarfile.SYMTYPE, \
            "/etc/passwd", None
    elif member == "hardlink":
        info.name, info.type, info.linkname, data = "books/x.epub", tarfile.LNKTYPE, \
            "manifest.json", None
    elif member == "device":
        info.name, info.type, data = "books/dev.epub", tarfile.CHRTYPE, None
    else:
        info.size = 1
    batch = tar_of(batches.first, tmp_path / "b.tar", extra=[(info, data)])
    before = tree(applied.root)
    with pytest.raises(BatchError, match=reason):
        applied.apply(batch, batches.public)
    assert tree(applied.root) == before
    assert not (tmp_path / "escape.epub").exists()


def test_a_tar_batch_applies_like_a_folder(store, batches, tmp_path):
    report = store.apply(tar_of(batches.first, tmp_path / "b.tar"), batches.public)
    assert len(report.added) == 30


def test_garbage_instead_of_a_tar_is_refused(store, batches, tmp_path):
    (tmp_path / "b.tar").write_bytes(os.urandom(5000))
    with pytest.raises(BatchError, match="not a readable tar"):
        store.apply(tmp_path / "b.tar", batches.public)


APPLY_SCRIPT = """
import sys
from pathlib import Path
from content.store import CatalogueStore
CatalogueStore(Path(sys.argv[1])).apply(Path(sys.argv[2]), Path(sys.argv[3]))
"""


def test_a_power_cut_during_apply_leaves_a_whole_catalogue(applied, batches):
    """SIGKILL at random moments of the second apply: `current` always opens whole."""
    rng = random.Random(4)
    first = applied.current_dir().name
    for _ in range(6):
        process = subprocess.Popen([sys.executable, "-c", APPLY_SCRIPT, applied.root,
                                    batches.second, batches.public], cwd=ROOT)
        time.sleep(rng.uniform(0.05, 0.6))
        process.send_signal(signal.SIGKILL)
        process.wait()
        current = applied.current_dir()
        catalogue = Catalogue.open(current)
        count = sum(1 for _ in catalogue.all_titles())
        catalogue.close()
        assert (current.name, count) == (first, 30) or (
            current.name.startswith("2026-12-") and count == 33)
        assert all((current / t).exists() for t in ("covers/000001.jpg", "books/000001.epub"))
        if current.name != first:
            applied.rollback()
    # A leftover half-built version is cleared by the next apply.
    report = applied.apply(batches.second, batches.public)
    assert len(report.added) == 5
    assert not [p for p in applied.versions_dir.iterdir() if p.name.startswith(".building")]
