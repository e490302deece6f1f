"""Detector losses (torch): quality focal loss, distribution focal loss + GIoU on the integral box, masked
corner loss. :class:`DetectorLoss` ties them to the assigner."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from platewise.detection.assign import task_aligned_assign

__all__ = [
    "DetectorLoss",
    "distribution_focal_loss",
    "giou_loss",
    "ignored_locations",
    "integral",
    "quality_focal_loss",
]


def quality_focal_loss(logits: torch.Tensor, target: torch.Tensor, beta: float = 2.0) -> torch.Tensor:
    """GFL's QFL: BCE against a soft IoU target, weighted by |sigmoid - target|**beta. Same shape in and out."""
    p = torch.sigmoid(logits)
    w = (p - target).abs().pow(beta)
    return F.binary_cross_entropy_with_logits(logits, target, reduction="none") * w


def integral(logits: torch.Tensor) -> torch.Tensor:
    """Expected value of a discrete distribution over bins 0..R: (...,R+1) logits -> (...)."""
    r = logits.shape[-1]
    bins = torch.arange(r, device=logits.device, dtype=logits.dtype)
    return (logits.softmax(-1) * bins).sum(-1)


def distribution_focal_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """GFL's DFL: cross-entropy on the two bins around a continuous target. (K,R+1), (K,) in [0, R) -> (K,)."""
    left = target.long().clamp(max=logits.shape[-1] - 2)
    wl = (left + 1).float() - target
    logp = logits.log_softmax(-1)
    return -(logp.gather(-1, left[:, None])[:, 0] * wl + logp.gather(-1, (left + 1)[:, None])[:, 0] * (1 - wl))


def giou_loss(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """1 - generalized IoU of xyxy boxes: (K,4), (K,4) -> (K,)."""
    ix = (torch.minimum(a[:, 2], b[:, 2]) - torch.maximum(a[:, 0], b[:, 0])).clamp(min=0)
    iy = (torch.minimum(a[:, 3], b[:, 3]) - torch.maximum(a[:, 1], b[:, 1])).clamp(min=0)
    inter = ix * iy
    union = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter + eps
    cw = torch.maximum(a[:, 2], b[:, 2]) - torch.minimum(a[:, 0], b[:, 0])
    ch = torch.maximum(a[:, 3], b[:, 3]) - torch.minimum(a[:, 1], b[:, 1])
    hull = cw * ch + eps
    return 1 - (inter / union - (hull - union) / hull)


def ignored_locations(points: torch.Tensor, boxes: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """(A,2) location centres, (N,K,4) xyxy boxes, (N,K) bool -> (N,A) bool: the centre lies in a valid box."""
    px, py = points[None, None, :, 0], points[None, None, :, 1]
    b = boxes[:, :, None, :]
    inside = (px >= b[..., 0]) & (px <= b[..., 2]) & (py >= b[..., 1]) & (py <= b[..., 3])
    return (inside & valid[:, :, None]).any(1)


class DetectorLoss(nn.Module):
    """Total loss = QFL + 2 * GIoU + 0.25 * DFL + corner_weight * smooth-L1(corners), each normalized by the
    sum of quality targets. Returns (total, parts dict of floats).

    ``quality_power``: QFL's soft target for a positive location is its assigned quality (the plate's IoU at
    its best location) raised to this power; below 1 it lifts the targets of plates boxed less tightly (small
    ones) toward 1, leaving the box, distribution and corner losses and their weights as they are."""

    def __init__(self, reg_max: int, corner_weight: float = 0.5, quality_power: float = 1.0) -> None:
        super().__init__()
        if not 0.0 < quality_power <= 4.0:
            raise ValueError(f"quality_power {quality_power} must be in (0, 4]")
        self.reg_max = reg_max
        self.corner_weight = corner_weight
        self.quality_power = quality_power

    def forward(
        self,
        outputs: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
        points: torch.Tensor,
        strides: torch.Tensor,
        gt_boxes: torch.Tensor,
        gt_corners: torch.Tensor,
        gt_valid: torch.Tensor,
        gt_has_corners: torch.Tensor,
        ignore: torch.Tensor | None = None,
        ignore_valid: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """``ignore`` (N,K,4) xyxy pixels with ``ignore_valid`` (N,K): regions (a label audit's unsure plates)
        whose locations count in the classification loss only where they are assigned a plate."""
        logits, box_logits, kps = outputs  # (N,A), (N,A,4,R+1), (N,A,8)
        dist = integral(box_logits.float()) * strides[None, :, None]  # (N,A,4) pixels
        pts = points[None]
        pred_boxes = torch.cat([pts - dist[..., :2], pts + dist[..., 2:]], -1)
        asg = task_aligned_assign(
            logits.detach().sigmoid(),
            pred_boxes.detach(),
            points,
            strides,
            gt_boxes,
            gt_corners,
            gt_valid,
            gt_has_corners,
        )
        norm = asg.scores.sum().clamp(min=1.0)
        fg = asg.fg
        target = asg.scores if self.quality_power == 1.0 else asg.scores.clamp(min=0).pow(self.quality_power)
        l_cls_map = quality_focal_loss(logits.float(), target)
        if ignore is not None and ignore_valid is not None and ignore.shape[1]:
            l_cls_map = l_cls_map * ~(ignored_locations(points, ignore, ignore_valid) & ~fg)
        l_cls = l_cls_map.sum() / norm
        if fg.any():
            w = asg.scores[fg]
            l_box = (giou_loss(pred_boxes[fg], asg.boxes[fg]) * w).sum() / norm
            st = strides[None].expand_as(fg)[fg][:, None]
            p = pts.expand(fg.shape[0], -1, -1)[fg]
            tb = asg.boxes[fg]
            tdist = torch.cat([p - tb[:, :2], tb[:, 2:] - p], -1) / st  # (K,4) strides
            tdist = tdist.clamp(0, self.reg_max - 0.01)
            l_dfl = (
                distribution_focal_loss(box_logits[fg].float().reshape(-1, self.reg_max + 1), tdist.reshape(-1))
                .reshape(-1, 4)
                .mean(-1)
                * w
            ).sum() / norm
            cm = asg.corner_mask[fg]
            if cm.any():
                tk = (asg.corners[fg] - p.repeat(1, 4)) / st  # (K,8) strides
                l_kps = F.smooth_l1_loss(kps[fg][cm].float(), tk[cm], reduction="none", beta=0.1).mean(-1)
                l_kps = (l_kps * w[cm]).sum() / w[cm].sum().clamp(min=1.0)
            else:
                l_kps = kps.sum() * 0.0
        else:
            l_box = l_dfl = l_kps = pred_boxes.sum() * 0.0 + kps.sum() * 0.0
        total = l_cls + 2.0 * l_box + 0.25 * l_dfl + self.corner_weight * l_kps
        parts = {
            "loss_cls": float(l_cls.detach()),
            "loss_box": float(l_box.detach()),
            "loss_dfl": float(l_dfl.detach()),
            "loss_corner": float(l_kps.detach()),
            "num_fg": float(fg.sum()),
        }
        return total, parts
