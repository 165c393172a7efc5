"""E-book batches on a real USB stick: the root helper (its own process, a real loop device it
mounts read-only) lists them beside update bundles, on a kiosk with RAUC and on one installed
with setup.sh (no RAUC); the app's side applies one, signed for real, from the helper's mount
with the real catalogue store, and refuses what it must. Only rauc, systemctl and lsblk's
"this is USB" stood in (tests/media_stick.py)."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

from content.errors import BatchProblem
from content.store import CatalogueStore
from kiosk.media.apply_process import apply_elsewhere
from kiosk.media.batch_apply import (
    BatchApplied,
    BatchRefused,
    BatchTarget,
    Standing,
    apply_from_stick,
    look_into,
)
from kiosk.media.client import MediaClient
from kiosk.media.protocol import Failed, Problem, Scanned
from tests.conftest import ROOT
from tests.content_batches import Batches
from tests.media_stick import (
    Helper,
    batch_stick_files,
    batch_stick_files_of_every_standing,
    mount_options,
    usb_stick,
    why_not,
)

BATCH_NAMES = {"2026-11.tar": False, "2026-12": True, "foreign-2026-12.tar": False}


@pytest.fixture(scope="module")
def batches(tmp_path_factory) -> Batches:
    return Batches(tmp_path_factory.mktemp("batches"), count=24)


def stick_with_batches(tmp_path, batches, fstype):
    reason = why_not(fstype)
    if reason:
        pytest.skip(reason)
    files = tmp_path / "files"
    files.mkdir()
    return usb_stick(tmp_path, fstype, batch_stick_files(batches, files))


def scanned(client: MediaClient) -> Scanned:
    reply = client.scan()
    assert isinstance(reply, Scanned), reply
    return reply


@pytest.mark.parametrize("fstype", ["vfat", "ext4"])
def test_the_helper_lists_batches_a_tar_or_a_folder_beside_bundles(tmp_path, batches, fstype):
    with stick_with_batches(tmp_path, batches, fstype) as device:
        helper = Helper(tmp_path, usb=device.removeprefix("/dev/"))
        try:
            with MediaClient(helper.socket_path) as client:
                [stick] = scanned(client).sticks
                point = Path(stick.mount_point)
                assert {"ro", "nosuid", "nodev", "noexec"} <= mount_options(point)
                found = {b.name: b for b in stick.batches}
                assert {name: b.folder for name, b in found.items()} == BATCH_NAMES
                for batch in found.values():
                    assert batch.path == str(point / batch.name)
                tar = found["2026-11.tar"]
                assert tar.size == (point / "2026-11.tar").stat().st_size > 0
                folder_bytes = sum(p.stat().st_size for p in batches.second.rglob("*")
                                   if p.is_file())
                assert found["2026-12"].size == folder_bytes
                [bundle] = stick.bundles
                assert bundle.problem is None and bundle.version == "0.3.0"
        finally:
            helper.stop()


def test_without_rauc_batches_are_listed_and_bundles_are_not_offered(tmp_path, batches):
    """A kiosk installed with setup.sh: the scan works, rauc is never asked, install refused."""
    with stick_with_batches(tmp_path, batches, "ext4") as device:
        helper = Helper(tmp_path, usb=device.removeprefix("/dev/"), from_image=False)
        try:
            with MediaClient(helper.socket_path) as client:
                [stick] = scanned(client).sticks
                assert {b.name for b in stick.batches} == set(BATCH_NAMES)
                [bundle] = stick.bundles
                assert bundle.problem is Problem.NOT_FROM_IMAGE and "setup.sh" in bundle.why
                refused = client.install(bundle.path)
                assert isinstance(refused, Failed) and refused.problem is Problem.NOT_FROM_IMAGE
                assert isinstance(client.reboot(), Failed)
            assert helper.calls("rauc") == [] and helper.calls("systemctl") == []
        finally:
            helper.stop()


@pytest.mark.parametrize("apply", [apply_from_stick, apply_elsewhere],
                         ids=["in-process", "in-a-child-process"])
def test_the_app_applies_a_batch_from_the_mount_and_refuses_what_it_must(tmp_path, batches,
                                                                          apply):
    """As the admin screen does it (in a child process of the app's): while the connection
    (and so the mount) stays, the real store checks and applies each batch read from the
    stick, with progress."""
    target = BatchTarget(tmp_path / "catalogue", batches.public)
    with stick_with_batches(tmp_path, batches, "ext4") as device:
        helper = Helper(tmp_path, usb=device.removeprefix("/dev/"), from_image=False)
        try:
            with MediaClient(helper.socket_path) as client:
                [stick] = scanned(client).sticks
                paths = {b.name: b.path for b in stick.batches}
                steps = []
                first = apply(target, paths["2026-11.tar"], steps.append)
                assert isinstance(first, BatchApplied), first
                assert len(first.report.added) == 24 and target.current_version() == "2026-11-1"
                percents = [step.percent for step in steps]
                assert percents == sorted(set(percents)) and percents[-1] == 100, percents
                assert len(percents) >= 3, percents  # the bar moves, not only 0 and 100
                second = apply(target, paths["2026-12"], steps.append)
                assert isinstance(second, BatchApplied), second
                assert (second.report.updated, second.report.withdrawn) == (
                    ["000020"], ["000021", "000022"])
                for name, problem in (("foreign-2026-12.tar", BatchProblem.SIGNATURE),
                                      ("2026-12", BatchProblem.ALREADY_APPLIED),
                                      ("2026-11.tar", BatchProblem.OLDER)):
                    refused = apply(target, paths[name], steps.append)
                    assert isinstance(refused, BatchRefused) and refused.problem is problem, (
                        name, refused)
                assert target.current_version() == "2026-12-1"
                missing = apply(target, stick.mount_point + "/gone.tar", steps.append)
                assert isinstance(missing, BatchRefused) and missing.problem is not None
        finally:
            helper.stop()
    assert sorted(os.listdir(tmp_path / "catalogue" / "versions")) == ["2026-11-1", "2026-12-1"]


def test_the_app_reads_each_batch_s_manifest_and_places_it_against_the_catalogue(
        tmp_path, batches):
    """What each batch row says before anything is pressed: the manifest's name and title
    count, read from the helper's mount, and newer / current / older than the catalogue; of
    several newer ones only the oldest is to be applied first; an unreadable one says why."""
    target = BatchTarget(tmp_path / "catalogue", batches.public)
    CatalogueStore(target.catalogue_dir).apply(batches.first, batches.public)
    reason = why_not("ext4")
    if reason:
        pytest.skip(reason)
    files = tmp_path / "files"
    files.mkdir()
    gzipped = tmp_path / "2026-12b.tar.gz"
    with tarfile.open(gzipped, "w:gz") as tar:
        tar.add(batches.second, arcname=".")
    stick_files = {**batch_stick_files_of_every_standing(batches, files),
                   "2026-12b.tar.gz": gzipped}
    with usb_stick(tmp_path, "ext4", stick_files) as device:
        helper = Helper(tmp_path, usb=device.removeprefix("/dev/"), from_image=False)
        try:
            with MediaClient(helper.socket_path) as client:
                [stick] = scanned(client).sticks
                looks = {Path(path).name: look for path, look in
                         look_into(target, stick.batches, max_compressed=1).items()}
                assert set(looks) == {b.name for b in stick.batches}
                everything = look_into(target, stick.batches)
                nothing = look_into(target, stick.batches, budget_s=0)
        finally:
            helper.stop()
    shown = {name: (look.batch, look.titles, look.standing) for name, look in looks.items()}
    assert shown == {
        "2026-10.tar": ("2026-10", 24, Standing.OLDER),
        "2026-11.tar": ("2026-11", 24, Standing.CURRENT),
        "2026-12": ("2026-12", 8, Standing.NEWER),
        "foreign-2026-12.tar": ("2026-12", 8, Standing.NEWER),  # its signature: when applied
        "2027-01.tar": ("2027-01", 8, Standing.LATER),
        "broken.tar": (None, 0, Standing.UNREADABLE),
        "2026-12b.tar.gz": (None, 0, Standing.NOT_READ),
    }, shown
    assert "not a readable tar file" in looks["broken.tar"].why, looks["broken.tar"]
    assert looks["2026-12b.tar.gz"].why, looks["2026-12b.tar.gz"]
    read = {Path(p).name: look.standing for p, look in everything.items()}
    assert read["2026-12b.tar.gz"] is Standing.NEWER  # small enough by default: 2026-12 inside
    assert {look.standing for look in nothing.values()} == {Standing.NOT_READ}


def test_setup_sh_installs_and_enables_the_helper_on_kiosks_without_rauc_too():
    """A setup.sh kiosk has no /etc/rauc/system.conf: no condition may keep the units off."""
    for unit in ("kiosk-media.socket", "kiosk-media.service"):
        settings = [line for line in (ROOT / "systemd" / unit).read_text().splitlines()
                    if line and not line.startswith("#")]
        assert not [line for line in settings if line.startswith("Condition")], unit
    setup = (ROOT / "setup.sh").read_text()
    installed = setup.split("KIOSK_UNITS=(", 1)[1].split(")", 1)[0].split()
    enabled = setup.split("ENABLED_UNITS=(", 1)[1].split(")", 1)[0].split()
    assert {"kiosk-media.socket", "kiosk-media.service"} <= set(installed)
    assert "kiosk-media.socket" in enabled
