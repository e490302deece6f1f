"""The plate text reader (MaskOCR-style).

Inference (numpy + onnxruntime only): :class:`platewise.ocr.reader.PlateReader`, ``preprocess``, ``decode``.
Training side (torch, ``[train]`` extra): ``net``, ``mae``, ``registry``, ``dataset``, ``train``, ``export``.
This ``__init__`` imports nothing so that the inference path never pulls torch.
"""
