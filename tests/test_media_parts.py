"""The media helper's pure parts: lsblk's answer read, RAUC's progress lines, the protocol."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import pytest

from kiosk.media import devices
from kiosk.media.client import MediaClient
from kiosk.media.install import progress
from kiosk.media.protocol import (
    Bundle,
    Failed,
    Op,
    Problem,
    Progress,
    ProtocolError,
    Released,
    Request,
    Scanned,
    Stick,
    decode_reply,
    decode_request,
    encode,
)

OURS = Path("/run/kiosk-media")


def node(name, kind="part", fstype=None, mounts=(None,), children=None, **more):
    data = {"name": name, "path": f"/dev/{name}", "type": kind, "fstype": fstype, "label": None,
            "size": 1000, "rm": False, "hotplug": False, "tran": None,
            "mountpoints": list(mounts)}
    data.update(more)
    if children:
        data["children"] = children
    return data


# A Pi with its SD card (root, data and boot mounted) and a USB stick with one FAT partition.
PI = {"blockdevices": [
    node("mmcblk0", "disk", children=[
        node("mmcblk0p1", fstype="vfat", mounts=["/boot/firmware"]),
        node("mmcblk0p2", fstype="ext4", mounts=["/"]),
        node("mmcblk0p4", fstype="ext4", mounts=["/data"])], rm=True),
    node("sda", "disk", tran="usb", rm=True, hotplug=True, children=[
        node("sda1", fstype="vfat", label="KIOSK", rm=True, hotplug=True)]),
    node("sdb", "disk", tran="usb", fstype="exfat"),           # a stick without partitions
    node("sdc", "disk", tran="usb", children=[node("sdc1", fstype="ntfs")]),
    node("sdd", "disk", tran="sata", children=[node("sdd1", fstype="ext4")]),
    node("sde", "disk", tran="usb", children=[node("sde1", fstype="vfat",
                                                 mounts=["/media/someone"])]),
    node("sdf", "disk", tran="usb", children=[node("sdf1", fstype="vfat",
                                                 mounts=["/run/kiosk-media/3-sdf1"])]),
]}


def test_only_usb_file_systems_we_mount_and_never_a_disk_mounted_elsewhere():
    found = devices.usb_file_systems(json.dumps(PI), OURS)
    assert [(f.device, f.fstype) for f in found] == [
        ("/dev/sda1", "vfat"), ("/dev/sdb", "exfat"), ("/dev/sdf1", "vfat")]
    assert found[0].name == "sda1"


def test_lsblk_nonsense_is_a_device_error():
    with pytest.raises(devices.DeviceError):
        devices.usb_file_systems("lsblk: cannot", OURS)


@pytest.mark.parametrize("line, parsed", [
    ("  0% Installing", Progress(0, "Installing")),
    (" 40% Copying image to rootfs.1", Progress(40, "Copying image to rootfs.1")),
    ("100% Installing done.", Progress(100, "Installing done.")),
    ("Installing `/x.raucb` succeeded", Progress(None, "Installing `/x.raucb` succeeded")),
    ("   ", None),
])
def test_rauc_progress_lines(line, parsed):
    assert progress(line) == parsed


def test_replies_and_requests_round_trip_typed():
    scanned = Scanned((Stick("/dev/sda1", "KIOSK", "/run/kiosk-media/1-sda1",
                             (Bundle("/run/kiosk-media/1-sda1/a.raucb", "a.raucb", 5, "0.1",
                                     Problem.OLDER, "older"),), ("a.raucb",)),), "0.2.0")
    assert decode_reply(encode(scanned)) == scanned
    assert decode_reply(encode(Failed(Problem.BUSY, "wait"))) == Failed(Problem.BUSY, "wait")
    assert decode_request(encode(Request(Op.INSTALL, "/x"))) == Request(Op.INSTALL, "/x")


@pytest.mark.parametrize("line", [b"{}", b'{"op": "format"}', b'{"op": "install"}', b"[1]",
                                  b"\xff", b'{"op": "scan", "path": 3}'])
def test_bad_requests_are_protocol_errors(line):
    with pytest.raises(ProtocolError):
        decode_request(line)


def test_a_final_reply_of_the_wrong_kind_is_a_failure_not_an_answer(tmp_path):
    """scan() answered with `released` would hand the screen a reply without sticks."""
    path = tmp_path / "media.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)

    def answer_released() -> None:
        conn, _ = server.accept()
        with conn:
            conn.makefile("rb").readline()
            conn.sendall(encode(Released(0)))

    helper = threading.Thread(target=answer_released, daemon=True)
    helper.start()
    with MediaClient(path) as client:
        reply = client.scan()
    assert reply == Failed(Problem.UNEXPECTED_REPLY,
                           "the media helper answered scan with Released(unmounted=0)")
    helper.join(5)
    server.close()
