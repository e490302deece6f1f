"""Plate detection: an SCRFD-style network (boxes + 4 corners), its numpy pre/post-processing and runtime.

Inference (``preprocess``, ``decode``, ``detector``) needs numpy + onnxruntime + opencv only; the network,
losses, training and export (``net``, ``loss``, ``assign``, ``train``, ``export``) need torch.
"""
