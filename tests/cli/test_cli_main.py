from __future__ import annotations

import pytest

from platewise.cli import main
from platewise.cli._inputs import expand_paths


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "read" in capsys.readouterr().out


def test_read_of_a_missing_file_is_one_line_error_and_exit_2(run_cli):
    proc = run_cli("read", "/nonexistent/x.jpg")
    err = proc.stderr.decode()
    assert proc.returncode == 2
    assert err.strip().count("\n") == 0 and "no such file" in err
    assert "Traceback" not in err


def test_expand_paths_walks_directories_and_globs(tmp_path):
    (tmp_path / "a").mkdir()
    for name in ["a/1.jpg", "a/2.PNG", "a/notes.txt", "3.webp"]:
        (tmp_path / name).write_bytes(b"x")
    found = expand_paths([str(tmp_path / "a"), str(tmp_path / "*.webp"), "-"])
    assert [p.rsplit("/", 1)[-1] for p in found] == ["1.jpg", "2.PNG", "3.webp", "-"]


def test_every_command_has_help(run_cli):
    from platewise.cli import _command_modules

    for mod in _command_modules():
        proc = run_cli(*mod.COMMAND, "--help")
        assert proc.returncode == 0, (mod.COMMAND, proc.stderr.decode())
        assert b"usage: platewise " + " ".join(mod.COMMAND).encode() in proc.stdout
