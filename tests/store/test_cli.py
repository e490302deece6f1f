"""``platewise search``, ``store stats`` and ``store prune`` through the CLI entry point."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from store_helpers import rec

from platewise.cli import main
from platewise.store import ReadStore


@pytest.fixture
def db(db_url: str, store: ReadStore) -> str:
    store.add([rec("7ABC123"), rec("7A8C123", ago=dt.timedelta(hours=3)), rec("OLD0001", ago=dt.timedelta(days=40))])
    return db_url


def test_cli_search_prints_a_table(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "7a*", "--db", db, "--since", "1d"]) == 0
    out = capsys.readouterr().out
    assert "7ABC123" in out
    assert "7A8C123" in out
    assert "OLD0001" not in out
    assert "(2 reads)" in out


def test_cli_search_fuzzy_shows_distances_as_json(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "7ABC123", "--fuzzy", "1", "--format", "json", "--db", db]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(d["text"], d["distance"]) for d in data] == [("7ABC123", 0.0), ("7A8C123", 0.5)]


def test_cli_search_writes_csv_and_parquet(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "--db", db, "--format", "csv", "--limit", "2"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith("id,time,source,text")
    assert main(["search", "^7A", "--regex", "--db", db, "-o", str(tmp_path / "r.parquet")]) == 0
    assert list(pd.read_parquet(tmp_path / "r.parquet")["text"]) == ["7ABC123", "7A8C123"]


@pytest.mark.parametrize(
    "argv",
    [
        ["search", "'; DROP TABLE plate_reads; --"],
        ["search", "(A|AA)+(", "--regex"],
        ["search", "7ABC123", "--fuzzy", "9"],
        ["search", "--since", "someday"],
        ["search", "--format", "parquet"],
        ["store", "prune", "--older-than", "forever"],
    ],
)
def test_cli_reports_bad_input_in_one_line_with_exit_2(db: str, argv: list[str], capsys) -> None:
    assert main([*argv, "--db", db]) == 2
    err = capsys.readouterr().err
    assert err.startswith("platewise: error: ")
    assert len(err.strip().splitlines()) == 1


def test_cli_store_stats_and_prune(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["store", "stats", "--db", db, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["reads"] == 3
    assert main(["store", "prune", "--older-than", "30d", "--db", db]) == 0
    assert "deleted 1 reads" in capsys.readouterr().out
    assert main(["store", "stats", "--db", db]) == 0
    assert "reads           2 " in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["--help"], ["search", "--help"], ["store", "--help"], ["store", "prune", "--help"]])
def test_cli_help_pages_render(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0
    assert "usage: platewise" in capsys.readouterr().out


def test_cli_store_zone_suggests_the_rectangle_a_cameras_plates_were_in(
    db_url: str, store: ReadStore, capsys: pytest.CaptureFixture[str]
) -> None:
    from dataclasses import replace

    from store_helpers import make_read

    from platewise.types import BBox, Corners, Detection

    def at(cx: float, cy: float, source: str) -> object:
        box = BBox(cx - 30, cy - 10, cx + 30, cy + 10)
        read = replace(make_read("7ABC123"), detection=Detection(box, Corners.from_box(box), 0.9))
        return replace(rec("7ABC123", source=source), read=read)

    xs, ys = [105 + 10 * i for i in range(30)], [305 + 6 * i for i in range(30)]  # centres x 105-395, y 305-479
    store.add([at(x, y, "gate-1") for x, y in zip(xs, ys, strict=True)] + [at(900, 50, "lot-2")])
    assert main(["store", "zone", "--source", "gate-1", "--db", db_url, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {"source": "gate-1", "reads": 30, "zone": "100,300 400,480"}
    assert main(["store", "zone", "--source", "gate-1", "--db", db_url]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == "100,300 400,480" and '--zone "100,300 400,480"' in captured.err
    assert main(["store", "zone", "--source", "lot-2", "--db", db_url]) == 1  # one read: too few
    assert "fewer than --min-reads 20" in capsys.readouterr().err
    assert main(["store", "zone", "--source", "gate-1", "--db", db_url, "--percentiles", "99"]) == 2
    assert "expected LOW,HIGH" in capsys.readouterr().err
