"""Serving benchmark: starts ``platewise serve`` on loopback and drives it with closed-loop clients.

Measures, for the stand-in model (``benchmarks/models/standin``: resize + 2-layer MLP in numpy, ~10 ms per
image on one core at batch 1) and, when its weights are present, the built-in ``alpr`` plate reader:

* in-process throughput of the same model in the same run (one process per worker, 1 thread each, batch 1
  and batch ``max_batch``): the ceiling the server is compared with;
* gRPC at concurrency 1, 8, 32 for ``--duration`` seconds each: throughput, p50/p99 latency, errors,
  batch-size histogram (from the server's /metrics), server RSS, server CPU per request minus the model's
  own CPU per image (overhead);
* HTTP (raw tensor body) at concurrency 32, and the no-batching Starlette baseline at 8 and 32;
* overload: concurrency 256 against ``--max-queue 64``: how fast overflow is refused, whether admitted
  requests complete, and recovery at concurrency 4 afterwards;
* one 1080p frame: gRPC raw tensor vs HTTP JSON+base64 (and HTTP raw bytes, gRPC JPEG bytes).

The load generator runs in this process on the same 2 cores as the server, so it competes for CPU: the
numbers are a lower bound of what the server does with a client elsewhere. Writes
``benchmarks/results/serving.json`` and ``serving.md``.

    PYTHONPATH=src python benchmarks/serving_load.py --duration 10
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import grpc  # noqa: E402
import httpx  # noqa: E402

from platewise.serving.client import AsyncModelClient, to_input  # noqa: E402
from platewise.serving.proto import platewise_pb2 as pb  # noqa: E402

PY = sys.executable
MODELS = ROOT / "benchmarks" / "models"
BUILTIN = ROOT / "src" / "platewise" / "serving" / "models"
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---- processes -----------------------------------------------------------------------------------------
class Proc:
    def __init__(self, cmd: list[str], ready: str, env: dict[str, str] | None = None, timeout: float = 120) -> None:
        self.p = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src"), **(env or {})},
        )
        self.lines: list[str] = []
        ev = threading.Event()

        def pump() -> None:
            assert self.p.stdout is not None
            for line in self.p.stdout:
                self.lines.append(line)
                if ready in line:
                    ev.set()

        threading.Thread(target=pump, daemon=True).start()
        if ready and not ev.wait(timeout):
            self.stop()
            raise RuntimeError("process did not start:\n" + "".join(self.lines[-20:]))

    def pids(self) -> list[int]:
        """This process and all its descendants."""
        kids: dict[int, list[int]] = {}
        for d in Path("/proc").iterdir():
            if d.name.isdigit():
                try:
                    ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                kids.setdefault(ppid, []).append(int(d.name))
        out, todo = [], [self.p.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo += kids.get(pid, [])
        return out

    def cpu_seconds(self) -> float:
        total = 0.0
        for pid in self.pids():
            try:
                f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(f[11]) + int(f[12])) / TICK
            except (OSError, IndexError):
                pass
        return total

    def rss_mb(self) -> float:
        total = 0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total / 1024

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(30)
            except subprocess.TimeoutExpired:
                self.p.kill()


def start_server(workers: int, extra: list[str], builtin: bool = False) -> tuple[Proc, int, int]:
    g, h = free_port(), free_port()
    cmd = [
        PY,
        "-m",
        "platewise",
        "serve",
        "--models",
        str(MODELS),
        "--grpc-port",
        str(g),
        "--http-port",
        str(h),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        *extra,
    ]
    if not builtin:
        cmd.append("--no-builtin-models")
    return Proc(cmd, "platewise serve: ready"), g, h


# ---- in-process ceiling --------------------------------------------------------------------------------
_INPROC = r"""
import sys, time, json, numpy as np
sys.path[:0] = [{src!r}]
from platewise.serving.plugins import load_plugin
from pathlib import Path
_, m = load_plugin(Path({folder!r}), threads=1)
img = np.load({img!r})
out = {{}}
for bs in {sizes!r}:
    xs, args = [img] * bs, [{{}}] * bs
    m.run_batch(xs, args)
    t0, c0, n = time.perf_counter(), time.process_time(), 0
    while time.perf_counter() - t0 < {secs!r}:
        m.run_batch(xs, args); n += bs
    out[bs] = [n / (time.perf_counter() - t0), (time.process_time() - c0) / n * 1e3]
print(json.dumps(out))
"""


def in_process(folder: Path, img_path: Path, procs: int, sizes: list[int], secs: float) -> dict[int, dict[str, float]]:
    """Runs the model in ``procs`` plain processes at once (1 thread each): summed images/s and CPU ms/image."""
    code = _INPROC.format(src=str(ROOT / "src"), folder=str(folder), img=str(img_path), sizes=sizes, secs=secs)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    ps = [subprocess.Popen([PY, "-c", code], stdout=subprocess.PIPE, text=True, env=env) for _ in range(procs)]
    res = [json.loads(p.communicate()[0]) for p in ps]
    return {
        bs: {
            "images_per_s": sum(r[str(bs)][0] for r in res),
            "cpu_ms_per_image": float(np.mean([r[str(bs)][1] for r in res])),
        }
        for bs in sizes
    }


# ---- load generators -----------------------------------------------------------------------------------
def summarize(lat: list[float], codes: dict[str, int], secs: float) -> dict[str, Any]:
    ok = codes.get("OK", 0)
    a = np.asarray(lat) * 1e3 if lat else np.zeros(1)
    return {
        "requests_ok": ok,
        "throughput_rps": ok / secs,
        "p50_ms": float(np.percentile(a, 50)),
        "p99_ms": float(np.percentile(a, 99)),
        "max_ms": float(a.max()),
        "errors": {k: v for k, v in codes.items() if k != "OK"},
    }


async def grpc_load(
    port: int, model: str, inp: pb.Input, concurrency: int, secs: float, per_code: bool = False
) -> tuple[dict[str, Any], dict[str, list[float]]]:
    """Closed loop: ``concurrency`` tasks each send the next request as soon as the last one answered."""
    client = await AsyncModelClient(model, "127.0.0.1", port, max_message_mb=64).connect()
    eps = client.endpoints
    req = pb.RunRequest(model=model, input=inp)
    lat: dict[str, list[float]] = {}
    codes: dict[str, int] = {}
    counter = iter(range(10**12))
    loop = asyncio.get_running_loop()
    end = loop.time() + secs

    async def worker() -> None:
        while loop.time() < end:
            ep = eps[next(counter) % len(eps)]
            t0 = time.perf_counter()
            try:
                await ep.stub.Run(req, timeout=60)
                code = "OK"
            except grpc.aio.AioRpcError as e:
                code = e.code().name
            lat.setdefault(code, []).append(time.perf_counter() - t0)
            codes[code] = codes.get(code, 0) + 1

    t0 = loop.time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    took = loop.time() - t0
    await client.close()
    return summarize(lat.get("OK", []), codes, took), lat


async def _http_conn(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(host, port, limit=1 << 20)


async def http_load(url: str, body: bytes, headers: dict[str, str], concurrency: int, secs: float) -> dict[str, Any]:
    """Closed-loop HTTP/1.1 keep-alive load with a minimal hand-written client (asyncio streams).

    httpx costs several ms of CPU per request, which on a 2-core box shared with the server measured the
    client more than the server; this client only formats one request and parses one response head.
    """
    u = httpx.URL(url)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    req = (
        f"POST {u.raw_path.decode()} HTTP/1.1\r\nhost: {u.host}\r\ncontent-length: {len(body)}\r\n{head}\r\n"
    ).encode() + body
    lat: list[float] = []
    codes: dict[str, int] = {}
    loop = asyncio.get_running_loop()
    end = loop.time() + secs

    async def one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> int:
        writer.write(req)
        status_line = await reader.readline()
        if not status_line:
            raise ConnectionResetError("server closed the connection")
        length = 0
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b""):
                break
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await reader.readexactly(length)
        return int(status_line.split()[1])

    async def worker() -> None:
        conn = None
        while loop.time() < end:
            t0 = time.perf_counter()
            try:
                if conn is None:
                    conn = await _http_conn(u.host, u.port or 80)
                status = await one(*conn)
                code = "OK" if status == 200 else f"HTTP_{status}"
            except (OSError, asyncio.IncompleteReadError) as e:
                code = type(e).__name__
                if conn is not None:
                    conn[1].close()
                conn = None
            if code == "OK":
                lat.append(time.perf_counter() - t0)
            codes[code] = codes.get(code, 0) + 1
        if conn is not None:
            conn[1].close()

    t0 = loop.time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return summarize(lat, codes, loop.time() - t0)


def batch_hist(http_port: int, model: str) -> dict[int, int]:
    """Cumulative ``platewise_batch_size`` buckets from /metrics -> {upper bound: count}."""
    text = httpx.get(f"http://127.0.0.1:{http_port}/metrics", timeout=10).text
    out: dict[int, int] = {}
    for m in re.finditer(r"platewise_batch_size_bucket\{(.*?)\} ([0-9.e+]+)", text):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        if labels.get("model") == model and labels.get("le") != "+Inf":
            le = int(float(labels["le"]))
            out[le] = out.get(le, 0) + int(float(m.group(2)))
    return out


def server_latency(http_port: int, model: str, code: str) -> dict[str, float]:
    """Share of this model's requests with outcome ``code`` that the server answered within 1 ms and 10 ms
    (from the ``platewise_request_seconds`` histogram: time inside the handler, after parsing)."""
    text = httpx.get(f"http://127.0.0.1:{http_port}/metrics", timeout=10).text
    cum: dict[str, float] = {}
    for m in re.finditer(r"platewise_request_seconds_bucket\{(.*?)\} ([0-9.e+]+)", text):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        if labels.get("model") == model and labels.get("code") == code and labels.get("protocol") == "grpc":
            cum[labels["le"]] = cum.get(labels["le"], 0.0) + float(m.group(2))
    total = cum.get("+Inf", 0.0)
    if not total:
        return {"count": 0}
    return {
        "count": int(total),
        "within_1ms": cum.get("0.001", 0.0) / total,
        "within_10ms": cum.get("0.01", 0.0) / total,
    }


def hist_delta(before: dict[int, int], after: dict[int, int]) -> dict[str, int]:
    """Per-bin batch counts between two cumulative snapshots: {"<=1": n, "2": n, "3-4": n, ...}."""
    les = sorted(after)
    cum = [after[le] - before.get(le, 0) for le in les]
    out, prev_le, prev = {}, 0, 0
    for le, c in zip(les, cum, strict=False):
        if c - prev:
            out[str(le) if le - prev_le == 1 else f"{prev_le + 1}-{le}"] = c - prev
        prev_le, prev = le, c
    return out


def mean_batch(hist: dict[str, int]) -> float:
    items = batches = 0.0
    for k, n in hist.items():
        lo, _, hi = k.partition("-")
        size = (int(lo) + int(hi)) / 2 if hi else int(lo)
        items += size * n
        batches += n
    return items / batches if batches else 0.0


def model_cpu_ms(cost: dict[int, dict[str, float]], hist: dict[str, int]) -> float:
    """The model's own CPU ms per image for the batches the server actually ran: each histogram bin's
    batch size (a range's midpoint) costs the in-process CPU ms/image interpolated at that size."""
    xs = sorted(cost)
    ys = [cost[x]["cpu_ms_per_image"] for x in xs]
    images = cpu = 0.0
    for k, n in hist.items():
        lo, _, hi = k.partition("-")
        size = (int(lo) + int(hi)) / 2 if hi else int(lo)
        images += size * n
        cpu += size * n * float(np.interp(size, xs, ys))
    return cpu / images if images else float(ys[0])


# ---- the run --------------------------------------------------------------------------------------------
def run_levels(
    srv: Proc,
    g: int,
    h: int,
    model: str,
    inp: pb.Input,
    levels: list[int],
    secs: float,
    cost: dict[int, dict[str, float]],
) -> list[dict[str, Any]]:
    rows = []
    for c in levels:
        hb, cpu0 = batch_hist(h, model), srv.cpu_seconds()
        res, _ = asyncio.run(grpc_load(g, model, inp, c, secs))
        cpu = srv.cpu_seconds() - cpu0
        hist = hist_delta(hb, batch_hist(h, model))
        mb = mean_batch(hist)
        n = max(1, res["requests_ok"])
        res.update(
            protocol="grpc",
            concurrency=c,
            batch_hist=hist,
            mean_batch=round(mb, 2),
            server_rss_mb=srv.rss_mb(),
            server_cpu_ms_per_req=cpu / n * 1e3,
            model_cpu_ms_per_image=model_cpu_ms(cost, hist),
        )
        res["overhead_cpu_ms_per_req"] = res["server_cpu_ms_per_req"] - res["model_cpu_ms_per_image"]
        rows.append(res)
        print(
            f"  grpc c={c}: {res['throughput_rps']:.1f} req/s p50 {res['p50_ms']:.1f} ms p99 {res['p99_ms']:.1f} "
            f"ms errors {res['errors']} mean batch {mb:.2f} overhead {res['overhead_cpu_ms_per_req']:.2f} ms",
            flush=True,
        )
    return rows


def null_big_frames(srv: Proc, port: int, secs: float) -> list[dict[str, Any]]:
    """Server CPU per request for big inputs with the do-nothing model: what moving the image costs."""
    import cv2

    frame = cv2_smooth(np.random.default_rng(3), 1280, 1280)
    jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
    rows = []
    for what, inp in (
        ("raw 1280x1280x3 tensor", to_input(frame)),
        (f"JPEG 1280x1280, {len(jpeg)} bytes", to_input(jpeg)),
    ):
        for c in (1, 8):
            cpu0 = srv.cpu_seconds()
            res, _ = asyncio.run(grpc_load(port, "null", inp, c, min(secs, 5.0)))
            res.update(
                input=what,
                concurrency=c,
                server_cpu_ms_per_req=(srv.cpu_seconds() - cpu0) / max(1, res["requests_ok"]) * 1e3,
            )
            rows.append(res)
            print(
                f"  null model, {what}, c={c}: {res['throughput_rps']:.0f} req/s, server CPU "
                f"{res['server_cpu_ms_per_req']:.2f} ms/req",
                flush=True,
            )
    return rows


def compare_1080p(g: int, h: int, model: str, n: int) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    frame = cv2_smooth(rng, 1080, 1920)
    import cv2

    jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
    out: dict[str, Any] = {}

    async def grpc_path(name: str, make: Any) -> None:
        client = await AsyncModelClient(model, "127.0.0.1", g, max_message_mb=64, discover_workers=False).connect()
        stub = client.endpoints[0].stub
        lat = []
        for i in range(n + 2):
            t0 = time.perf_counter()
            req = pb.RunRequest(model=model, input=make())  # client-side packing counted
            await stub.Run(req, timeout=60)
            if i >= 2:
                lat.append(time.perf_counter() - t0)
        out[name] = {"p50_ms": float(np.median(lat) * 1e3), "bytes": req.ByteSize()}
        await client.close()

    asyncio.run(grpc_path("grpc_raw_tensor", lambda: to_input(frame)))
    asyncio.run(grpc_path("grpc_jpeg_bytes", lambda: to_input(jpeg)))

    def http_path(name: str, make: Any) -> None:
        lat, size = [], 0
        with httpx.Client(timeout=60) as c:
            for i in range(n + 2):
                t0 = time.perf_counter()
                body, headers = make()
                r = c.post(f"http://127.0.0.1:{h}/v1/models/{model}/predict", content=body, headers=headers)
                r.raise_for_status()
                if i >= 2:
                    lat.append(time.perf_counter() - t0)
                size = len(body)
        out[name] = {"p50_ms": float(np.median(lat) * 1e3), "bytes": size}

    def b64_json() -> tuple[bytes, dict[str, str]]:
        doc = {
            "inputs": [
                {"b64": base64.b64encode(frame.tobytes()).decode(), "shape": list(frame.shape), "dtype": "uint8"}
            ]
        }
        return json.dumps(doc).encode(), {"content-type": "application/json"}

    http_path("http_base64_json", b64_json)
    http_path(
        "http_raw_tensor",
        lambda: (
            frame.tobytes(),
            {"content-type": "application/octet-stream", "x-shape": "1080,1920,3", "x-dtype": "uint8"},
        ),
    )
    out["speedup_grpc_raw_vs_http_b64"] = out["http_base64_json"]["p50_ms"] / out["grpc_raw_tensor"]["p50_ms"]
    return out


def cv2_smooth(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    import cv2

    small = rng.integers(0, 255, (h // 40, w // 40, 3), dtype=np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def overload(workers: int, inp: pb.Input, secs: float) -> dict[str, Any]:
    srv, g, h = start_server(workers, ["--max-queue", "64", "--max-batch", "8"])
    try:
        res, lat = asyncio.run(grpc_load(g, "standin", inp, 256, secs))
        refused = np.asarray(lat.get("RESOURCE_EXHAUSTED", [0.0])) * 1e3
        admitted = np.asarray(lat.get("OK", [0.0])) * 1e3
        server_side = server_latency(h, "standin", "busy")
        rec, _ = asyncio.run(grpc_load(g, "standin", inp, 4, min(secs, 5)))
        return {
            "concurrency": 256,
            "max_queue_per_worker": 64,
            "admitted_ok": res["requests_ok"],
            "admitted_rps": res["throughput_rps"],
            "admitted_p50_ms": float(np.percentile(admitted, 50)),
            "admitted_p99_ms": float(np.percentile(admitted, 99)),
            "refused": int(res["errors"].get("RESOURCE_EXHAUSTED", 0)),
            "refused_p50_ms": float(np.percentile(refused, 50)),
            "refused_p99_ms": float(np.percentile(refused, 99)),
            "refused_server_side": server_side,
            "other_errors": {k: v for k, v in res["errors"].items() if k != "RESOURCE_EXHAUSTED"},
            "recovery_c4": {k: rec[k] for k in ("throughput_rps", "p50_ms", "p99_ms", "errors")},
        }
    finally:
        srv.stop()


def _reexec_with_malloc_settings() -> None:
    """The load generator shares the 2 cores with the server: give it the same glibc malloc settings as the
    server's workers (see workers.py) so that serializing multi-MB requests costs it less CPU."""
    want = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(256 << 20)}
    if any(k not in os.environ for k in want):
        os.execve(sys.executable, [sys.executable, *sys.argv], {**want, **os.environ})


def main() -> None:
    _reexec_with_malloc_settings()
    ap = argparse.ArgumentParser(description="serving benchmark (loopback only)")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds per load level")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--levels", default="1,8,32")
    ap.add_argument("--image", default="224,224,3", help="shape of the request tensor for the load levels")
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--grpc-only", action="store_true", help="only the in-process ceiling and the gRPC levels")
    ap.add_argument("--alpr-image", default="", help="image for the alpr levels (default: one from ../shared/data)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "serving"))
    a = ap.parse_args()
    levels = [int(x) for x in a.levels.split(",")]
    shape = tuple(int(x) for x in a.image.split(","))
    img = np.random.default_rng(1).integers(0, 255, shape, dtype=np.uint8)
    img_path = Path("/tmp/platewise-bench-img.npy")
    np.save(img_path, img)
    inp = to_input(img)
    result: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg_at_start": os.getloadavg()},
        "settings": {
            "duration_s": a.duration,
            "workers": a.workers,
            "threads_per_worker": 1,
            "max_batch": 8,
            "request": f"raw uint8 tensor {list(shape)}",
            "model": "standin (benchmarks/models/standin)",
        },
    }
    print("in-process ceiling ...", flush=True)
    cost = in_process(MODELS / "standin", img_path, a.workers, [1, 2, 4, 8], min(a.duration, 4.0))
    result["in_process"] = {str(k): v for k, v in cost.items()}
    print(f"  {result['in_process']}", flush=True)
    try:
        _serve_all(a, result, levels, shape, img, inp, cost)
    finally:
        # measured again at the end: on a shared machine the load changes during the run; keep the better
        # (less disturbed) of the two measurements per batch size as the ceiling
        print("in-process ceiling again ...", flush=True)
        again = in_process(MODELS / "standin", img_path, a.workers, [1, 2, 4, 8], min(a.duration, 4.0))
        result["in_process_start"] = result["in_process"]
        result["in_process_end"] = {str(k): v for k, v in again.items()}
        result["in_process"] = {
            str(k): {
                "images_per_s": max(cost[k]["images_per_s"], again[k]["images_per_s"]),
                "cpu_ms_per_image": min(cost[k]["cpu_ms_per_image"], again[k]["cpu_ms_per_image"]),
            }
            for k in cost
        }
        print(f"  {result['in_process_end']}", flush=True)
        ipc = {int(k): v for k, v in result["in_process"].items()}
        for row in result.get("grpc", []):
            row["model_cpu_ms_per_image"] = model_cpu_ms(ipc, row["batch_hist"])
            row["overhead_cpu_ms_per_req"] = row["server_cpu_ms_per_req"] - row["model_cpu_ms_per_image"]
    finish(result, a.out)


def _serve_all(
    a: argparse.Namespace,
    result: dict[str, Any],
    levels: list[int],
    shape: tuple[int, ...],
    img: np.ndarray,
    inp: pb.Input,
    cost: dict[int, dict[str, float]],
) -> None:

    srv, g, h = start_server(a.workers, ["--max-batch", "8", "--max-queue", "256"], builtin=True)
    try:
        result["server_rss_mb_idle"] = srv.rss_mb()
        models = httpx.get(f"http://127.0.0.1:{h}/v1/models", timeout=10).json()
        result["grpc"] = run_levels(srv, g, h, "standin", inp, levels, a.duration, cost)
        result["null_model"] = []
        for c in levels:  # a model that does nothing: server CPU per request is the server's own overhead
            cpu0 = srv.cpu_seconds()
            res, _ = asyncio.run(grpc_load(g, "null", inp, c, min(a.duration, 5.0)))
            res.update(
                protocol="grpc",
                concurrency=c,
                server_cpu_ms_per_req=(srv.cpu_seconds() - cpu0) / max(1, res["requests_ok"]) * 1e3,
            )
            result["null_model"].append(res)
            print(
                f"  null model c={c}: {res['throughput_rps']:.0f} req/s, server CPU "
                f"{res['server_cpu_ms_per_req']:.2f} ms/req",
                flush=True,
            )
        result["null_model_big_frame"] = null_big_frames(srv, g, a.duration)
        if a.grpc_only:
            return
        hdr = {"content-type": "application/octet-stream", "x-shape": ",".join(map(str, shape)), "x-dtype": "uint8"}
        result["http"] = []
        for c in [x for x in levels if x > 1]:
            cpu0 = srv.cpu_seconds()
            r = asyncio.run(
                http_load(f"http://127.0.0.1:{h}/v1/models/standin/predict", img.tobytes(), hdr, c, a.duration)
            )
            r.update(
                protocol="http",
                concurrency=c,
                server_rss_mb=srv.rss_mb(),
                server_cpu_ms_per_req=(srv.cpu_seconds() - cpu0) / max(1, r["requests_ok"]) * 1e3,
            )
            result["http"].append(r)
            print(
                f"  http c={c}: {r['throughput_rps']:.1f} req/s p50 {r['p50_ms']:.1f} p99 {r['p99_ms']:.1f} "
                f"errors {r['errors']}",
                flush=True,
            )
        print("1080p frame ...", flush=True)
        result["frame_1080p"] = compare_1080p(g, h, "standin", 20)
        print(f"  {result['frame_1080p']}", flush=True)
        if "alpr" in {m["name"] for m in models["models"]}:
            print("alpr ...", flush=True)
            aimg, apath_src = alpr_image(a.alpr_image)
            print(f"  alpr image: {apath_src}", flush=True)
            apath = Path("/tmp/platewise-bench-alpr.npy")
            np.save(apath, aimg)
            acost = in_process(BUILTIN / "alpr", apath, a.workers, [1, 2, 4, 8], min(a.duration, 4.0))
            result["alpr"] = {
                "image": f"{apath_src} {list(aimg.shape)}",
                "in_process": {str(k): v for k, v in acost.items()},
                "grpc": run_levels(srv, g, h, "alpr", to_input(aimg), levels, a.duration, acost),
            }
        else:
            result["alpr"] = {"skipped": models["broken"].get("alpr", "alpr plug-in not loaded")}
    finally:
        srv.stop()

    if not a.skip_baseline:
        print("no-batching baseline ...", flush=True)
        port = free_port()
        bl = Proc(
            [PY, str(ROOT / "benchmarks" / "fastapi_baseline.py"), "--port", str(port), "--workers", str(a.workers)], ""
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    httpx.post(
                        f"http://127.0.0.1:{port}/predict",
                        content=img.tobytes(),
                        headers={"x-shape": ",".join(map(str, shape))},
                        timeout=5,
                    ).raise_for_status()
                    break
                except httpx.HTTPError:
                    time.sleep(0.5)
            rows = []
            for c in [x for x in levels if x > 1]:
                cpu0 = bl.cpu_seconds()
                r = asyncio.run(
                    http_load(
                        f"http://127.0.0.1:{port}/predict",
                        img.tobytes(),
                        {"x-shape": ",".join(map(str, shape))},
                        c,
                        a.duration,
                    )
                )
                r.update(
                    protocol="http-baseline",
                    concurrency=c,
                    server_rss_mb=bl.rss_mb(),
                    server_cpu_ms_per_req=(bl.cpu_seconds() - cpu0) / max(1, r["requests_ok"]) * 1e3,
                )
                rows.append(r)
                print(
                    f"  baseline c={c}: {r['throughput_rps']:.1f} req/s p50 {r['p50_ms']:.1f} p99 {r['p99_ms']:.1f}",
                    flush=True,
                )
            result["baseline_starlette_no_batching"] = rows
        finally:
            bl.stop()

    print("overload ...", flush=True)
    result["overload"] = overload(a.workers, inp, a.duration)
    print(f"  {result['overload']}", flush=True)


def finish(result: dict[str, Any], out: str) -> None:
    result["machine"]["load_avg_at_end"] = os.getloadavg()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out + ".json").write_text(json.dumps(result, indent=2) + "\n")
    Path(out + ".md").write_text(to_markdown(result))
    print(f"wrote {out}.json and {out}.md")


def alpr_image(path: str) -> tuple[np.ndarray, str]:
    """The image for the alpr levels: ``path``, else the first openalpr-dev scene (sorted by name, of the
    first 30) in which the shipped reader finds a plate, so the levels exercise detection and reading."""
    import cv2

    if not path:
        from platewise.data.sources import default_data_root
        from platewise.pipeline import ALPR

        scenes = default_data_root() / "openalpr-dev"
        files = sorted(scenes.rglob("*.jpg"))[:30] if scenes.is_dir() else []
        alpr = ALPR(threads=1) if files else None
        for f in files:
            im = cv2.imread(str(f))
            if im is not None and alpr is not None and alpr.read(im):
                return im, str(f)
        return np.random.default_rng(2).integers(0, 255, (480, 640, 3), dtype=np.uint8), "random noise"
    img = cv2.imread(path)
    if img is None:
        raise SystemExit(f"cannot read {path}")
    return img, path


def _server_rows(rows: list[dict[str, Any]], ip: dict[str, Any]) -> list[str]:
    lines = [
        "| protocol | concurrency | req/s | vs in-process b=1 | vs in-process b=8 | p50 ms | p99 ms | errors | mean "
        "batch | server CPU ms/req | overhead CPU ms/req | RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['protocol']} | {row['concurrency']} | {row['throughput_rps']:.1f} | "
            f"{row['throughput_rps'] / ip['1']['images_per_s']:.2f} | "
            f"{row['throughput_rps'] / ip['8']['images_per_s']:.2f}"
            f" | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {sum(row['errors'].values())} | "
            f"{row.get('mean_batch', '-')} | {row.get('server_cpu_ms_per_req', float('nan')):.2f} | "
            f"{row.get('overhead_cpu_ms_per_req', float('nan')):.2f} | {row.get('server_rss_mb', float('nan')):.0f} |"
        )
    return lines


def _in_process_rows(ip: dict[str, Any]) -> list[str]:
    return [
        "| batch | images/s | model CPU ms/image |",
        "|---|---|---|",
        *[f"| {k} | {v['images_per_s']:.1f} | {v['cpu_ms_per_image']:.2f} |" for k, v in ip.items()],
    ]


def to_markdown(r: dict[str, Any]) -> str:
    ip = r["in_process"]
    m = r["machine"]
    lines = [
        "# Serving benchmark",
        "",
        "Written by `PYTHONPATH=src python benchmarks/serving_load.py` (loopback, load generator on the same "
        f"machine). Machine: {m['cpus']} CPUs, shared with other jobs (load average "
        f"{m['load_avg_at_start'][0]:.1f} at start, {m['load_avg_at_end'][0]:.1f} at end): "
        "absolute numbers are noisy, ratios within one run are what to read.",
        "",
        f"Model: {r['settings']['model']}; request: {r['settings']['request']}; {r['settings']['workers']} workers x "
        f"1 thread; max batch 8; {r['settings']['duration_s']:.0f} s per level.",
        "",
        "## In-process ceiling (same model, same run, one plain process per core)",
        "",
        "Measured at the start and at the end of the run; the table keeps the better of the two per batch size "
        "(JSON: `in_process_start`, `in_process_end`). Server overhead below uses this model CPU cost.",
        "",
        *_in_process_rows(ip),
        "",
        "## Server",
        "",
        *_server_rows(r["grpc"] + r.get("http", []) + r.get("baseline_starlette_no_batching", []), ip),
        "",
        "Batch-size histograms (gRPC): "
        + "; ".join(f"c={row['concurrency']}: {row['batch_hist']}" for row in r["grpc"]),
        "",
        "Server overhead measured directly with a model that does nothing (`benchmarks/models/null`, same "
        "request): "
        + "; ".join(
            f"c={x['concurrency']}: {x['throughput_rps']:.0f} req/s, {x['server_cpu_ms_per_req']:.2f} ms CPU/req"
            for x in r.get("null_model", [])
        ),
        "",
        "Null model with big inputs (what moving the image costs the server): "
        + "; ".join(
            f"{x['input']} c={x['concurrency']}: {x['server_cpu_ms_per_req']:.2f} ms CPU/req"
            for x in r.get("null_model_big_frame", [])
        ),
        "",
        "Overhead = server CPU per request (all server processes, from /proc) minus the model's own CPU per image "
        "at the batch sizes the server ran (in-process measurement). The HTTP rows use a minimal keep-alive "
        "HTTP/1.1 client; `http-baseline` is `benchmarks/fastapi_baseline.py` (plain Starlette, no batching).",
    ]
    o = r.get("overload")
    if o:
        lines += [
            "",
            "## Overload (concurrency 256, queue 64 per worker)",
            "",
            f"- admitted: {o['admitted_ok']} ok ({o['admitted_rps']:.1f} req/s), p50 {o['admitted_p50_ms']:.1f} ms, "
            f"p99 {o['admitted_p99_ms']:.1f} ms",
            f"- refused (RESOURCE_EXHAUSTED): {o['refused']}, answered in p50 {o['refused_p50_ms']:.2f} ms, "
            f"p99 {o['refused_p99_ms']:.2f} ms as seen by the (CPU-starved, same-machine) client; other errors "
            f"{o['other_errors']}",
            f"- server side (handler time, from /metrics): {o['refused_server_side']}",
            f"- recovery at concurrency 4: {o['recovery_c4']['throughput_rps']:.1f} req/s, p99 "
            f"{o['recovery_c4']['p99_ms']:.1f} ms, errors {o['recovery_c4']['errors']}",
        ]
    f = r.get("frame_1080p")
    if f:
        lines += [
            "",
            "## One 1080p frame (1920x1080x3), concurrency 1, median of 20",
            "",
            "| path | p50 ms | bytes on the wire |",
            "|---|---|---|",
        ]
        for k in ("grpc_raw_tensor", "grpc_jpeg_bytes", "http_raw_tensor", "http_base64_json"):
            lines.append(f"| {k} | {f[k]['p50_ms']:.1f} | {f[k]['bytes']:,} |")
        lines += ["", f"gRPC raw tensor is {f['speedup_grpc_raw_vs_http_b64']:.2f}x faster than HTTP base64 JSON."]
    alpr = r.get("alpr")
    if alpr:
        lines += ["", "## alpr (the plate reader)", ""]
        if "skipped" in alpr:
            lines.append(f"skipped: {alpr['skipped']}")
        else:
            lines += [f"Image {alpr['image']}.", "", *_in_process_rows(alpr["in_process"]), ""]
            lines += _server_rows(alpr["grpc"], alpr["in_process"])
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
