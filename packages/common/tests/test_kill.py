"""A process killed (SIGKILL) while it writes large files through a ChangeSet leaves each file old or new.

Run as a script, this module is the writer: `python test_kill.py ROOT FIRST_ROUND MODE` rewrites every file once
a round, until it is killed: through one change set a round (MODE `journal`), or, to show that the check catches
torn files, with plain `open` and `write` (MODE `plain`).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codegen_lab.common import _journal
from codegen_lab.common.errors import UsageError
from codegen_lab.common.files import ChangeSet, default_state_dir, recent_changes, undo_last

FILES = 4
MEGABYTE = 1024 * 1024
KILLS = 6


def content(round_number: int, index: int) -> bytes:
    """What file `index` holds after round `round_number`: 1 to 4 MB, different in every round and file."""
    header = f"round {round_number:08d} file {index}\n".encode()
    size = (1 + index % 4) * MEGABYTE
    return header + bytes([(round_number * 31 + index * 7) % 251 + 1]) * (size - len(header))


def round_of(data: bytes, index: int) -> int:
    """The round file `index` holds, checking that it holds that round's content exactly (never partial)."""
    header = data[:40].split(b"\n", 1)[0].decode(errors="replace").split()
    assert len(header) == 4, f"file {index} is torn: {len(data)} bytes from {data[:40]!r}"
    assert header[1].isdigit(), f"file {index} is torn: {len(data)} bytes from {data[:40]!r}"
    number = int(header[1])
    assert data == content(number, index), f"file {index} is torn: round {number}, {len(data)} bytes"
    return number


def _writer(root: Path, first: int, mode: str) -> None:
    _journal.KEEP = 4  # the backups of many rounds of 10 MB would fill the disk; pruning runs under the kills too
    print("ready", flush=True)
    for number in range(first, first + 10_000):
        if mode == "plain":
            for index in range(FILES):
                with (root / f"file{index}.bin").open("wb") as sink:
                    data = content(number, index)
                    for start in range(0, len(data), 64 * 1024):
                        sink.write(data[start : start + 64 * 1024])
            continue
        with ChangeSet(root, f"round {number}") as change:
            for index in range(FILES):
                change.write(root / f"file{index}.bin", content(number, index))


def _rounds(root: Path) -> list[int]:
    return [round_of((root / f"file{index}.bin").read_bytes(), index) for index in range(FILES)]


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    for index in range(FILES):
        (root / f"file{index}.bin").write_bytes(content(0, index))
    return root


def _kill_writer(root: Path, first: int, mode: str, chance: random.Random) -> None:
    """Start a writer, let it write for a random moment, and kill it with SIGKILL."""
    writer = subprocess.Popen(
        [sys.executable, __file__, str(root), str(first), mode], stdout=subprocess.PIPE, env=os.environ.copy()
    )
    assert writer.stdout is not None
    assert writer.stdout.readline() == b"ready\n"
    time.sleep(chance.uniform(0.05, 0.8))
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    writer.stdout.close()


def test_the_check_catches_a_writer_that_tears_files(tmp_path: Path) -> None:
    seed = random.randrange(2**32)  # noqa: S311 (timing, not secrets)
    chance = random.Random(seed)  # noqa: S311
    root = _project(tmp_path)
    for _ in range(KILLS):
        _kill_writer(root, 1, "plain", chance)
        try:
            _rounds(root)
        except AssertionError:
            return
    raise AssertionError(f"seed {seed}: plain writes were killed {KILLS} times and no file was ever torn")


@pytest.mark.slow
def test_every_file_is_old_or_new_after_each_kill_and_undo_still_works(tmp_path: Path) -> None:
    seed = random.randrange(2**32)  # noqa: S311 (timing, not secrets)
    chance = random.Random(seed)  # noqa: S311
    root = _project(tmp_path)
    next_round, base = 1, 0  # every file holds round `base` when a writer starts
    interrupted = 0
    for kill in range(KILLS):
        _kill_writer(root, next_round, "journal", chance)
        context = f"seed {seed}, kill {kill}"

        rounds = _rounds(root)  # each file exactly some round's content
        top = max(rounds)
        old = top - 1 if top > next_round else base  # what a file the last round had not reached yet holds
        assert set(rounds) <= {top, old}, f"{context}: {rounds} from round {base}, writing from {next_round}"
        assert rounds == sorted(rounds, reverse=True), context  # files are written in order within a round
        assert _journal._read(default_state_dir())[1] == [], context  # every entry of the journal reads
        pending = [change for change in recent_changes(root) if change.undone is None]
        interrupted += bool(pending) and not pending[0].complete

        if not pending:  # killed before its first entry: nothing written, nothing to undo
            assert set(rounds) == {base}, context
            with pytest.raises(UsageError, match="nothing to undo"):
                undo_last(root)
        else:
            report = undo_last(root)
            after = _rounds(root)
            assert len(set(after)) == 1, f"{context}: undo left {after}"
            assert after[0] < top or not report.restored, context
        base = _rounds(root)[0]
        next_round = max(next_round, top + 1)
    assert interrupted, f"seed {seed}: no kill landed inside a change set"
    assert not [p.name for p in root.iterdir() if not p.name.endswith(".tmp") and p.suffix != ".bin"]


if __name__ == "__main__":
    _writer(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
