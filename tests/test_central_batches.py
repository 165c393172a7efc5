"""E-book batches on the central server, without HTTP: what a batch .tar made by `kiosk content
build` says of itself, the order batches are published in, and `kiosk-central batch
publish|list|withdraw` on a real SQLite file and releases folder. The batches are real, built
and signed by the content tool; the server never checks or makes their signatures."""

import io
import json
import sqlite3
import tarfile

import pytest

from central import audit, cli
from central.batches import read_batch
from central.db import SCHEMA_VERSION
from central.errors import ReleaseRefused
from central.releases import ReleaseKind, Releases
from central.storage import Storage
from content.build import build_batch
from content.sample import make_sample_source
from content.signing import keygen
from tests.test_central_releases import central, run  # noqa: F401 (the fixture)

LILING, SANHE = "醴陵市图书馆", "三合村图书室"


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    """build(name): a signed batch .tar of three titles, named `name`."""
    folder = tmp_path_factory.mktemp("batches")
    key, public = folder / "signing.key", folder / "signing.pub"
    keygen(key, public)
    source = make_sample_source(folder / "source", count=3)

    def build(name: str):
        out = folder / f"{name}.tar"
        if not out.exists():
            build_batch(source, out, key, name)
        return out
    return build


def tar_with(path, members):
    """A tar of `members`: name -> bytes."""
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def manifest(**fields):
    doc = {"format": 1, "batch": "2026-12", "created": "2026-12-01T00:00:00Z",
           "title_count": 0, "titles": [], **fields}
    return json.dumps(doc).encode()


def test_the_name_and_title_count_come_from_the_tar(batches):
    info = read_batch(batches("2026-12"))
    assert (info.batch, info.titles) == ("2026-12", 3)


@pytest.mark.parametrize("members, why", [
    ({"notes.txt": b"hello"}, "the tar has no manifest.json"),
    ({"manifest.json": manifest()}, "no manifest.json.sig"),
    ({"manifest.json": b"{not json", "manifest.json.sig": b"x"}, "is not JSON"),
    ({"manifest.json": manifest(format=2), "manifest.json.sig": b"x"}, "not format 1"),
    ({"manifest.json": manifest(batch="../2026"), "manifest.json.sig": b"x"},
     "'../2026' is not a name like 2026-12"),
    ({"manifest.json": manifest(title_count=5), "manifest.json.sig": b"x"},
     "title_count 5 does not match"),
])
def test_what_is_not_a_batch_is_refused_saying_so(tmp_path, members, why):
    with pytest.raises(ReleaseRefused, match=why) as e:
        read_batch(tar_with(tmp_path / "x.tar", members))
    assert "not an e-book batch (.tar made by kiosk content build)" in str(e.value)
    assert e.value.msgid == ("The file is not an e-book batch (.tar made by kiosk content "
                             "build).")
    photo = tmp_path / "photo.tar"
    photo.write_bytes(b"\xff\xd8\xff" + bytes(5000))
    with pytest.raises(ReleaseRefused, match="not a readable tar"):
        read_batch(photo)


def test_publish_list_and_withdraw_batches(capsys, central, batches):  # noqa: F811
    conf, releases = central
    code, _out, err = run(capsys, "batch", "publish", batches("2026-11"), "--all-libraries",
                          "--by", "wang", *conf)
    assert code == 0, err
    assert "release 1 published: catalogue 2026-11 (3 titles) for all libraries" in err
    assert "kiosk-central batch withdraw 1" in err
    assert run(capsys, "batch", "publish", batches("2026-12"), "--library", LILING,
               *conf)[0] == 0
    assert releases.current(ReleaseKind.CATALOGUE, LILING).version == "2026-12"
    assert releases.current(ReleaseKind.CATALOGUE, SANHE).version == "2026-11"
    assert [r.version for r in releases.live(ReleaseKind.CATALOGUE, LILING)] == [
        "2026-11", "2026-12"]
    assert releases.get(2).titles == 3
    code, out, _err = run(capsys, "batch", "list", *conf)
    lines = [line.split("\t") for line in out.splitlines()]
    assert [(f[0], f[2], f[3], f[6], f[9]) for f in lines] == [
        ("2", "2026-12", "3 titles", LILING, f"current for {LILING}"),
        ("1", "2026-11", "3 titles", "all libraries", f"current for {SANHE}")]

    code, _out, err = run(capsys, "batch", "withdraw", 2, *conf)
    assert code == 0 and "release 2 (catalogue 2026-12) withdrawn" in err
    assert f"kiosks of {LILING} now get release 1 (2026-11)" in err
    assert releases.get(2).titles == 3  # the list still says what it was
    code, _out, err = run(capsys, "batch", "withdraw", 9, *conf)
    assert code == 2 and "no release 9" in err
    assert run(capsys, "batch", "withdraw", 2, *conf)[0] == 0  # again: nothing new to record
    # Each publication and withdrawal is in the audit log, newest first.
    code, out, _err = run(capsys, "audit", "--action", "release_published", *conf)
    published = [line.split("\t") for line in out.splitlines()]
    me = f"{audit.CLI} {cli._login_name()}"
    assert [(f[1], f[3]) for f in published] == [(me, "release 2"), (me, "release 1")]
    assert all(word in published[1][-1] for word in ('"2026-11"', '"all libraries"', '"wang"'))
    code, out, _err = run(capsys, "audit", "--action", "release_withdrawn", *conf)
    assert [line.split("\t")[3] for line in out.splitlines()] == ["release 2"]


def test_batches_are_published_in_name_order(capsys, central, batches):  # noqa: F811
    conf, releases = central
    assert run(capsys, "batch", "publish", batches("2026-10"), "--library", SANHE, *conf)[0] == 0
    assert run(capsys, "batch", "publish", batches("2026-12"), "--library", LILING, *conf)[0] == 0
    # Older than the library's newest: kiosks would apply it after the newer one.
    code, _out, err = run(capsys, "batch", "publish", batches("2026-11"), "--all-libraries",
                          *conf)
    assert code == 2
    assert ("批次 2026-11 比已发布的批次 2026-12（编号 2）旧" in err
            and f"batch 2026-11 is older than batch 2026-12, published for {LILING} "
                "(release 2); kiosks apply batches in name order" in err), err
    # The same name twice: withdraw first.
    code, _out, err = run(capsys, "batch", "publish", batches("2026-12"), "--library", LILING,
                          *conf)
    assert code == 2 and "batch 2026-12 is published already" in err
    assert "withdraw release 2 first" in err
    # Digits compare as numbers: 2026-9 is older than 2026-10.
    code, _out, err = run(capsys, "batch", "publish", batches("2026-9"), "--library", SANHE,
                          *conf)
    assert code == 2 and "older than batch 2026-10" in err
    # For the village alone it is newer, and after a withdrawal the older name is fine.
    assert run(capsys, "batch", "publish", batches("2026-11"), "--library", SANHE, *conf)[0] == 0
    assert run(capsys, "batch", "withdraw", 2, *conf)[0] == 0
    assert run(capsys, "batch", "publish", batches("2026-11"), "--library", LILING,
               *conf)[0] == 0
    assert [r.version for r in releases.live(ReleaseKind.CATALOGUE, SANHE)] == [
        "2026-10", "2026-11"]
    assert list(releases.incoming.iterdir()) == []  # nothing left behind by refusals


def test_a_bundle_is_not_withdrawn_as_a_batch(capsys, central, batches):  # noqa: F811
    conf, releases = central
    assert run(capsys, "batch", "publish", batches("2026-12"), "--all-libraries", *conf)[0] == 0
    code, _out, err = run(capsys, "release", "publish", batches("2026-12"), "--kind", "system",
                          "--all-libraries", *conf)
    assert code == 2  # a batch is no update bundle either (rauc or not)
    with sqlite3.connect(releases.db.sqlite_path) as raw:
        raw.execute("UPDATE releases SET kind = 'system' WHERE id = 1")
    code, _out, err = run(capsys, "batch", "withdraw", 1, *conf)
    assert code == 2 and "not an e-book batch: kiosk-central release withdraw 1" in err
    assert releases.get(1).withdrawn_at is None


def test_a_database_of_the_first_schema_gets_the_titles_column(tmp_path):
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as raw:  # the releases table as schema 1 made it
        raw.executescript(
            "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "INSERT INTO meta VALUES ('schema', '1');"
            "CREATE TABLE releases (id BIGINT PRIMARY KEY, kind TEXT NOT NULL, version TEXT "
            "NOT NULL, size BIGINT NOT NULL, sha256 TEXT NOT NULL, file TEXT NOT NULL, "
            "all_libraries INTEGER NOT NULL, published_at TEXT NOT NULL, published_by TEXT "
            "NOT NULL, withdrawn_at TEXT);"
            "INSERT INTO releases VALUES (1, 'system', '0.1.0', 10, 'ab', 'system/1.raucb', 1, "
            "'2026-12-01T00:00:00.000Z', 'wang', NULL);")
    storage = Storage.open(f"sqlite:///{path}")
    try:
        release = Releases(storage.db, tmp_path).get(1)
        assert release is not None and release.version == "0.1.0" and release.titles is None
        with storage.db.read() as conn:
            assert conn.value("SELECT value FROM meta WHERE name = 'schema'") == SCHEMA_VERSION
    finally:
        storage.close()
