"""The catalogue store's refusals a screen words for itself (each with its BatchProblem), an
older batch refused unless staff allow it, the space check, the progress of a check, and the
leftovers of an apply that was cut off."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from content.errors import BatchError, BatchProblem, ContentError
from content.store import CatalogueStore
from tests import small_partition
from tests.conftest import ROOT
from tests.content_batches import Batches, edit_manifest, tar_of, tree


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    return Batches(tmp_path_factory.mktemp("batches"), count=22)


@pytest.fixture
def store(tmp_path, batches):
    store = CatalogueStore(tmp_path / "catalogue")
    store.apply(batches.first, batches.public)
    return store


def renamed(batches, tmp_path, name):
    """The second batch under another name, signed again."""
    batch = batches.copy(batches.second, tmp_path / name)
    edit_manifest(batch, lambda doc: doc.update(batch=name), batches.key)
    return batch


def kiosk(*args):
    return subprocess.run([sys.executable, "-m", "kiosk", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def refusal(call) -> BatchProblem | None:
    with pytest.raises(ContentError) as refused:
        call()
    return refused.value.problem


def test_an_older_batch_is_refused_unless_allowed_and_rollback_is_named(store, batches,
                                                                          tmp_path):
    assert store.current_batch() == "2026-11"
    older = renamed(batches, tmp_path, "2026-9")  # digits as numbers: 9 before 11
    before = tree(store.root)
    with pytest.raises(BatchError, match="rollback") as refused:
        store.apply(older, batches.public)
    assert refused.value.problem is BatchProblem.OLDER
    assert "比当前目录的批次 2026-11 旧" in str(refused.value)
    assert refusal(lambda: store.check(older, batches.public)) is BatchProblem.OLDER
    assert tree(store.root) == before
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n')
    said = kiosk("content", "apply", older, "--public-key", batches.public, "--config", config)
    assert said.returncode == 2 and "--allow-older" in said.stderr
    said = kiosk("content", "verify", older, "--public-key", batches.public, "--allow-older",
                 "--config", config)
    assert said.returncode == 0, said.stderr
    store.check(older, batches.public, allow_older=True)
    assert store.apply(older, batches.public, allow_older=True).batch == "2026-9"
    assert store.current_batch() == "2026-9"


def test_every_refusal_names_its_problem(store, batches, tmp_path):
    assert refusal(lambda: store.apply(batches.first, batches.public)) \
        is BatchProblem.ALREADY_APPLIED
    broken = batches.copy(batches.second, tmp_path / "broken")
    book = next((broken / "books").iterdir())
    book.write_bytes(book.read_bytes()[:-1] + b"!")
    assert refusal(lambda: store.apply(broken, batches.public)) is BatchProblem.DAMAGED
    tampered = batches.copy(batches.second, tmp_path / "tampered")
    edit_manifest(tampered, lambda doc: doc.update(created="2026-12-02"))
    assert refusal(lambda: store.apply(tampered, batches.public)) is BatchProblem.SIGNATURE
    not_a_tar = tmp_path / "x.tar"
    not_a_tar.write_bytes(b"no tar here" * 100)
    assert refusal(lambda: store.apply(not_a_tar, batches.public)) is BatchProblem.NOT_A_BATCH
    empty = CatalogueStore(tmp_path / "empty")  # the second batch updates titles it lacks
    assert refusal(lambda: empty.apply(batches.second, batches.public)) \
        is BatchProblem.DOES_NOT_FIT
    assert refusal(lambda: store.apply(batches.second, tmp_path / "no.pub")) is BatchProblem.KEY
    with store._locked():
        assert refusal(lambda: store.apply(batches.second, batches.public)) is BatchProblem.BUSY
    assert store.current_batch() == "2026-11"


def test_no_room_for_the_new_version_builds_nothing(tmp_path, batches):
    free_mb = os.statvfs(tmp_path).f_bavail * os.statvfs(tmp_path).f_frsize // 2**20
    store = CatalogueStore(tmp_path / "catalogue", reserve_mb=free_mb + 1)
    with pytest.raises(BatchError, match=r"MB is free") as refused:
        store.apply(batches.first, batches.public)
    assert refused.value.problem is BatchProblem.NO_SPACE
    assert "空间不足" in str(refused.value)
    assert store.current_dir() is None and store.leftovers() == []
    assert list((tmp_path / "catalogue/versions").iterdir()) == []


def test_progress_moves_to_the_total_of_the_files(store, batches, tmp_path):
    seen: list[tuple[int, int]] = []
    tar = tar_of(batches.second, tmp_path / "2026-12.tar")
    store.check(tar, batches.public, progress=lambda done, total: seen.append((done, total)))
    total = sum(p.stat().st_size for folder in ("covers", "books")
                for p in (batches.second / folder).iterdir())
    assert seen[0] == (0, total) and seen[-1] == (total, total) and len(seen) > 3
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    applied: list[tuple[int, int]] = []
    store.apply(tar, batches.public, progress=lambda *p: applied.append(p))
    assert applied[-1] == (total, total)


def test_leftovers_are_listed_then_cleared(store, batches, tmp_path):
    leftover = store.versions_dir / ".building-2026-12-4242"
    (leftover / "books").mkdir(parents=True)
    (leftover / "books/half.epub").write_bytes(b"half")
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n')
    listed = kiosk("content", "list", "--json", "--config", config)
    assert json.loads(listed.stdout)["leftovers"] == [leftover.name], listed.stderr
    with store._locked():  # an apply running now: its folder is not a leftover to remove
        assert store.clear_leftovers() == []
    from kiosk import config as config_module
    from kiosk.cli import run_cmd
    run_cmd._clear_catalogue_leftovers(config_module.load(config))  # as `kiosk run` starts
    assert not leftover.exists() and store.leftovers() == []
    assert store.clear_leftovers() == []
    assert store.current_batch() == "2026-11"


def test_a_disk_that_fills_during_the_apply_leaves_the_catalogue_as_it_was(tmp_path, batches):
    """The space check passed, then something else filled the data partition (a real 4 MB
    loop-mounted ext4) while the new version was being built: the apply stops with NO_SPACE and
    a message, the half-built version is removed, and `current` is the catalogue before."""
    reason = small_partition.why_not()
    if reason:
        pytest.skip(reason)
    with small_partition.small_partition(tmp_path) as mounted:
        store = CatalogueStore(mounted / "catalogue", reserve_mb=0)
        store.apply(batches.first, batches.public)
        before = tree(store.current_dir())
        filled: list[Path] = []

        def another_writer(done: int, _total: int) -> None:
            if done and not filled:  # the first file is on its way: the disk fills up
                filled.append(small_partition.fill(mounted, leave_kb=0))

        with pytest.raises(ContentError) as refused:
            store.apply(batches.second, batches.public, progress=another_writer)
        assert filled, "the apply never reported progress"
        assert refused.value.problem is BatchProblem.NO_SPACE, refused.value
        assert "空间" in str(refused.value) and "space" in str(refused.value)
        assert store.current_batch() == "2026-11" and store.leftovers() == []
        assert [p.name for p in (mounted / "catalogue/versions").iterdir()] == ["2026-11-1"]
        assert tree(store.current_dir()) == before
        filled[0].unlink()
        assert store.apply(batches.second, batches.public).batch == "2026-12"  # room again


def test_the_space_check_counts_the_catalogue_twice_for_its_staged_rows():
    """A format-3 catalogue is built from rows staged in a file beside it: at the build's peak
    both are on the data partition, each about the size of the catalogue."""
    from content.store import CATALOGUE_BYTES_PER_TITLE, space_needed

    assert space_needed(5_000_000, 100, 0) == 5_000_000 + 100 * CATALOGUE_BYTES_PER_TITLE
    assert space_needed(0, 0, 165_000_000) == 330_000_000  # 200,000 titles' catalogue
