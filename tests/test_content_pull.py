"""kiosk-pull.service pulls e-book batches on every kiosk, the image's and setup.sh's: `kiosk
content pull` is its first step, as the kiosk user, and neither unit waits for RAUC; on a kiosk
without a central server the command says so and does nothing."""

import shlex

from kiosk.cli.main import build_parser
from tests.small_partition import kiosk
from tests.test_update_pull import unit_lines


def test_the_service_pulls_batches_first_on_every_kiosk():
    service = unit_lines("kiosk-pull.service")
    first = next(value for key, value in service if key == "ExecStart")
    assert first.startswith("-/")  # a server away does not stop the update steps
    program, *args = shlex.split(first.lstrip("-"))
    assert program == "/opt/kiosk/.venv/bin/kiosk"
    parsed = build_parser().parse_args(args)
    assert (parsed.command, parsed.action, parsed.func.__name__) == ("content", "pull",
                                                                    "run_pull")
    assert dict(service)["User"] == "kiosk"
    timer = unit_lines("kiosk-pull.timer")
    assert not [key for key, _ in service + timer if key.startswith("Condition")]


def test_without_a_central_server_the_pull_says_so(tmp_path):
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n')
    done = kiosk("content", "pull", "--config", str(config), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "kiosk content pull: no [central] url is set" in done.stdout
