"""Task-aligned label assignment (TOOD / YOLOv8 style) for the anchor-free head, in torch.

For every ground-truth plate, the candidate locations are those inside its box (boxes thinner than a level's
stride are widened to one stride, so that 10-px plates still get candidates); among them the ``topk`` with
the largest alignment ``score**alpha * iou**beta`` become positives. A location claimed by several plates
goes to the one it overlaps most. The quality target of a positive is its IoU, rescaled so that the
best-aligned location of each plate gets that plate's best IoU.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["Assignment", "box_iou_pairwise", "task_aligned_assign"]


@dataclass
class Assignment:
    """Targets per location: ``fg`` (N,A) bool, ``scores`` (N,A), ``boxes`` (N,A,4) xyxy pixels,
    ``corners`` (N,A,8) pixels, ``corner_mask`` (N,A) bool (False where the plate has no corner labels)."""

    fg: torch.Tensor
    scores: torch.Tensor
    boxes: torch.Tensor
    corners: torch.Tensor
    corner_mask: torch.Tensor


def box_iou_pairwise(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """IoU of boxes broadcast against each other: (...,4) xyxy, (...,4) xyxy -> (...)."""
    ix = (torch.minimum(a[..., 2], b[..., 2]) - torch.maximum(a[..., 0], b[..., 0])).clamp(min=0)
    iy = (torch.minimum(a[..., 3], b[..., 3]) - torch.maximum(a[..., 1], b[..., 1])).clamp(min=0)
    inter = ix * iy
    area_a = (a[..., 2] - a[..., 0]).clamp(min=0) * (a[..., 3] - a[..., 1]).clamp(min=0)
    area_b = (b[..., 2] - b[..., 0]).clamp(min=0) * (b[..., 3] - b[..., 1]).clamp(min=0)
    return inter / (area_a + area_b - inter + eps)


@torch.no_grad()
def task_aligned_assign(
    pred_scores: torch.Tensor,
    pred_boxes: torch.Tensor,
    points: torch.Tensor,
    strides: torch.Tensor,
    gt_boxes: torch.Tensor,
    gt_corners: torch.Tensor,
    gt_valid: torch.Tensor,
    gt_has_corners: torch.Tensor,
    topk: int = 10,
    alpha: float = 0.5,
    beta: float = 6.0,
) -> Assignment:
    """Assigns plates to locations.

    Args:
        pred_scores: (N,A) sigmoid scores.
        pred_boxes: (N,A,4) decoded predicted boxes, xyxy pixels.
        points: (A,2) location centres (x, y) in pixels; strides: (A,).
        gt_boxes: (N,M,4) xyxy pixels, padded; gt_corners: (N,M,8); gt_valid: (N,M) bool (False = padding);
        gt_has_corners: (N,M) bool.
    """
    n, a = pred_scores.shape
    m = gt_boxes.shape[1]
    dev = pred_scores.device
    if m == 0:
        z = torch.zeros(n, a, device=dev)
        return Assignment(z.bool(), z, torch.zeros(n, a, 4, device=dev), torch.zeros(n, a, 8, device=dev), z.bool())
    gb = gt_boxes[:, :, None, :]  # (N,M,1,4)
    px, py = points[None, None, :, 0], points[None, None, :, 1]  # (1,1,A)
    s = strides[None, None, :]
    gw, gh = gb[..., 2] - gb[..., 0], gb[..., 3] - gb[..., 1]
    padx, pady = ((s - gw) / 2).clamp(min=0), ((s - gh) / 2).clamp(min=0)
    inside = (px > gb[..., 0] - padx) & (px < gb[..., 2] + padx) & (py > gb[..., 1] - pady) & (py < gb[..., 3] + pady)
    inside = inside & gt_valid[:, :, None]  # (N,M,A)
    iou = box_iou_pairwise(gb, pred_boxes[:, None, :, :]).clamp(min=0)  # (N,M,A)
    iou = torch.where(inside, iou, torch.zeros_like(iou))
    metric = pred_scores[:, None, :].clamp(min=1e-6).pow(alpha) * iou.pow(beta)
    metric = torch.where(inside, metric, torch.full_like(metric, -1.0))
    k = min(topk, a)
    top_idx = metric.topk(k, dim=-1).indices  # (N,M,k)
    pos = torch.zeros_like(inside)
    pos.scatter_(-1, top_idx, True)
    pos = pos & inside
    # a location that several plates claim goes to the plate it overlaps most (ties: the first)
    multi = pos.sum(1, keepdim=True) > 1  # (N,1,A)
    best = iou.argmax(1, keepdim=True)  # (N,1,A)
    only_best = torch.zeros_like(pos).scatter_(1, best, True)
    pos = torch.where(multi, only_best & pos, pos)
    fg = pos.any(1)  # (N,A)
    gt_idx = pos.float().argmax(1)  # (N,A)
    bidx = torch.arange(n, device=dev)[:, None]
    boxes = gt_boxes[bidx, gt_idx]  # (N,A,4)
    corners = gt_corners[bidx, gt_idx]
    corner_mask = gt_has_corners[bidx, gt_idx] & fg
    metric = torch.where(pos, metric, torch.zeros_like(metric))
    iou_pos = torch.where(pos, iou, torch.zeros_like(iou))
    norm = metric / (metric.amax(-1, keepdim=True) + 1e-9) * iou_pos.amax(-1, keepdim=True)  # (N,M,A)
    scores = norm.amax(1) * fg
    return Assignment(fg, scores, boxes, corners, corner_mask)
