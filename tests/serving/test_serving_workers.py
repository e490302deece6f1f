"""Two worker processes sharing the ports: client-side spreading, restart on death, SIGTERM drain."""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from platewise.client import ModelClient

pytestmark = pytest.mark.e2e
IMG = np.zeros((2, 2, 3), np.uint8)


def wait_until(cond, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(scope="module")
def two(make_server):
    s = make_server("--only", "whoami", "--only", "sleepy", workers=2)
    yield s
    s.stop()


@pytest.mark.parametrize("policy", ["round_robin", "random", "least_outstanding"])
def test_client_spreads_calls_over_every_worker(two, policy):
    with ModelClient("whoami", "127.0.0.1", two.grpc_port, policy=policy) as c:
        c.connect()
        assert len(set(c.pids)) == 2 == c.worker_count
        pids = [c.run(IMG) for _ in range(40)]
        assert set(pids) == set(c.pids)
    if policy == "round_robin":
        assert abs(pids.count(pids[0]) - 20) <= 1


def test_http_port_is_shared_by_the_workers(two):
    pids = set()
    for _ in range(40):
        with httpx.Client(base_url=two.http, timeout=10) as h:  # a new connection each time
            pids.add(h.get("/v1/worker").json()["pid"])
        if len(pids) == 2:
            break
    assert len(pids) == 2


def test_dead_worker_is_reported_and_restarted(two):
    with ModelClient("whoami", "127.0.0.1", two.grpc_port) as c:
        c.connect()
        victim = c.pids[0]
    os.kill(victim, signal.SIGKILL)
    assert wait_until(lambda: "killed by signal SIGKILL" in two.output)
    assert wait_until(lambda: len(re.findall(r"ready with models", two.output)) >= 3)
    with ModelClient("whoami", "127.0.0.1", two.grpc_port) as c:
        c.connect()
        assert len(set(c.pids)) == 2
        assert victim not in c.pids


def test_sigterm_drains_in_flight_requests_then_exits(two):
    results = {}

    def slow_call():
        with ModelClient("sleepy", "127.0.0.1", two.grpc_port, discover_workers=False) as c:
            results["out"] = c.run(np.zeros(1, np.float32), sleep="1.0")

    t = threading.Thread(target=slow_call)
    t.start()
    time.sleep(0.4)  # let the call reach the model
    code = two.stop(timeout=20)
    t.join(10)
    assert results.get("out") == {"batch": 1, "value": 0.0}  # finished, not cut off
    assert code == 0
    assert "drained, exiting" in two.output
    assert "all workers stopped" in two.output


def test_metrics_sum_over_workers_and_reads_come_from_the_store(make_server, tmp_path):
    import datetime as dt

    from platewise.store import ReadRecord, open_store
    from platewise.types import BBox, Corners, Detection, PlateRead

    db = tmp_path / "reads.db"
    box = BBox(1, 2, 30, 12)
    read = PlateRead("AB123CD", 0.9, (0.99,) * 7, (("AB123CD", 0.9),), "eu", Detection(box, Corners.from_box(box), 0.8))
    with open_store(f"sqlite:///{db}") as st:
        st.add([ReadRecord(time=dt.datetime.now(dt.timezone.utc), source="gate-1", read=read)])
    s = make_server("--only", "whoami", "--only", "plates", "--store-db", f"sqlite:///{db}", workers=2)
    try:
        with ModelClient("whoami", "127.0.0.1", s.grpc_port) as c:
            for _ in range(10):
                c.run(IMG)
        with httpx.Client(base_url=s.http, timeout=10) as h:
            text = h.get("/metrics").text
            total = sum(
                float(line.rsplit(" ", 1)[1])
                for line in text.splitlines()
                if line.startswith("platewise_requests_total{") and 'model="whoami"' in line
            )
            assert total == 10  # both workers' samples, whichever worker answered
            r = h.get("/v1/reads", params={"pattern": "AB%"})
            assert r.status_code == 200
            assert [x["text"] for x in r.json()["reads"]] == ["AB123CD"]
            assert h.get("/v1/reads", params={"bogus": "1"}).status_code == 400
        with ModelClient("plates", "127.0.0.1", s.grpc_port) as c:  # plates found are logged to the store
            assert c.run(IMG, source="gate-7")[0]["text"] == "AB123CD"
        with open_store(f"sqlite:///{db}") as st:
            assert wait_until(lambda: len(st.search(source="gate-7")) == 1)
    finally:
        s.stop()


def test_client_waits_for_a_server_that_starts_later(make_server):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    got = {}

    def call():
        with ModelClient("whoami", "127.0.0.1", port, connect_timeout=40) as c:
            got["pid"] = c.run(IMG)

    t = threading.Thread(target=call)
    t.start()
    time.sleep(0.5)  # the client is already retrying when the server starts
    s = make_server("--only", "whoami", grpc_port=port)
    try:
        t.join(40)
        assert got.get("pid", 0) > 0
    finally:
        s.stop()


def test_ready_only_after_models_are_loaded_and_warmed(make_server):
    from pathlib import Path

    slow = Path(__file__).parent / "plugins_slow"
    s = make_server("--models", str(slow), "--only", "slowwarm", wait_ready=False)
    try:
        with httpx.Client(base_url=s.http, timeout=5) as h:

            def up():
                try:
                    return h.get("/healthz").status_code == 200
                except httpx.TransportError:
                    return False

            assert wait_until(up)
            r = h.get("/readyz")  # process up, model still warming (3 s)
            assert r.status_code == 503
            assert r.json()["reason"] == "models not loaded and warmed"
            s.wait_ready()
            assert h.get("/readyz").status_code == 200
    finally:
        s.stop()


def test_workers_exit_when_the_supervisor_is_killed(make_server):
    s = make_server("--only", "whoami")
    with ModelClient("whoami", "127.0.0.1", s.grpc_port) as c:
        worker = c.run(IMG)
    s.proc.kill()  # SIGKILL: the supervisor cannot stop its workers itself
    s.proc.wait(10)

    def gone():
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            return True
        return Path(f"/proc/{worker}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"

    assert wait_until(gone, timeout=15)
