"""The `kiosk` command speaks Chinese when the technician's locale is Chinese, English otherwise;
machine-readable output is the same in both."""

import json
import os
import re
import subprocess
import sys
import unicodedata

import pytest

from kiosk.i18n import language_from_environment
from tests.conftest import ROOT
from tests.test_i18n import catalogue, python_message_ids

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def kiosk(*args, lang, columns=None):
    env = {k: v for k, v in os.environ.items()
           if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG", "COLUMNS")}
    env["LANG"] = lang
    # A home of its own: the demo's data (its journal) as on a machine that never ran it.
    env["HOME"] = os.environ["KIOSK_CLI_TEST_HOME"]
    if columns:
        env["COLUMNS"] = columns
    return subprocess.run([sys.executable, "-m", "kiosk", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(autouse=True, scope="module")
def own_home(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KIOSK_CLI_TEST_HOME", str(tmp_path_factory.mktemp("home")))
        yield


def width(text):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


@pytest.mark.parametrize(("environ", "language"), [
    ({"LANG": "zh_CN.UTF-8"}, "zh_CN"), ({"LANG": "zh_CN"}, "zh_CN"),
    ({"LANG": "zh_Hans"}, "zh_CN"), ({"LANG": "zh"}, "zh_CN"),
    ({"LANG": "C.UTF-8"}, "en"), ({"LANG": "en_US.UTF-8"}, "en"), ({}, "en"),
    ({"LANG": "zh_CN.UTF-8", "LC_MESSAGES": "C"}, "en"),
    ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}, "zh_CN"),
    ({"LC_ALL": "en_US.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}, "en"),
    ({"LC_ALL": "", "LANG": "zh_CN.UTF-8"}, "zh_CN"),  # set but empty counts as unset
    ({"LANG": "zhx"}, "en"),
])
def test_the_language_is_chosen_as_gettext_does(environ, language):
    assert language_from_environment(environ) == language


def test_doctor_speaks_chinese_in_a_chinese_locale():
    chinese = kiosk("doctor", "--demo", lang="zh_CN.UTF-8")
    english = kiosk("doctor", "--demo", lang="C.UTF-8")
    assert chinese.returncode == english.returncode
    zh_lines, en_lines = chinese.stdout.splitlines(), english.stdout.splitlines()
    assert len(zh_lines) == len(en_lines) > 10
    # verdicts, check names, summaries and advice
    assert re.search(r"^正常\s+版本\s+kiosk ", chinese.stdout, re.M)
    assert re.search(r"^警告\s+配置\s+读取自 .*demo.toml -> ", chinese.stdout, re.M)
    assert "尚未创建" in chinese.stdout  # the journal not created yet
    assert re.search(r"^ok\s+version\s+kiosk ", english.stdout, re.M)
    assert re.search(r"^WARN\s+config\s+read from ", english.stdout, re.M)
    assert not CHINESE.search(english.stdout)
    for line in zh_lines:
        assert CHINESE.search(line), line


def test_doctor_columns_line_up_with_chinese_names(monkeypatch):
    from kiosk.cli import doctor_cmd, words
    from kiosk.status import Check, Message
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    checks = [Check("version", True, Message("kiosk 1")), Check("ssh", None, Message("x")),
              Check("boot-setup", True, Message("y"), warning=True),
              Check("device:rfid", False, Message("z")), Check("clock", True, Message("w"))]
    lines = [doctor_cmd.format_check(c) for c in checks]
    assert lines[1].startswith("--    SSH 密钥 ") and lines[2].startswith("警告  启动设置")
    # The summary starts at the same screen column on every line: verdict and name are padded
    # by their display width (a Chinese character takes two columns).
    for line, check in zip(lines, checks, strict=True):
        summary = words.say(check.summary)
        assert line.endswith(" " + summary)
        assert width(line[:-len(summary)]) == 5 + 1 + 16 + 1, line


def test_wrap_breaks_chinese_by_columns_and_keeps_closing_marks():
    from kiosk.cli.words import wrap
    lines = wrap("开机时以 root 运行：创建 /data 下的目录（kiosk、ssh、rauc）并设好属主", 20)
    assert all(width(line) <= 20 for line in lines)
    assert ("".join(lines).replace(" ", "")
            == "开机时以root运行：创建/data下的目录（kiosk、ssh、rauc）并设好属主")
    assert not any(line[0] in "，。、；：）" for line in lines)
    assert not any(line[-1] in "（《" for line in lines)
    assert (wrap("在时段内：下载并应用（由 kiosk-pull 运行）", 20)
            == ["在时段内：下载并应用", "（由 kiosk-pull 运行）"])
    assert wrap("a-very-long-word here", 5) == ["a-very-long-word", "here"]


def test_pad_counts_wide_characters_twice():
    from kiosk.cli.words import pad
    assert pad("服务", 6) == "服务  " and width(pad("服务", 6)) == 6
    assert pad("ok", 6) == "ok    "
    assert pad("很长的名字", 4) == "很长的名字"  # never cut


def test_help_is_chinese_in_a_chinese_locale():
    top = kiosk("--help", lang="zh_CN.UTF-8")
    assert top.returncode == 0
    assert top.stdout.startswith("用法：kiosk ")
    assert "选项:" in top.stdout and "显示此帮助信息并退出" in top.stdout
    assert "图书馆自助服务机" in top.stdout
    doctor = kiosk("doctor", "--help", lang="zh_CN.UTF-8")
    assert doctor.stdout.startswith("用法：kiosk doctor ")
    assert "检查演示的配置" in doctor.stdout
    english = kiosk("doctor", "--help", lang="en_US.UTF-8")
    assert english.stdout.startswith("usage: kiosk doctor ")
    assert "check the demo's config" in english.stdout and not CHINESE.search(english.stdout)


@pytest.mark.parametrize("command", [(), ("sip2", "serve"), ("boot-setup",), ("journal",),
                                     ("journal", "export"), ("hash-pin",)])
def test_chinese_help_fits_the_terminal_and_lines_up(command):
    """argparse wraps by characters; a Chinese one takes two columns, so we wrap by columns."""
    result = kiosk(*command, "--help", lang="zh_CN.UTF-8", columns="80")
    lines = result.stdout.splitlines()
    assert CHINESE.search(result.stdout)
    too_wide = [line for line in lines if width(line) > 80]
    assert not too_wide
    # usage's continuation lines start under the first option, after "用法：kiosk ... "
    usage = lines[:lines.index("")]
    first = usage[0].index("[")
    for line in usage[1:]:
        assert width(line) - len(line.lstrip()) == width(usage[0][:first]), usage


def test_argparse_errors_are_chinese_too():
    result = kiosk("no-such-command", lang="zh_CN.UTF-8")
    assert result.returncode == 2
    assert "错误：" in result.stderr and "用法：" in result.stderr


DEMO = str(ROOT / "kiosk" / "demo" / "demo.toml")


def test_json_output_is_the_same_in_both_languages():
    chinese = kiosk("devices", "list", "--json", "--config", DEMO, lang="zh_CN.UTF-8")
    english = kiosk("devices", "list", "--json", "--config", DEMO, lang="C.UTF-8")
    assert chinese.returncode == english.returncode == 0
    assert chinese.stdout == english.stdout and not CHINESE.search(chinese.stdout)
    assert '"state": "simulated"' in chinese.stdout


def test_the_device_listing_is_chinese():
    result = kiosk("devices", "list", "--config", DEMO, lang="zh_CN.UTF-8")
    assert "已配置的设备：" in result.stdout and "-> 模拟设备" in result.stdout


@pytest.fixture
def chinese(monkeypatch):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)


def test_update_status_is_chinese_and_lines_up(chinese, tmp_path, capsys):
    from argparse import Namespace

    from kiosk.cli import update_cmd
    from kiosk.update.state import UpdatePaths
    from tests.update_fakes import FakeKiosk, recorded
    (tmp_path / "system.conf").write_text("[system]\n")
    (tmp_path / "kiosk-release").write_text('VERSION=0.2.0\nBUILD="2026-12-06T00:00:00Z"\n')
    (tmp_path / "cmdline").write_text("root=PARTUUID=4b494f53-03 ro rauc.slot=B\n")
    paths = UpdatePaths(tmp_path / "system.conf", tmp_path / "kiosk-release",
                        tmp_path / "cmdline")
    assert update_cmd.run_status(Namespace(), FakeKiosk(status=recorded("fell_back")), paths) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("当前槽：") and "自助机系统 0.2.0，构建于 2026-12-06" in lines[0]
    assert lines[1].startswith("另一个槽： A：0.3.0-broken，于 2026-12-06 17:41 UTC 安装，异常")
    assert lines[2].startswith("上次更新： 已回退：")
    # the values start at one screen column
    assert len({width(re.match(r"\S+：\s*", line).group()) for line in lines[:3]}) == 1


def test_the_upload_report_is_chinese_and_lines_up(chinese):
    from types import SimpleNamespace

    from kiosk.cli.upload_cmd import format_report
    report = SimpleNamespace(busy=False, batches=[SimpleNamespace(rows=40, duplicate=False)],
                             unsent_rows=0, heartbeat_sent=True, catalogue_sent=0, error="")
    lines = format_report(report).splitlines()
    assert lines == ["已发送批次 1 批（40 条记录）", "未上传     0", "心跳       已发送"]


def cli_message_ids():
    ids = set()
    for path in (ROOT / "kiosk" / "cli").glob("*.py"):
        ids |= python_message_ids(path.read_text(encoding="utf-8"))
    return ids


def test_the_scan_finds_the_cli_messages():
    ids = cli_message_ids()
    assert {"usage: ", "check the demo's config", "Library self-service kiosk"} <= ids


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_every_cli_message_is_translated(language):
    entries = catalogue(language)
    missing = sorted(i for i in cli_message_ids() if not entries.get(i))
    assert not missing, f"{language} lacks: {missing}"


@pytest.fixture
def journal_file(tmp_path):
    from kiosk.journal import Journal
    path = tmp_path / "journal.sqlite3"
    with Journal.open(path, tmp_path / "patron.key") as journal:
        journal.append("checkout", "ok", item="33520000123453", title="红楼梦",
                       patron="23520001234566")
        journal.append("session", "timeout")
        journal.mark_sent(1)
    return path


def test_journal_stats_in_chinese_and_the_same_json(journal_file):
    text = kiosk("journal", "stats", "--file", str(journal_file), lang="zh_CN.UTF-8").stdout
    lines = text.splitlines()
    assert "记录数       2（序号 1 至 2）" in lines and "未上传       1" in lines
    assert "类型         结果         记录数" in lines and "checkout     ok           1" in lines
    assert len({width(re.match(r"\S+\s+", line).group()) for line in lines[:4]}) == 1
    assert "完好（2 条记录）" in kiosk("journal", "verify", "--file", str(journal_file),
                                 lang="zh_CN.UTF-8").stdout
    as_json = [kiosk("journal", "stats", "--file", str(journal_file), "--json", lang=lang).stdout
               for lang in ("zh_CN.UTF-8", "en_US.UTF-8")]
    assert not CHINESE.search(as_json[0].replace("红楼梦", ""))
    records = [json.loads(text) for text in as_json]
    for record in records:
        record.pop("free_bytes")  # the disk's free space moves between the two runs
    assert records[0] == records[1] and records[0]["rows"] == 2


def test_hash_pin_refusals_are_chinese_and_the_config_line_is_not():
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES")}
    env["LANG"] = "zh_CN.UTF-8"
    run = [sys.executable, "-m", "kiosk", "hash-pin", "--stdin"]
    refused = subprocess.run(run, input="12ab\n", cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=60)
    assert refused.returncode == 1 and "工作人员密码为 4 到 12 位数字" in refused.stderr
    made = subprocess.run(run, input="482916\n", cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert made.stdout.startswith('pin_hash = "pbkdf2_sha256$')


def test_argument_errors_are_chinese():
    bad_day = kiosk("journal", "export", "--since", "2026-13-01", lang="zh_CN.UTF-8")
    assert bad_day.returncode == 2
    assert "参数 --since：'2026-13-01' 不是形如 2026-11-24 的日期" in bad_day.stderr
    blank = kiosk("sip2", "item", " ", lang="zh_CN.UTF-8")
    assert "图书条码为空" in blank.stderr
    english = kiosk("sip2", "item", " ", lang="C.UTF-8")
    assert "argument item_id: an empty item barcode" in english.stderr


def test_doctor_translates_the_words_system_checks_fill_in_and_nothing_else(chinese):
    from kiosk.cli import doctor_cmd
    from kiosk.status import Check, Message
    root = Check("root", True, Message("{mode} ({fstype})", {"mode": "read-write",
                                                             "fstype": "ext4"}))
    assert doctor_cmd.format_check(root).endswith("可读写（ext4）")
    # a value that happens to be a message id elsewhere (a file named Borrow) stays as it is
    config = Check("config", True, Message("read from {files}", {"files": "Borrow"}))
    assert doctor_cmd.format_check(config).endswith("读取自 Borrow")


BAD_CONFIGS = {
    "rotation": ("[display]\nrotation = 45\n",
                 "[display] 节的选项 'rotation' 必须是 0、90、180、270 之一（现在是 45）",
                 "option 'rotation' in section [display] must be one of 0, 90, 180, 270 (got 45)"),
    "kind": ('[display]\nwidth = "wide"\n',
             "[display] 节的选项 'width' 必须是整数（现在是 'wide'）",
             "option 'width' in section [display] must be a whole number (got 'wide')"),
    "range": ("[display]\nheight = 9\n", "[display] 节的选项 'height' 必须不小于 240（现在是 9）",
              "option 'height' in section [display] must be >= 240 (got 9)"),
    "section": ("[displai]\n", "没有 [displai] 这一节；可用的节：kiosk, display",
                "unknown section [displai]; allowed: kiosk, display"),
    "option": ("[display]\nrotate = 90\n", "[display] 节没有选项 'rotate'；可用的选项：width",
               "unknown option 'rotate' in section [display]; allowed: width"),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_config_errors_reach_the_technician_in_chinese(tmp_path, case):
    """kiosk.config's messages, through any command that reads the config; the exception's own
    text (what logs keep) stays English."""
    from kiosk import config as config_module
    from kiosk.errors import ConfigError
    text, chinese_words, english_words = BAD_CONFIGS[case]
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    chinese = kiosk("devices", "list", "--config", str(path), lang="zh_CN.UTF-8")
    english = kiosk("devices", "list", "--config", str(path), lang="C.UTF-8")
    assert chinese.returncode == english.returncode == 2
    assert chinese.stderr.startswith(f"kiosk: {path}：{chinese_words}")
    assert english.stderr.startswith(f"kiosk: {path}: {english_words}")
    assert not CHINESE.search(english.stderr)
    with pytest.raises(ConfigError) as raised:
        config_module.load(path)
    assert str(raised.value) == english.stderr.removeprefix("kiosk: ").rstrip("\n")
    doctor = kiosk("doctor", "--config", str(path), lang="zh_CN.UTF-8")
    assert doctor.returncode == 1 and re.match(rf"故障\s+配置\s+{re.escape(str(path))}：",
                                               doctor.stdout)


def test_a_missing_config_and_a_missing_screen_are_told_in_chinese(tmp_path):
    missing = kiosk("devices", "list", "--config", str(tmp_path / "none.toml"),
                    lang="zh_CN.UTF-8")
    assert missing.stderr == f"kiosk: {tmp_path / 'none.toml'}：没有这个配置文件\n"
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "KIVY_WINDOW", "LC_ALL", "LC_MESSAGES")}
    env.update(LANG="zh_CN.UTF-8", HOME=str(tmp_path))
    headless = subprocess.run([sys.executable, "-m", "kiosk", "run", "--demo"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)
    assert headless.returncode == 2
    assert "kiosk: 找不到屏幕。树莓派上自助机通过 KMS 直接在屏幕上绘制" in headless.stderr


def test_said_is_english_text_that_remembers_its_words(chinese):
    from kiosk.cli.words import error_text
    from kiosk.errors import KioskError, Said
    from kiosk.update.state import NotFromImage
    error = NotFromImage()
    assert str(error).startswith("this kiosk was installed with setup.sh install")
    assert json.loads(json.dumps({"error": str(error)}))["error"] == str(error)
    assert error_text(error).startswith("这台自助机是用 setup.sh install 安装的")
    # parts are said in the language too; an error without a Said is left as it is
    nested = Said("{where} must be {expected} (got {value!r})",
                  where=Said("{path}: option '{name}' in section [{section}]", path="k.toml",
                             name="width", section="display"),
                  expected=Said("a whole number"), value="x")
    assert (error_text(KioskError(nested))
            == "k.toml：[display] 节的选项 'width' 必须是整数（现在是 'x'）")
    assert error_text(KioskError("plain words")) == "plain words"


def test_doctor_tells_how_the_picture_is_turned(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n[display]\nwidth = 1280\nheight = 720\n'
                    'rotation = 90\n', encoding="utf-8")
    chinese = kiosk("doctor", "--config", str(path), lang="zh_CN.UTF-8").stdout
    english = kiosk("doctor", "--config", str(path), lang="C.UTF-8").stdout
    assert re.search(r"^正常\s+屏幕\s+面板 1280x720，顺时针旋转 90 度："
                     r"界面按 720x1280（竖屏）排版，触摸随画面一起旋转$", chinese, re.M)
    assert re.search(r"^ok\s+display\s+panel 1280x720, turned 90 degrees clockwise: screens "
                     r"laid out at 720x1280 \(portrait\), touches turned with the picture$",
                     english, re.M)


def test_update_results_are_chinese_on_the_command_line_and_english_in_the_record(chinese,
                                                                                  tmp_path):
    """`kiosk update pull` without a central server, and apply-downloaded with nothing
    downloaded: the result's own text (which the delivery status and logs keep) is English."""
    from kiosk import config as config_module
    from kiosk.cli.words import spoken
    from kiosk.update.apply import Apply
    from kiosk.update.pull import Pull
    from kiosk.update.state import UpdatePaths
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n', encoding="utf-8")
    config = config_module.load(path)
    (tmp_path / "system.conf").write_text("[system]\n")
    paths = UpdatePaths(tmp_path / "system.conf", tmp_path / "release", tmp_path / "cmdline")
    pulled = Pull(config, paths=paths).run()
    assert pulled.message == "no [central] url is set: there is no server to pull updates from"
    assert spoken(pulled.message) == "没有设置 [central] url：没有可以下载更新的服务器"
    not_image = Pull(config, paths=UpdatePaths(tmp_path / "none.conf")).run()
    assert not_image.message.endswith("; nothing to pull")
    assert spoken(not_image.message) == (
        "这台自助机是用 setup.sh install 安装的，不是用 SD 卡镜像："
        "请再次运行 ./setup.sh install 来升级；没有可下载的")
    applied = Apply(config, paths=paths).run()
    assert (applied.message, spoken(applied.message)) == (
        "no system update has been downloaded", "还没有下载系统更新")


def test_a_missing_journal_is_told_in_chinese(tmp_path):
    path = tmp_path / "journal.sqlite3"
    chinese = kiosk("journal", "stats", "--file", str(path), lang="zh_CN.UTF-8")
    english = kiosk("journal", "stats", "--file", str(path), lang="C.UTF-8")
    assert chinese.returncode == english.returncode == 2
    assert chinese.stderr.startswith(f"kiosk: {path}：这里没有交易日志（自助机第一次启动时才创建")
    assert english.stderr.startswith(f"kiosk: {path}: no journal here (the kiosk makes it")


def test_an_ils_that_cannot_be_reached_is_told_in_chinese(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text('[ils]\nhost = "no-such-host.invalid"\nport = 6001\n', encoding="utf-8")
    chinese = kiosk("sip2", "status", "--config", str(path), lang="zh_CN.UTF-8")
    english = kiosk("sip2", "status", "--config", str(path), lang="C.UTF-8")
    assert chinese.returncode == english.returncode == 2
    assert chinese.stderr.endswith(
        "kiosk: 无法连接 no-such-host.invalid:6001：未知的主机 'no-such-host.invalid'\n")
    assert english.stderr.endswith(
        "kiosk: cannot connect to no-such-host.invalid:6001: unknown host 'no-such-host.invalid'\n")
