"""Releases on the central server, without HTTP: a bundle's version read by real `rauc`, the
byte ranges a resuming kiosk asks for, the fleet's delivery lines, and `kiosk-central release
publish|list|withdraw` on a real SQLite file and releases folder."""

import datetime as dt
import hashlib
import io
import os
import re
import time

import pytest

from central import cli, fleet
from central.bundles import read_bundle
from central.errors import ReleaseRefused
from central.ranges import ByteRange, RangeNotSatisfiable, asked_range, if_range_holds
from central.releases import ReleaseKind, Releases
from central.storage import FleetEntry, Kiosk, Storage
from central.uploads import OffsetMismatch, Uploads
from tests import small_partition
from tests.central_bundles import make_bundle, make_update_key, needs_rauc
from tests.central_server import add_kiosk

NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.timezone.utc)



@pytest.fixture(scope="module")
def update_key(tmp_path_factory):
    return make_update_key(tmp_path_factory.mktemp("update-key"))


@needs_rauc
def test_the_version_is_read_from_the_bundle_itself(update_key, tmp_path):
    bundle = make_bundle(update_key, tmp_path, "0.2.0+20261206")
    assert read_bundle(bundle).version == "0.2.0+20261206"
    assert read_bundle(bundle).compatible == "library-kiosk-rpi-arm64"


@needs_rauc
def test_a_file_that_is_not_a_bundle_is_refused_clearly(update_key, tmp_path):
    junk = tmp_path / "photo.raucb"
    junk.write_bytes(b"\xff\xd8\xff" + bytes(5000))
    with pytest.raises(ReleaseRefused, match=r"not a RAUC update bundle \(\.raucb\)") as e:
        read_bundle(junk)
    assert e.value.msgid == "The file is not an update bundle (.raucb)."
    odd = make_bundle(update_key, tmp_path, "v2-beta")
    with pytest.raises(ReleaseRefused, match="is not a version") as e:
        read_bundle(odd)
    assert e.value.msg_args == {"version": "v2-beta"}


@pytest.mark.parametrize("header, size, expected", [
    (None, 100, None), ("bytes=0-", 100, ByteRange(0, 99)), ("bytes=40-", 100, ByteRange(40, 99)),
    ("bytes=10-19", 100, ByteRange(10, 19)), ("bytes=90-500", 100, ByteRange(90, 99)),
    ("bytes=-30", 100, ByteRange(70, 99)), ("bytes=-300", 100, ByteRange(0, 99)),
    ("bytes=5-2", 100, None), ("bytes=0-1,5-6", 100, None), ("items=0-5", 100, None),
    ("bytes=-", 100, None), ("bytes=99-", 100, ByteRange(99, 99))])
def test_the_range_a_kiosk_asks_for(header, size, expected):
    assert asked_range(header, size) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=250-300", "bytes=-0"])
def test_a_range_past_the_end_is_not_satisfiable(header):
    with pytest.raises(RangeNotSatisfiable):
        asked_range(header, 100)


def test_if_range_must_name_the_same_file():
    etag = '"' + "a" * 64 + '"'
    assert if_range_holds(None, etag) and if_range_holds(etag, etag)
    assert not if_range_holds('"' + "b" * 64 + '"', etag)
    assert not if_range_holds("Sun, 06 Dec 2026 10:00:00 GMT", etag)


def beat(**delivery):
    kiosk = Kiosk("k1", "L", "P", "2026-01-01T00:00:00.000Z", None)
    body = {"devices": {}, "ils": "ok", "clock_synced": True, "system_version": "0.1.0",
            "slot": "A", "delivery": {"system": delivery} if delivery else None}
    return FleetEntry(kiosk, NOW.strftime("%Y-%m-%dT%H:%M:%S.000Z"), body, None, None)


def test_the_fleet_says_what_a_kiosk_does_with_a_system_update():
    downloading = fleet.assess(beat(version="0.2.0", state="downloading", done_bytes=250,
                                    total_bytes=1000, at="x"), NOW, 60)
    assert downloading.health == fleet.OK
    assert downloading.pending_system_update == fleet.Problem(
        "Downloading system update {version}: {percent}%",
        {"version": "0.2.0", "why": "", "percent": "25"})
    waiting = fleet.assess(beat(version="0.2.0", state="waiting", why="a patron is using it",
                                at="x"), NOW, 60).pending_system_update
    assert waiting.args["why"] == "a patron is using it"
    failed = fleet.assess(beat(version="0.2.0", state="failed", why="sha256 mismatch",
                               at="x"), NOW, 60)
    assert failed.health == fleet.FAULT and failed.pending_system_update is None
    assert failed.problems[-1].args == {"version": "0.2.0", "why": "sha256 mismatch"}
    for idle in (beat(state="idle", at="x"), beat()):
        assert fleet.assess(idle, NOW, 60).pending_system_update is None


def test_an_upload_goes_on_from_the_bytes_the_server_has(tmp_path):
    data = bytes(range(256)) * 40
    uploads = Uploads(tmp_path / "incoming", 1 << 20)
    first = uploads.start("ann", "kiosk.raucb", len(data), 1733480000000)
    assert first.offset == 0
    with pytest.raises(RuntimeError):  # the connection drops half-way through a chunk
        uploads.write(first.id, "ann", 0, _cut(data[:4000], after=2500))
    again = uploads.start("ann", "kiosk.raucb", len(data), 1733480000000)  # page reloaded
    assert (again.id, again.offset) == (first.id, 2500)
    with pytest.raises(OffsetMismatch) as behind:
        uploads.write(first.id, "ann", 0, [data[:10]])
    assert behind.value.offset == 2500
    with pytest.raises(ReleaseRefused, match="another user's") as other:
        uploads.state(first.id, "bob")
    assert other.value.msgid.startswith("This upload is gone")
    fresh = Uploads(tmp_path / "incoming", 1 << 20)  # as after a server restart
    assert fresh.write(first.id, "ann", 2500, [data[2500:]]).complete
    staged = fresh.finish(first.id, "ann")
    assert staged.sha256 == hashlib.sha256(data).hexdigest() and staged.size == len(data)
    assert staged.path.read_bytes() == data
    with pytest.raises(ReleaseRefused, match="over"):
        uploads.start("ann", "big.raucb", (1 << 20) + 1, 0)
    with pytest.raises(ReleaseRefused, match="no upload '../../etc/passwd'"):
        uploads.state("../../etc/passwd", "ann")


def _cut(data, after):
    yield data[:after]
    raise RuntimeError("connection reset")


# The command line ----------------------------------------------------------------------------
@pytest.fixture
def central(tmp_path):
    conf = tmp_path / "central.toml"
    conf.write_text(f'[central]\ndata_dir = "{tmp_path / "data"}"\n')
    storage = Storage.open(f"sqlite:///{tmp_path / 'data' / 'central.sqlite3'}")
    add_kiosk(storage, "liling-lobby-1", "醴陵市图书馆")
    add_kiosk(storage, "village-sanhe", "三合村图书室")
    yield ["--config", str(conf)], Releases(storage.db, tmp_path / "data" / "releases")
    storage.close()


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@needs_rauc
def test_publish_list_and_withdraw(capsys, central, update_key, tmp_path):
    conf, releases = central
    old = make_bundle(update_key, tmp_path, "0.1.9")
    new = make_bundle(update_key, tmp_path, "0.2.0")
    code, _out, err = run(capsys, "release", "publish", old, "--kind", "system",
                          "--all-libraries", "--by", "wang", *conf)
    assert code == 0, err
    assert "release 1 published: system 0.1.9 for all libraries" in err
    code, _out, err = run(capsys, "release", "publish", new, "--kind", "system", "--library",
                          "醴陵市图书馆", *conf)
    assert code == 0, err
    second = releases.get(2)
    assert second.sha256 == hashlib.sha256(new.read_bytes()).hexdigest()
    assert second.size == new.stat().st_size and second.libraries == ("醴陵市图书馆",)
    assert releases.path_of(second).read_bytes() == new.read_bytes()
    assert new.exists()  # published by copying: the technician's file stays
    assert releases.current(ReleaseKind.SYSTEM, "醴陵市图书馆").version == "0.2.0"
    assert releases.current(ReleaseKind.SYSTEM, "三合村图书室").version == "0.1.9"
    assert releases.current(ReleaseKind.CATALOGUE, "醴陵市图书馆") is None
    code, out, _err = run(capsys, "release", "list", *conf)
    lines = [line.split("\t") for line in out.splitlines()]
    assert [(f[0], f[2], f[5], f[8]) for f in lines] == [
        ("2", "0.2.0", "醴陵市图书馆", "current for 醴陵市图书馆"),
        ("1", "0.1.9", "all libraries", "current for 三合村图书室")]
    assert lines[1][7] == "wang" and lines[0][4] == second.sha256[:12]

    code, _out, err = run(capsys, "release", "withdraw", 2, *conf)
    assert code == 0 and "release 2 (system 0.2.0) withdrawn" in err
    assert "kiosks of 醴陵市图书馆 now get release 1 (0.1.9)" in err
    assert releases.current(ReleaseKind.SYSTEM, "醴陵市图书馆").id == 1
    assert not releases.path_of(second).exists()
    code, out, _err = run(capsys, "release", "list", *conf)
    assert re.search(r"^2\t.*\twithdrawn \d{4}-", out, re.M)
    code, _out, err = run(capsys, "release", "withdraw", 9, *conf)
    assert code == 2 and "no release 9" in err


@needs_rauc
def test_publish_refuses_what_kiosks_could_not_use(capsys, central, update_key, tmp_path):
    conf, releases = central
    bundle = make_bundle(update_key, tmp_path, "0.2.0+1")
    code, _out, err = run(capsys, "release", "publish", bundle, "--kind", "system",
                          "--library", "醴陵市图书馆", "--library", "nowhere", *conf)
    assert code == 2 and "no library named nowhere" in err and "三合村图书室" in err
    assert run(capsys, "release", "publish", bundle, "--kind", "system", "--library",
               "醴陵市图书馆", *conf)[0] == 0
    # The same version again (a build suffix does not make it another) for that library.
    (tmp_path / "again").mkdir()
    rebuilt = make_bundle(update_key, tmp_path / "again", "0.2.0+2")
    code, _out, err = run(capsys, "release", "publish", rebuilt, "--kind", "system",
                          "--all-libraries", *conf)
    assert code == 2 and "version 0.2.0+2 is published already for 醴陵市图书馆 (release 1" in err
    # For another library it is fine.
    assert run(capsys, "release", "publish", rebuilt, "--kind", "system", "--library",
               "三合村图书室", *conf)[0] == 0
    junk = tmp_path / "notes.raucb"
    junk.write_text("not a bundle\n" * 400)
    code, _out, err = run(capsys, "release", "publish", junk, "--kind", "system",
                          "--all-libraries", *conf)
    assert code == 2 and "not a RAUC update bundle" in err
    code, _out, err = run(capsys, "release", "publish", tmp_path / "missing.raucb", "--kind",
                          "system", "--all-libraries", *conf)
    assert code == 2 and "cannot read" in err
    code, _out, err = run(capsys, "release", "publish", bundle, "--kind", "catalogue",
                          "--all-libraries", *conf)
    assert code == 2 and "not an e-book batch (.tar made by kiosk content build)" in err
    assert [r.id for r in releases.all()] == [2, 1]
    assert list((releases.incoming).iterdir()) == []  # nothing left behind by refusals


def test_publish_needs_libraries_named(capsys, central, tmp_path):
    conf, _releases = central
    with pytest.raises(SystemExit):
        cli.main(["release", "publish", str(tmp_path / "x.raucb"), "--kind", "system", *conf])
    assert "one of the arguments --library --all-libraries is required" in capsys.readouterr().err


def test_a_copy_over_the_size_limit_is_refused(tmp_path):
    storage = Storage.open(f"sqlite:///{tmp_path / 'c.sqlite3'}")
    releases = Releases(storage.db, tmp_path / "releases")
    with pytest.raises(ReleaseRefused, match="over 1 MB"):
        releases.stage_copy(io.BytesIO(bytes((1 << 20) + 1)), 1 << 20)
    assert list(releases.incoming.iterdir()) == []
    storage.close()


def test_uploads_nobody_went_on_with_are_deleted_after_a_week(tmp_path):
    incoming = tmp_path / "incoming"
    uploads = Uploads(incoming, 1 << 20)
    old = uploads.start("ann", "old.raucb", 100, 1)
    incoming.joinpath("copy-0123.part").write_bytes(b"left by a crash")
    week_ago = time.time() - 8 * 24 * 3600
    for path in incoming.iterdir():
        os.utime(path, (week_ago, week_ago))
    fresh = uploads.start("ann", "new.raucb", 100, 2)
    assert sorted(p.name for p in incoming.iterdir()) == [
        f"upload-{fresh.id}.json", f"upload-{fresh.id}.part"]
    with pytest.raises(ReleaseRefused, match="no upload"):
        uploads.state(old.id, "ann")


@pytest.mark.skipif(small_partition.why_not() is not None,
                    reason=small_partition.why_not() or "")
def test_a_full_disk_refuses_a_file_clearly_and_keeps_what_fitted(tmp_path):
    data = os.urandom(1 << 20)
    with small_partition.small_partition(tmp_path) as disk:
        uploads = Uploads(disk / "incoming", 1 << 30)
        with pytest.raises(ReleaseRefused, match="not enough space") as refused:
            uploads.start("ann", "big.raucb", 8 << 20, 1)  # on a 4 MB partition
        assert refused.value.msgid.startswith("The server has no room for this file")
        started = uploads.start("ann", "kiosk.raucb", len(data), 1)
        small_partition.fill(disk, leave_kb=300)
        with pytest.raises(ReleaseRefused, match="cannot write") as full:
            uploads.write(started.id, "ann", 0, [data[i:i + 65536]
                                                  for i in range(0, len(data), 65536)])
        assert full.value.msg_args == {"why": "No space left on device"}
        (disk / "filler").unlink()
        kept = uploads.state(started.id, "ann").offset
        assert 0 < kept < len(data)
        assert uploads.write(started.id, "ann", kept, [data[kept:]]).complete
        assert uploads.finish(started.id, "ann").sha256 == hashlib.sha256(data).hexdigest()
        # The command line's copy is refused before it writes.
        big = tmp_path / "big.raucb"
        big.write_bytes(bytes(6 << 20))
        storage = Storage.open(f"sqlite:///{tmp_path / 'c.sqlite3'}")
        releases = Releases(storage.db, disk / "releases")
        with open(big, "rb") as source, pytest.raises(ReleaseRefused, match="not enough"):
            releases.stage_copy(source, 1 << 30)
        storage.close()


@needs_rauc
def test_a_suffix_names_a_build_not_another_version(capsys, central, update_key, tmp_path):
    conf, releases = central
    qemu = make_bundle(update_key, tmp_path, "0.2.0-qemu")  # as the QEMU update test makes
    assert run(capsys, "release", "publish", qemu, "--kind", "system", "--all-libraries",
               *conf)[0] == 0
    assert releases.current(ReleaseKind.SYSTEM, "三合村图书室").version == "0.2.0-qemu"
    (tmp_path / "plain").mkdir()
    plain = make_bundle(update_key, tmp_path / "plain", "0.2")
    code, _out, err = run(capsys, "release", "publish", plain, "--kind", "system",
                          "--library", "三合村图书室", *conf)
    assert code == 2 and "version 0.2 is published already for all libraries (release 1, " \
                         "0.2.0-qemu)" in err
