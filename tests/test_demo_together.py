"""Two demos started at once on one computer: both get the sample catalogue (made once, under
a lock, renamed into place whole), and the second serves downloads on a free port when the
usual one is busy. Real processes, a real socket holding the port."""

from __future__ import annotations

import dataclasses
import os
import queue
import socket
import subprocess
import sys
from pathlib import Path

import requests

from kiosk import config as config_module
from kiosk.cli.run_cmd import _demo_download_port
from kiosk.ebooks.assemble import ebooks_for

ROOT = Path(__file__).resolve().parent.parent
TITLES = 12  # a small sample: the locking is what is tested, not the making

PREPARE = """
import sys
from kiosk import config
from kiosk.demo.sample_batch import prepare
prepare(config.load(sys.argv[1]), count=int(sys.argv[2]))
from content.store import CatalogueStore
print(CatalogueStore(config.load(sys.argv[1]).catalogue_dir).current_dir())
"""


def demo_config(folder: Path, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{folder / "data"}"\n{extra}', encoding="utf-8")
    return path


def test_two_demos_preparing_at_once_both_get_the_catalogue(tmp_path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    shared, own = demo_config(tmp_path), demo_config(tmp_path / "other")
    demos = [subprocess.Popen([sys.executable, "-c", PREPARE, str(path), str(TITLES)],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for path in (shared, shared, own)]  # two on one data folder, one on its own
    for demo in demos:
        out, err = demo.communicate(timeout=120)
        assert demo.returncode == 0, err
        assert out.strip() not in ("", "None"), err
    cache = tmp_path / "cache/kiosk"
    assert sorted(p.name for p in cache.iterdir() if p.is_dir()) == [f"sample-{TITLES}"]
    assert (cache / f"sample-{TITLES}/batch/manifest.json.sig").exists()


def test_a_demo_serves_downloads_on_a_free_port_when_its_port_is_busy(tmp_path):
    with socket.socket() as holder:
        holder.bind(("0.0.0.0", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        config = config_module.load(demo_config(
            tmp_path, f"[ebooks]\nserve = true\nport = {busy}\n"))
        moved = _demo_download_port(config)
        assert moved.ebooks.port != busy
        library, server, _wifi = ebooks_for(moved, {}, queue.Queue())
        server.start()
        try:
            assert server.port not in (0, busy)
            link = library.link("b1")
            assert f":{server.port}/d/b1?" in link  # the QR link follows the port bound
            local = link.replace(link.split("/d/")[0], f"http://127.0.0.1:{server.port}")
            assert requests.get(local, timeout=5).status_code == 404  # no catalogue: but ours
        finally:
            server.stop()
    free = dataclasses.replace(config.ebooks, port=busy)
    assert _demo_download_port(dataclasses.replace(config, ebooks=free)).ebooks.port == busy
