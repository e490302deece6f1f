from __future__ import annotations

from platewise.cli import main


def test_serve_print_config_merges_env_and_flags(monkeypatch, capsys):
    monkeypatch.setenv("PLATEWISE_MAX_QUEUE", "7")
    monkeypatch.setenv("PLATEWISE_WORKERS", "3")
    monkeypatch.setenv("PLATEWISE_TOKEN", "secret-token")
    assert main(["serve", "--workers", "2", "--models", "a", "--models", "b", "--print-config"]) == 0
    out = capsys.readouterr().out
    assert "max_queue = 7" in out
    assert "workers = 2" in out
    assert "models = ('a', 'b')" in out
    assert "secret-token" not in out


def test_serve_bad_env_value_is_a_one_line_error(monkeypatch, capsys):
    monkeypatch.setenv("PLATEWISE_MAX_BATCH", "lots")
    assert main(["serve", "--print-config"]) == 2
    assert "max_batch" in capsys.readouterr().err


def test_serve_tls_cert_without_key_is_refused(tmp_path, capsys):
    assert main(["serve", "--tls-cert", str(tmp_path / "c.pem"), "--print-config"]) == 2
    assert "tls_key" in capsys.readouterr().err


def test_serve_missing_models_dir_fails_before_any_worker_starts(tmp_path, capsys):
    assert main(["serve", "--no-builtin-models", "--models", str(tmp_path / "nope")]) == 2
    assert "not found" in capsys.readouterr().err


def test_serve_missing_tls_file_fails_fast(tmp_path, capsys):
    args = ["serve", "--tls-cert", str(tmp_path / "c.pem"), "--tls-key", str(tmp_path / "k.pem")]
    assert main(args) == 2
    assert "tls_cert file" in capsys.readouterr().err
