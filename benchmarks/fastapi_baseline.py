"""Baseline: the same model behind a plain ASGI app, one request = one model call, no batching.

The issue asks for a FastAPI-without-batching baseline; FastAPI is not installed in this environment, so
this is the same design written with plain Starlette (FastAPI's own base): ``POST /predict`` takes a raw
tensor (``X-Shape``/``X-Dtype`` headers) or image bytes, runs the model in the threadpool
(``run_in_threadpool``, what FastAPI does for a sync endpoint), returns JSON. Served by uvicorn with
``--workers N`` (uvicorn's own process manager, SO_REUSEPORT-free shared socket).

    python benchmarks/fastapi_baseline.py --port 8099 --workers 2 --models benchmarks/models --model standin
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def create_app():  # type: ignore[no-untyped-def]
    import numpy as np
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from platewise.imageio import decode_image
    from platewise.serving.plugins import load_plugin

    folder = Path(os.environ["BASELINE_MODELS"]) / os.environ["BASELINE_MODEL"]
    _, model = load_plugin(folder, threads=int(os.environ.get("BASELINE_THREADS", "1")))

    async def predict(request: Request) -> JSONResponse:
        body = await request.body()
        if "x-shape" in request.headers:
            shape = tuple(int(d) for d in request.headers["x-shape"].split(","))
            x = np.frombuffer(body, dtype=request.headers.get("x-dtype", "uint8")).reshape(shape)
        else:
            x = decode_image(body)
        out = await run_in_threadpool(model.run_batch, [x], [dict(request.query_params)])
        return JSONResponse(out[0])

    return Starlette(routes=[Route("/predict", predict, methods=["POST"])])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8099)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--models", default=str(ROOT / "benchmarks" / "models"))
    p.add_argument("--model", default="standin")
    a = p.parse_args()
    os.environ.update(
        BASELINE_MODELS=a.models,
        BASELINE_MODEL=a.model,
        BASELINE_THREADS=str(a.threads),
        OMP_NUM_THREADS=str(a.threads),
        OPENBLAS_NUM_THREADS=str(a.threads),
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT / "benchmarks"), os.environ.get("PYTHONPATH", "")]),
    )
    sys.path[:0] = [str(ROOT / "src"), str(ROOT / "benchmarks")]
    import uvicorn

    uvicorn.run(
        "fastapi_baseline:create_app",
        factory=True,
        host=a.host,
        port=a.port,
        workers=a.workers,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
