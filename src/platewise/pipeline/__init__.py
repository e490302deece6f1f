"""The end-to-end plate reader (detector + rectification + reader)."""

from platewise.pipeline.alpr import ALPR, BatchResult, choose_candidate

__all__ = ["ALPR", "BatchResult", "choose_candidate"]
