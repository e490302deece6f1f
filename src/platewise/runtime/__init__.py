"""Inference backends. ``onnx`` needs only onnxruntime + numpy; ``export`` (torch) is for the [train] extra."""
