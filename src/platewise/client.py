"""Public client of the platewise model server: ``from platewise.client import ModelClient``."""

from platewise.serving.client import POLICIES, AsyncModelClient, ModelClient, RemoteError

__all__ = ["POLICIES", "AsyncModelClient", "ModelClient", "RemoteError"]
