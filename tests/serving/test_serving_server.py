"""A real server (1 worker, test plug-ins) on loopback, driven over gRPC and HTTP."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import cv2
import grpc
import httpx
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from platewise.client import AsyncModelClient, ModelClient
from platewise.errors import InvalidInput, ModelNotFound
from platewise.serving.proto import platewise_pb2 as pb
from platewise.serving.proto import platewise_pb2_grpc as pb_grpc

pytestmark = pytest.mark.e2e


def jpeg(h: int = 32, w: int = 48, value: int = 10) -> bytes:
    ok, enc = cv2.imencode(".jpg", np.full((h, w, 3), value, np.uint8))
    return enc.tobytes()


def noisy_jpeg() -> bytes:
    img = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    return cv2.imencode(".jpg", img)[1].tobytes()


@pytest.fixture(scope="module")
def stub(server):
    ch = grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}", options=[("grpc.max_send_message_length", 64 << 20)])
    yield pb_grpc.ModelServerStub(ch)
    ch.close()


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.http, timeout=20) as c:
        yield c


# ---- gRPC -------------------------------------------------------------------------------------------
def test_client_runs_raw_tensor_and_encoded_bytes(server):
    with ModelClient("echo", "127.0.0.1", server.grpc_port) as c:
        img = np.full((32, 48, 3), 2, np.uint8)
        assert c.run(img, region="eu") == {"shape": [32, 48, 3], "sum": 32 * 48 * 3 * 2, "args": {"region": "eu"}}
        outs = c.run_batch([jpeg(), img])
        assert [o["shape"] for o in outs] == [[32, 48, 3], [32, 48, 3]]


def test_image_to_image_returns_tensor(server):
    with ModelClient("twice", "127.0.0.1", server.grpc_port) as c:
        x = np.arange(6, dtype=np.float32).reshape(3, 2)
        out = c.run_image(x)
        assert out.dtype == np.float32
        assert np.array_equal(out, x * 2)
        with pytest.raises(InvalidInput, match="shape"):
            c.run_image(np.zeros((3, 3), np.float32))
        with pytest.raises(InvalidInput, match="dtype float32"):
            c.run_image(np.zeros((3, 2), np.int32))


def test_run_image_refuses_json_model(stub):
    req = pb.RunRequest(model="echo", input=pb.Input(encoded=jpeg()))
    with pytest.raises(grpc.RpcError) as e:
        stub.RunImage(req)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_list_models_and_model_info_report_broken_plugins(server, stub):
    reply = stub.ListModels(pb.ListModelsRequest())
    assert sorted(m.name for m in reply.models) == ["crashy", "echo", "plates", "sleepy", "twice", "whoami"]
    assert {b.name for b in reply.broken} == {"broken_import", "broken_load", "no_model_class"}
    info = stub.GetModelInfo(pb.ModelInfoRequest(model="twice"))
    assert (info.input_kind, list(info.input_shape), info.output_kind) == ("tensor", [-1, 2], "tensor")
    with pytest.raises(grpc.RpcError) as e:
        stub.GetModelInfo(pb.ModelInfoRequest(model="nope"))
    assert e.value.code() == grpc.StatusCode.NOT_FOUND


def test_worker_info_and_standard_health_service(server, stub):
    info = stub.GetWorkerInfo(pb.WorkerInfoRequest())
    assert info.pid > 0
    assert info.worker_count == 1
    assert info.ready
    ch = grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}")
    h = health_pb2_grpc.HealthStub(ch)
    for svc in ("", "platewise.v1.ModelServer"):
        assert h.Check(health_pb2.HealthCheckRequest(service=svc)).status == health_pb2.HealthCheckResponse.SERVING
    ch.close()


@pytest.mark.parametrize(
    ("inp", "code", "text"),
    [
        (pb.Input(), grpc.StatusCode.INVALID_ARGUMENT, "input is empty"),
        (pb.Input(encoded=b"GIF89a-not-really"), grpc.StatusCode.INVALID_ARGUMENT, "not a readable image"),
        (pb.Input(encoded=noisy_jpeg()[:2000]), grpc.StatusCode.INVALID_ARGUMENT, "truncated"),
        (
            pb.Input(tensor=pb.Tensor(data=b"\0" * 5, shape=[2, 2], dtype="uint8")),
            grpc.StatusCode.INVALID_ARGUMENT,
            "needs 4",
        ),
        (
            pb.Input(tensor=pb.Tensor(data=b"\0" * 8, shape=[8], dtype="object")),
            grpc.StatusCode.INVALID_ARGUMENT,
            "not accepted",
        ),
        (
            pb.Input(tensor=pb.Tensor(data=b"", shape=[4000, 4000, 3], dtype="uint8")),
            grpc.StatusCode.INVALID_ARGUMENT,
            "limit",
        ),
    ],
)
def test_bad_inputs_get_clear_status_and_worker_keeps_serving(stub, inp, code, text):
    with pytest.raises(grpc.RpcError) as e:
        stub.Run(pb.RunRequest(model="echo", input=inp))
    assert e.value.code() == code
    assert text in e.value.details()
    ok = stub.Run(pb.RunRequest(model="echo", input=pb.Input(encoded=jpeg())))
    assert json.loads(ok.output.json)["shape"] == [32, 48, 3]


def test_wrong_model_name_is_not_found(server):
    with ModelClient("nope", "127.0.0.1", server.grpc_port) as c, pytest.raises(ModelNotFound, match="echo"):
        c.run(np.zeros((4, 4, 3), np.uint8))


def test_malformed_protobuf_is_refused_and_worker_keeps_serving(server, stub):
    ch = grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}")
    raw = ch.unary_unary("/platewise.v1.ModelServer/Run")  # no serializers: send raw bytes
    with pytest.raises(grpc.RpcError) as e:
        raw(b"\xff\xff\xff\xff\x0f garbage")
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "malformed RunRequest" in e.value.details()
    ch.close()
    assert stub.GetWorkerInfo(pb.WorkerInfoRequest()).ready


def test_message_over_size_limit_is_refused(stub):
    big = pb.Input(tensor=pb.Tensor(data=b"\0" * (9 << 20), shape=[9 << 20], dtype="uint8"))
    with pytest.raises(grpc.RpcError) as e:
        stub.Run(pb.RunRequest(model="echo", input=big))
    assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_model_crash_fails_only_that_input(stub):
    bad = pb.Input(tensor=pb.Tensor(data=b"\xff" * 12, shape=[2, 2, 3], dtype="uint8"))
    good = pb.Input(tensor=pb.Tensor(data=b"\0" * 12, shape=[2, 2, 3], dtype="uint8"))
    with pytest.raises(grpc.RpcError) as e:
        stub.Run(pb.RunRequest(model="crashy", input=bad))
    assert e.value.code() == grpc.StatusCode.INTERNAL
    assert "boom" in e.value.details()
    assert json.loads(stub.Run(pb.RunRequest(model="crashy", input=good)).output.json) == {"ok": True}


def test_requests_arriving_together_are_batched(server):
    with ModelClient("sleepy", "127.0.0.1", server.grpc_port) as c:
        c.run(np.zeros(1, np.float32))  # connect first
        with ThreadPoolExecutor(5) as pool:
            outs = list(pool.map(lambda i: c.run(np.full(1, i, np.float32), sleep="0.2"), range(5)))
    assert [o["value"] for o in outs] == [0, 1, 2, 3, 4]
    assert max(o["batch"] for o in outs) > 1  # the ones that queued behind the first ran together
    assert all(o["batch"] <= 4 for o in outs)  # --max-batch 4


def test_full_queue_answers_resource_exhausted_and_admitted_requests_complete(server, stub):
    async def main():
        ch = grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}")
        s = pb_grpc.ModelServerStub(ch)
        req = pb.RunRequest(
            model="sleepy",
            args={"sleep": "0.3"},
            input=pb.Input(tensor=pb.Tensor(data=np.zeros(1, np.float32).tobytes(), shape=[1], dtype="float32")),
        )
        res = await asyncio.gather(*(s.Run(req, timeout=10) for _ in range(12)), return_exceptions=True)
        await ch.close()
        return res

    res = asyncio.run(main())
    busy = [r for r in res if isinstance(r, grpc.aio.AioRpcError)]
    ok = [r for r in res if isinstance(r, pb.RunReply)]
    assert busy
    assert all(r.code() == grpc.StatusCode.RESOURCE_EXHAUSTED for r in busy)
    assert all(dict(r.trailing_metadata()).get("retry-after") for r in busy)
    assert 1 <= len(ok) <= 1 + 4 + 4  # running + queue of 4 (+ one more batch if the first finished)
    assert len(ok) + len(busy) == 12


def test_expired_deadline_is_not_run(server, stub):
    req = pb.RunRequest(
        model="sleepy",
        args={"sleep": "0.3"},
        input=pb.Input(tensor=pb.Tensor(data=np.zeros(1, np.float32).tobytes(), shape=[1], dtype="float32")),
    )
    first = stub.Run.future(req, timeout=5)
    with pytest.raises(grpc.RpcError) as e:
        stub.Run(req, timeout=0.1)
    assert e.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    first.result()


def test_async_client_runs_concurrently(server):
    async def main():
        async with AsyncModelClient("echo", "127.0.0.1", server.grpc_port) as c:
            return await asyncio.gather(*(c.run(np.full((4, 4, 3), i, np.uint8)) for i in range(6)))

    outs = asyncio.run(main())
    assert [o["sum"] for o in outs] == [i * 48 for i in range(6)]


def test_client_refuses_bad_images_before_sending(server):
    from platewise.errors import InvalidImage

    with ModelClient("echo", "127.0.0.1", server.grpc_port) as c:
        with pytest.raises(InvalidImage, match="empty"):
            c.run(b"")
        with pytest.raises(InvalidImage, match="dtype"):
            c.run(np.zeros((2, 2), np.complex64))
        with pytest.raises(InvalidImage, match="expected"):
            c.run("car.jpg")


# ---- HTTP -------------------------------------------------------------------------------------------
def test_http_predict_raw_image_body(http):
    r = http.post("/v1/models/echo/predict?region=br", content=jpeg(), headers={"content-type": "image/jpeg"})
    assert r.status_code == 200
    body = r.json()
    assert body["model"] == "echo"
    assert body["outputs"][0]["shape"] == [32, 48, 3]
    assert body["outputs"][0]["args"] == {"region": "br"}


def test_http_predict_raw_tensor_with_shape_headers(http):
    x = np.arange(8, dtype=np.float32).reshape(4, 2)
    headers = {
        "content-type": "application/octet-stream",
        "x-shape": "4,2",
        "x-dtype": "float32",
        "accept": "application/octet-stream",
    }
    r = http.post("/v1/models/twice/predict", content=x.tobytes(), headers=headers)
    assert r.status_code == 200
    assert r.headers["x-shape"] == "4,2"
    assert r.headers["x-dtype"] == "float32"
    assert np.array_equal(np.frombuffer(r.content, np.float32).reshape(4, 2), x * 2)


def test_http_predict_multipart_batch_and_json_base64(http):
    files = [("image", ("a.jpg", jpeg(), "image/jpeg")), ("image", ("b.jpg", jpeg(16, 16), "image/jpeg"))]
    r = http.post("/v1/models/echo/predict", files=files, data={"region": "us"})
    assert r.status_code == 200
    assert [o["shape"] for o in r.json()["outputs"]] == [[32, 48, 3], [16, 16, 3]]
    assert r.json()["outputs"][0]["args"] == {"region": "us"}
    import base64

    doc = {"inputs": [{"b64": base64.b64encode(jpeg()).decode()}], "args": {"k": "v"}}
    r = http.post("/v1/models/echo/predict", json=doc)
    assert r.status_code == 200
    assert r.json()["outputs"][0]["args"] == {"k": "v"}


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"content": b"junk", "headers": {"content-type": "image/png"}}, 400, "invalid"),
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400, "invalid"),
        ({"json": {"inputs": [{"b64": "%%%"}]}}, 400, "invalid"),
        ({"content": b"--x\r\nbroken", "headers": {"content-type": "multipart/form-data; boundary=x"}}, 400, "invalid"),
        ({"content": b"abc", "headers": {"content-type": "text/plain"}}, 415, "unsupported"),
        (
            {"content": b"\0" * 7, "headers": {"content-type": "application/octet-stream", "x-shape": "2,2,2"}},
            400,
            "invalid",
        ),
        ({"content": b"\0" * (9 << 20), "headers": {"content-type": "image/jpeg"}}, 413, "too_large"),
    ],
)
def test_http_bad_bodies_get_clear_errors(http, kwargs, status, code):
    r = http.post("/v1/models/echo/predict", **kwargs)
    assert r.status_code == status
    assert r.json()["code"] == code
    assert r.json()["error"]
    assert http.get("/readyz").status_code == 200


def test_http_unknown_model_is_404(http):
    r = http.post("/v1/models/nope/predict", content=jpeg(), headers={"content-type": "image/jpeg"})
    assert r.status_code == 404
    assert "echo" in r.json()["error"]


def test_http_full_queue_is_503_with_retry_after(server):
    async def main():
        x = np.zeros(1, np.float32).tobytes()
        headers = {"content-type": "application/octet-stream", "x-shape": "1", "x-dtype": "float32"}
        async with httpx.AsyncClient(base_url=server.http, timeout=20) as c:
            return await asyncio.gather(
                *(c.post("/v1/models/sleepy/predict?sleep=0.3", content=x, headers=headers) for _ in range(12))
            )

    res = asyncio.run(main())
    busy = [r for r in res if r.status_code == 503]
    assert busy
    assert all(r.headers["retry-after"] == "1" for r in busy)
    assert all(r.status_code in (200, 503) for r in res)


def test_http_models_health_ready_metrics_openapi(http):
    m = http.get("/v1/models").json()
    assert {x["name"] for x in m["models"]} == {"echo", "sleepy", "twice", "crashy", "whoami", "plates"}
    assert "broken_load" in m["broken"]
    assert http.get("/v1/models/twice").json()["output_kind"] == "tensor"
    assert http.get("/healthz").json()["status"] == "ok"
    assert http.get("/readyz").json()["status"] == "ready"
    metrics = http.get("/metrics").text
    assert "platewise_requests_total" in metrics
    assert "platewise_batch_size_bucket" in metrics
    spec = http.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert "/v1/models/{name}/predict" in spec["paths"]
    assert "openapi.json" in http.get("/docs").text
    assert http.get("/v1/worker").json()["worker_count"] == 1


def test_http_reads_without_store_says_not_configured(http):
    r = http.get("/v1/reads")
    assert r.status_code == 503
    assert "--store-db" in r.json()["error"]


def test_decompression_bomb_is_refused_from_its_header(stub):
    bomb = cv2.imencode(".png", np.zeros((3000, 4000), np.uint8))[1].tobytes()  # 12 Mpx in a few KB
    assert len(bomb) < 200_000
    with pytest.raises(grpc.RpcError) as e:
        stub.Run(pb.RunRequest(model="echo", input=pb.Input(encoded=bomb)))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "pixel limit" in e.value.details()


def test_too_many_inputs_in_one_batch_is_refused(stub):
    one = pb.Input(tensor=pb.Tensor(data=b"\0" * 12, shape=[2, 2, 3], dtype="uint8"))
    with pytest.raises(grpc.RpcError) as e:
        stub.RunBatch(pb.RunBatchRequest(model="echo", inputs=[one] * 65))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "limit of 64" in e.value.details()
    reply = stub.RunBatch(pb.RunBatchRequest(model="echo", inputs=[one] * 3))
    assert len(reply.outputs) == 3


def test_batch_larger_than_the_queue_is_invalid_not_busy(stub):
    one = pb.Input(tensor=pb.Tensor(data=b"\0" * 12, shape=[2, 2, 3], dtype="uint8"))
    with pytest.raises(grpc.RpcError) as e:
        stub.RunBatch(pb.RunBatchRequest(model="echo", inputs=[one] * 5))  # --max-queue 4
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "queue holds (4)" in e.value.details()
