"""The platewise model server: plug-in models behind gRPC and HTTP, with dynamic batching and workers.

Layers: ``interface`` / ``plugins`` (models), ``batching`` (asyncio batcher, no sockets), ``codec``
(bytes <-> arrays with limits), ``host`` (models + batchers of one worker), ``grpc_server`` / ``http_app``
(thin protocol adapters), ``workers`` (processes, SO_REUSEPORT, drain), ``client``. See docs/serving.md.
"""

from platewise.serving.config import ServeConfig
from platewise.serving.interface import ModelInterface, ModelSpec

__all__ = ["ModelInterface", "ModelSpec", "ServeConfig"]
