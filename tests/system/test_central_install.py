"""The central server installed on a fresh Debian 12 and run by systemd: a minbase container
booted with systemd as PID 1, then `./setup.sh install --central --wheels` inside it, as an
administrator runs it on the running server.

Checked from the host: the unit is active and answers its health page on 127.0.0.1 only; its
user has no login shell; the config (0640 root:kiosk-central) is made once and never
overwritten by a second install; the data folder is 0700; a killed server is restarted; the
sandbox's exposure (`systemd-analyze security`) is low and `rauc info` still reads a bundle
inside it; `--postgresql` makes a local
PostgreSQL database and moves the SQLite rows into it; nginx with the server block of
docs/central.md serves it over HTTPS and the server sees the client's address (trusted_proxies),
Caddy reads the Caddyfile there; `uninstall --central --purge` removes it all. Each phase is
timed (artifacts/i18/central-system-test-timings.txt).

Slow (a few minutes) and root only: marker `system`, with `./setup.sh system-test`, or alone:
  .venv/bin/python -m pytest -m system tests/system/test_central_install.py -v
The tests run in file order on one container."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS, ROOT
from tests.system import container, phases
from tests.system.phases import phase

pytestmark = [pytest.mark.system, pytest.mark.timeout(900),
              pytest.mark.skipif(container.why_not() is not None,
                                 reason=container.why_not() or "")]

OUT = ARTIFACTS / "i18"
SRC, WHEELS = "/root/kiosk-src", "/root/wheels"
UNIT = "kiosk-central.service"
SERVER = "http://127.0.0.1:8000"
HEALTH = f"{SERVER}/api/v1/health"
# Besides what the install puts in: an init to boot, curl for the health page, ps and kill,
# and the proxies of docs/central.md with what their test needs (a certificate, an address).
TEST_PACKAGES = ("systemd-sysv", "procps", "curl", "nginx", "caddy", "openssl", "iproute2")
DOCS = ROOT / "docs" / "central.md"
CLIENT = "192.0.2.10"  # a patron's PC, as an address of the container's own loopback
MAX_EXPOSURE = 2.5  # systemd-analyze's 0 (locked down) to 10 (unprotected)


def setup_array(name: str) -> tuple[str, ...]:
    listed = subprocess.run(["bash", "-c", f'source "{ROOT}/setup.sh" && echo "${{{name}[@]}}"'],
                            capture_output=True, text=True, check=True)
    return tuple(listed.stdout.split())


@pytest.fixture(scope="module", autouse=True)
def save_timings():
    yield
    if phases.TIMINGS:
        phases.save(OUT / "central-system-test-timings.txt")


@pytest.fixture(scope="module")
def wheels() -> Path:
    folder = container.CACHE / "central-wheels"
    shutil.rmtree(folder, ignore_errors=True)  # the project's wheel must be this checkout's
    with phase("host: ./setup.sh wheels --central"):
        built = subprocess.run([str(ROOT / "setup.sh"), "wheels", "--central", str(folder)],
                               capture_output=True, text=True, timeout=900, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    return folder


@pytest.fixture(scope="module")
def server(wheels):
    """A booted Debian 12 with every Debian package the install needs (PostgreSQL too) already
    in the tree: the container has no network, as a server behind a firewall may not."""
    work = container.CACHE / "central-run"  # kept after the run for a look
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    packages = (setup_array("CENTRAL_SERVER_APT_PACKAGES") + ("postgresql",) + TEST_PACKAGES)
    with phase("mmdebstrap minbase tarball (cached)"):
        tarball = container.base_tarball(packages)
    with phase("unpack the tarball"):
        container.unpack(tarball, work / "tree")
    with phase("boot the container"):
        booted = container.boot(work / "tree", {}, work / "console.log",
                                read_only_binds={ROOT: SRC, wheels: WHEELS})
    try:
        yield booted
    finally:
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "central-system-test-journal.txt").write_text(
            booted.run("journalctl", "--no-pager", "-b", check=False).stdout)
        booted.stop()


def install(server: container.Booted, *options: str) -> subprocess.CompletedProcess:
    result = server.run(f"{SRC}/setup.sh", "install", "--central", "--wheels", WHEELS, *options,
                        timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def state(server: container.Booted) -> dict[str, str]:
    return server.show(UNIT, "ActiveState", "SubState", "MainPID", "NRestarts", "User")


def health(server: container.Booted) -> dict | None:
    answer = server.run("curl", "-sf", "--max-time", "5", HEALTH, check=False)
    return json.loads(answer.stdout) if answer.returncode == 0 else None


def listeners(server: container.Booted) -> set[str]:
    """Local addresses of the listening TCP sockets, as 'a.b.c.d:port' (IPv4) or 'v6:port'."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in server.run("cat", table).stdout.splitlines()[1:]:
            local, st = line.split()[1], line.split()[3]
            if st != "0A":
                continue
            address, port = local.split(":")
            if len(address) == 8:
                octets = bytes.fromhex(address)[::-1]
                found.add(f"{'.'.join(map(str, octets))}:{int(port, 16)}")
            else:
                found.add(f"v6:{int(port, 16)}")
    return found


def stat(server: container.Booted, path: str) -> str:
    return server.run("stat", "-c", "%U:%G %a", path).stdout.strip()


def as_server(server: container.Booted, *command: str) -> subprocess.CompletedProcess:
    return server.run("runuser", "-u", "kiosk-central", "--", "/usr/local/bin/kiosk-central",
                      *command, timeout=60)


def test_install_runs_the_server_on_loopback(server):
    with phase("./setup.sh install --central (fresh)"):
        first = install(server)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "central-system-test-install.txt").write_text(first.stdout + first.stderr)
    with phase("install to health page answering"):
        answer = server.wait_for("the health page", lambda: health(server), timeout=60)
    assert answer["ok"] is True
    for asset in ("picker.css", "picker.js"):  # the pages' own files came with the wheel
        server.run("curl", "-sf", "--max-time", "5", "-o", "/dev/null",
                   f"{SERVER}/static/{asset}")
    now = state(server)
    assert (now["ActiveState"], now["SubState"], now["User"]) == (
        "active", "running", "kiosk-central")
    user = server.run("getent", "passwd", "kiosk-central").stdout.strip().split(":")
    assert user[5:] == ["/var/lib/kiosk-central", "/usr/sbin/nologin"]
    assert int(user[2]) < 1000  # a system user
    assert stat(server, "/etc/kiosk/central.toml") == "root:kiosk-central 640"
    assert stat(server, "/var/lib/kiosk-central") == "kiosk-central:kiosk-central 700"
    # It holds password hashes: the server keeps it 0600 (central/db.py).
    assert stat(server, "/var/lib/kiosk-central/central.sqlite3") == \
        "kiosk-central:kiosk-central 600"
    assert server.run("readlink", "/usr/local/bin/kiosk-central").stdout.strip() == \
        "/opt/kiosk-central/.venv/bin/kiosk-central"
    assert server.run("systemctl", "is-enabled", UNIT).stdout.strip() == "enabled"
    assert "127.0.0.1:8000" in listeners(server)
    assert not {a for a in listeners(server) if a.endswith(":8000")} - {"127.0.0.1:8000"}


def test_install_again_keeps_the_config_and_restarts_on_the_new_code(server):
    config = server.path("/etc/kiosk/central.toml")
    config.write_text(config.read_text() + "\n# an administrator's change\n")
    as_server(server, "kiosk", "add", "liling-lobby-1", "--library", "醴陵市图书馆")
    before = state(server)["MainPID"]
    with phase("./setup.sh install --central (again: upgrade in place)"):
        install(server)
    assert config.read_text().endswith("# an administrator's change\n")
    assert stat(server, "/etc/kiosk/central.toml") == "root:kiosk-central 640"
    server.wait_for("the health page after the upgrade", lambda: health(server), timeout=60)
    assert state(server)["MainPID"] != before
    assert as_server(server, "kiosk", "list").stdout.startswith("liling-lobby-1\t")


def test_a_killed_server_is_restarted(server):
    before = state(server)
    server.run("kill", "-9", before["MainPID"])
    with phase("SIGKILL to the health page answering again"):
        server.wait_for("a new server process", lambda: (s := state(server))["MainPID"] not in
                        ("0", before["MainPID"]) and s["SubState"] == "running", timeout=60)
        server.wait_for("the health page after the restart", lambda: health(server), timeout=60)
    assert int(state(server)["NRestarts"]) == int(before["NRestarts"]) + 1


def test_the_sandbox_exposure_is_low(server):
    security = server.run("systemd-analyze", "security", "--no-pager", UNIT).stdout
    (OUT / "central-system-test-security.txt").write_text(security)
    last = security.strip().splitlines()[-1]
    exposure = float(last.split(f"exposure level for {UNIT}: ")[1].split()[0])
    assert exposure <= MAX_EXPOSURE, last
    # The sandbox is in force on the running process, not only in the file.
    pid = state(server)["MainPID"]
    status = server.run("cat", f"/proc/{pid}/status").stdout
    assert "NoNewPrivs:\t1" in status and "CapBnd:\t0000000000000000" in status


def sandbox() -> list[str]:
    """The unit's hardening lines (after its "# Hardening" comment), as systemd-run options."""
    text = (ROOT / "systemd" / UNIT).read_text(encoding="utf-8")
    section = text.split("\n# Hardening", 1)[1].split("[Install]", 1)[0]
    return [f"--property={line}" for line in section.splitlines()[1:]
            if line and not line.startswith("#")]


def test_rauc_reads_a_bundle_inside_the_sandbox(server, tmp_path):
    """Publishing a system update runs `rauc info` (and its squashfs tools) from the server:
    it must still work under PrivateUsers, MemoryDenyWriteExecute and the system call filter."""
    from tests import central_bundles
    if central_bundles.why_not():
        pytest.skip(central_bundles.why_not())
    bundle = central_bundles.make_bundle(central_bundles.make_update_key(tmp_path), tmp_path,
                                         "0.2.0")
    shutil.copy(bundle, server.path("/opt/test-bundle.raucb"))
    read = server.run("systemd-run", "--wait", "--pipe", "--quiet", "--property=User=kiosk-central",
                      *sandbox(), "/opt/kiosk-central/.venv/bin/python", "-c",
                      "from pathlib import Path; from central.bundles import read_bundle; "
                      "print(read_bundle(Path('/opt/test-bundle.raucb')).version)",
                      check=False, timeout=120)
    assert read.returncode == 0 and read.stdout.strip() == "0.2.0", read.stdout + read.stderr


def test_postgresql_takes_over_the_sqlite_rows(server):
    with phase("./setup.sh install --central --postgresql (SQLite rows copied)"):
        result = install(server, "--postgresql")
    (OUT / "central-system-test-install-postgresql.txt").write_text(result.stdout + result.stderr)
    config = server.path("/etc/kiosk/central.toml").read_text()
    url = "postgresql://kiosk-central@/kiosk_central?host=/run/postgresql"
    assert f'db = "{url}"' in config
    server.wait_for("the health page on PostgreSQL", lambda: health(server), timeout=60)
    # The kiosk added on SQLite is in PostgreSQL now, read by the server's own config.
    assert as_server(server, "kiosk", "list").stdout.startswith("liling-lobby-1\t")
    rows = server.run("runuser", "-u", "postgres", "--", "psql", "-qtAc",
                      "SELECT id FROM kiosks", "kiosk_central").stdout.split()
    assert rows == ["liling-lobby-1"]
    with phase("./setup.sh install --central --postgresql (again)"):
        install(server, "--postgresql")
    assert server.path("/etc/kiosk/central.toml").read_text() == config
    server.wait_for("the health page after the second run", lambda: health(server), timeout=60)


def test_a_failed_copy_leaves_the_server_on_sqlite(server):
    """PostgreSQL's database holds rows already (the copy above): with the config's db emptied
    again, the copy is refused, and the install says so and starts the server as it was."""
    path = server.path("/etc/kiosk/central.toml")
    path.write_text(re.sub(r'(?m)^db = ".*"$', 'db = ""', path.read_text()))
    result = server.run(f"{SRC}/setup.sh", "install", "--central", "--wheels", WHEELS,
                        "--postgresql", timeout=600, check=False)
    assert result.returncode != 0
    assert "the target database is not empty" in result.stderr
    assert "the server runs on SQLite as before" in result.stderr
    assert re.search(r'(?m)^db = ""$', path.read_text())
    server.wait_for("the health page on SQLite again", lambda: health(server), timeout=60)


def documented(language: str) -> str:
    """The one fenced block of `language` in docs/central.md, as an administrator copies it."""
    (block,) = re.findall(rf"```{language}\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    return block


def test_nginx_as_documented_serves_it_with_the_clients_address(server):
    with phase("nginx from docs/central.md in front, HTTPS to the health page"):
        server.run("systemctl", "disable", "--now", "--quiet", "caddy.service", check=False)
        server.run("mkdir", "-p", "/etc/ssl/private", "/etc/ssl/certs")
        server.run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                   "-subj", "/CN=kiosk.library.example",
                   "-keyout", "/etc/ssl/private/kiosk.library.example.key",
                   "-out", "/etc/ssl/certs/kiosk.library.example.pem")
        server.path("/etc/nginx/sites-enabled/default").unlink(missing_ok=True)
        server.path("/etc/nginx/sites-enabled/kiosk-central").write_text(documented("nginx"))
        server.run("nginx", "-t")
        server.run("systemctl", "restart", "nginx.service")
        server.run("ip", "address", "add", f"{CLIENT}/32", "dev", "lo")
        url = "https://kiosk.library.example/api/v1/health"
        pinned = ["--resolve", f"kiosk.library.example:443:{CLIENT}",
                  "--resolve", f"kiosk.library.example:80:{CLIENT}"]
        answer = server.run("curl", "-sf", "--max-time", "10", "--cacert",
                            "/etc/ssl/certs/kiosk.library.example.pem", *pinned, url)
    assert json.loads(answer.stdout)["ok"] is True
    plain = server.run("curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                       *pinned, "http://kiosk.library.example/api/v1/health").stdout
    assert plain == "301 " + url
    # The server's access log names the client nginx saw, not nginx (127.0.0.1).
    log = server.run("journalctl", "--no-pager", "-u", UNIT, "-g", "GET /api/v1/health").stdout
    assert f'{CLIENT}:' in log, log[-2000:]


def test_caddy_reads_the_documented_caddyfile(server):
    server.path("/etc/caddy/Caddyfile").write_text(documented("caddyfile"))
    checked = server.run("caddy", "validate", "--config", "/etc/caddy/Caddyfile",
                         "--adapter", "caddyfile", check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_uninstall_purge_removes_it(server):
    with phase("./setup.sh uninstall --central --purge"):
        result = server.run(f"{SRC}/setup.sh", "uninstall", "--central", "--purge", timeout=120,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert server.run("systemctl", "is-active", UNIT, check=False).stdout.strip() != "active"
    for gone in ("/opt/kiosk-central", "/etc/kiosk/central.toml", "/var/lib/kiosk-central",
                 "/etc/systemd/system/kiosk-central.service", "/usr/local/bin/kiosk-central"):
        assert server.run("test", "-e", gone, check=False).returncode == 1, gone
    assert server.run("getent", "passwd", "kiosk-central", check=False).returncode == 2
