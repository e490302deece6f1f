"""SCRFD-style plate detector in torch: MobileNetV3-like backbone -> BiFPN (strides 8/16/32) -> shared head.

Head outputs, per location of every level (levels concatenated, row-major, stride 8 first):
- score logit (1): quality-aware classification (GFL): the sigmoid estimates the IoU with the plate;
- box distribution (4 x (reg_max+1)): left, top, right, bottom distances in strides, as a discrete distribution;
- corners (8): TL, TR, BR, BL offsets (dx, dy) from the location, in strides.

``forward`` returns the raw training tensors; ``export_forward`` (used for ONNX/TorchScript) returns
``scores`` (N, A) after the sigmoid, ``box_dist`` (N, A, 4*(reg_max+1)) logits and ``corners`` (N, A, 8).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from platewise.detection.config import DetectorConfig
from platewise.layers.conv import ConvBnAct, DepthwiseSeparable, InvertedResidual, make_divisible

__all__ = ["BiFPN", "MobileBackbone", "PlateDetectorNet"]

# (kernel, expansion channels, out channels, squeeze-excite, activation, stride); "|" marks a returned level
_MOBILE_SPEC: list[tuple[int, int, int, bool, str, int] | str] = [
    (3, 16, 16, False, "relu", 2),  # stride 4
    (3, 64, 24, False, "relu", 2),  # stride 8
    (3, 72, 24, False, "relu", 1),
    "|",
    (5, 96, 40, True, "hswish", 2),  # stride 16
    (5, 160, 40, True, "hswish", 1),
    (5, 120, 48, True, "hswish", 1),
    (5, 144, 48, True, "hswish", 1),
    "|",
    (5, 288, 96, True, "hswish", 2),  # stride 32
    (5, 384, 96, True, "hswish", 1),
    (5, 384, 96, True, "hswish", 1),
    "|",
]


class MobileBackbone(nn.Module):
    """(N,3,H,W) -> [(N,C3,H/8,W/8), (N,C4,H/16,W/16), (N,C5,H/32,W/32)]."""

    def __init__(self, width_mult: float = 1.0) -> None:
        super().__init__()
        c = make_divisible(16 * width_mult)
        self.stem = ConvBnAct(3, c, 3, 2, act="hswish")
        stages: list[nn.Module] = []
        blocks: list[nn.Module] = []
        self.out_channels: list[int] = []
        for item in _MOBILE_SPEC:
            if item == "|":
                stages.append(nn.Sequential(*blocks))
                self.out_channels.append(c)
                blocks = []
                continue
            k, mid, out, se, act, s = item  # type: ignore[misc]
            mid_c, out_c = make_divisible(mid * width_mult), make_divisible(out * width_mult)
            blocks.append(InvertedResidual(c, mid_c, out_c, k, s, se, act))
            c = out_c
        self.stages = nn.ModuleList(stages)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return feats


class _Fuse(nn.Module):
    """Fast normalized fusion of n same-shape maps, then a depthwise-separable conv."""

    def __init__(self, n: int, channels: int) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(n))
        self.conv = DepthwiseSeparable(channels, channels, 3, act="relu")

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        w = torch.relu(self.w)
        w = w / (w.sum() + 1e-4)
        out = xs[0] * w[0]
        for i in range(1, len(xs)):
            out = out + xs[i] * w[i]
        return self.conv(out)


class BiFPN(nn.Module):
    """One bi-directional fusion layer over 3 levels [P3, P4, P5] of equal channels (EfficientDet)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.td4 = _Fuse(2, channels)
        self.out3 = _Fuse(2, channels)
        self.out4 = _Fuse(3, channels)
        self.out5 = _Fuse(2, channels)

    def forward(self, feats: list[torch.Tensor]) -> list[torch.Tensor]:
        p3, p4, p5 = feats
        up = lambda t: F.interpolate(t, scale_factor=2.0, mode="nearest")  # noqa: E731
        down = lambda t: F.max_pool2d(t, 3, 2, 1)  # noqa: E731
        td4 = self.td4([p4, up(p5)])
        o3 = self.out3([p3, up(td4)])
        o4 = self.out4([p4, td4, down(o3)])
        o5 = self.out5([p5, down(o4)])
        return [o3, o4, o5]


class PlateDetectorNet(nn.Module):
    """The whole detector; see the module docstring for its outputs."""

    def __init__(self, cfg: DetectorConfig) -> None:
        super().__init__()
        if tuple(cfg.strides) != (8, 16, 32):
            raise ValueError(f"strides must be (8, 16, 32), got {cfg.strides}")
        self.cfg = cfg
        c = cfg.neck_channels
        self.backbone = MobileBackbone(cfg.width_mult)
        self.lateral = nn.ModuleList([ConvBnAct(ci, c, 1, act="none") for ci in self.backbone.out_channels])
        self.bifpn = nn.Sequential(*[BiFPN(c) for _ in range(cfg.bifpn_repeats)])
        self.tower = nn.Sequential(*[DepthwiseSeparable(c, c, 3, act="relu") for _ in range(cfg.head_convs)])
        self.cls = nn.Conv2d(c, 1, 1)
        self.box = nn.Conv2d(c, 4 * (cfg.reg_max + 1), 1)
        self.kps = nn.Conv2d(c, 8, 1)
        nn.init.constant_(self.cls.bias, -4.6)  # prior score 0.01
        nn.init.normal_(self.kps.weight, std=0.01)
        nn.init.zeros_(self.kps.bias)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = [lat(f) for lat, f in zip(self.lateral, self.backbone(x), strict=False)]
        return list(self.bifpn(feats))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(N,3,H,W) normalized -> score logits (N,A), box logits (N,A,4,reg_max+1), corners (N,A,8) in strides."""
        n = x.shape[0]
        scores, boxes, kps = [], [], []
        for f in self.features(x):
            t = self.tower(f)
            scores.append(self.cls(t).reshape(n, -1))
            boxes.append(self.box(t).permute(0, 2, 3, 1).reshape(n, -1, 4, self.cfg.reg_max + 1))
            kps.append(self.kps(t).permute(0, 2, 3, 1).reshape(n, -1, 8))
        return torch.cat(scores, 1), torch.cat(boxes, 1), torch.cat(kps, 1)

    def export_forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """As ``forward`` with sigmoid scores and flat box logits: (N,A), (N,A,4*(reg_max+1)), (N,A,8)."""
        s, b, k = self.forward(x)
        return torch.sigmoid(s), b.flatten(2), k


class ExportWrapper(nn.Module):
    """Wraps the net so that ``forward`` is ``export_forward`` (for ONNX / TorchScript)."""

    def __init__(self, net: PlateDetectorNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.net.export_forward(x)


def anchor_points(height: int, width: int, strides: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    """Centres (A,2) in input pixels (x, y) and strides (A,) for an input of ``height`` x ``width``."""
    pts, st = [], []
    for s in strides:
        h, w = height // s, width // s
        ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
        pts.append(torch.stack([xs, ys], -1).reshape(-1, 2).float().add(0.5).mul(s))
        st.append(torch.full((h * w,), float(s)))
    return torch.cat(pts), torch.cat(st)
