"""Convolution blocks shared by the networks: conv+BN+act, depthwise-separable, inverted residual, SE.

All blocks take and return NCHW float tensors. Activations are ReLU or hard-swish (both map to single ONNX
ops that ONNX Runtime runs fast on CPU).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ConvBnAct", "DepthwiseSeparable", "InvertedResidual", "SqueezeExcite", "make_divisible"]


def make_divisible(v: float, divisor: int = 8) -> int:
    """Rounds a channel count to a multiple of ``divisor`` (never below 90% of ``v``), as in MobileNet."""
    new = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new < 0.9 * v:
        new += divisor
    return new


def _act(name: str) -> nn.Module:
    if name == "relu":
        return nn.ReLU(inplace=True)
    if name == "hswish":
        return nn.Hardswish(inplace=True)
    if name == "none":
        return nn.Identity()
    raise ValueError(f"unknown activation {name!r} (relu, hswish, none)")


class ConvBnAct(nn.Sequential):
    """k x k convolution (optionally grouped) + BatchNorm + activation. (N,Cin,H,W) -> (N,Cout,H/s,W/s)."""

    def __init__(self, cin: int, cout: int, k: int = 3, stride: int = 1, groups: int = 1, act: str = "relu") -> None:
        super().__init__(
            nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout),
            _act(act),
        )


class DepthwiseSeparable(nn.Sequential):
    """Depthwise k x k + pointwise 1x1, each with BN; activation after the pointwise conv."""

    def __init__(self, cin: int, cout: int, k: int = 3, stride: int = 1, act: str = "relu") -> None:
        super().__init__(
            ConvBnAct(cin, cin, k, stride, groups=cin, act="none"),
            ConvBnAct(cin, cout, 1, act=act),
        )


class SqueezeExcite(nn.Module):
    """Channel attention: global average pool -> 1x1 reduce -> ReLU -> 1x1 expand -> hard-sigmoid -> scale."""

    def __init__(self, channels: int, ratio: float = 0.25) -> None:
        super().__init__()
        mid = make_divisible(channels * ratio)
        self.reduce = nn.Conv2d(channels, mid, 1)
        self.expand = nn.Conv2d(mid, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = x.mean((2, 3), keepdim=True)
        s = self.expand(torch.relu(self.reduce(s)))
        return x * nn.functional.hardsigmoid(s)


class InvertedResidual(nn.Module):
    """MobileNetV3 block: 1x1 expand -> depthwise k x k (stride) -> [SE] -> 1x1 project; residual when shapes allow."""

    def __init__(self, cin: int, mid: int, cout: int, k: int, stride: int, se: bool, act: str) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        if mid != cin:
            layers.append(ConvBnAct(cin, mid, 1, act=act))
        layers.append(ConvBnAct(mid, mid, k, stride, groups=mid, act=act))
        if se:
            layers.append(SqueezeExcite(mid))
        layers.append(ConvBnAct(mid, cout, 1, act="none"))
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return x + y if self.residual else y
