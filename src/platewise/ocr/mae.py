"""Masked-autoencoder pre-training of the strip encoder (He et al., "Masked Autoencoders Are Scalable Vision
Learners", 2021, as used by MaskOCR): hide ``mask_ratio`` of the strips, encode only the visible ones,
and let a light decoder reconstruct the pixels of the hidden strips (per-strip normalized targets).
Only the encoder (``PlateOCR.embed``, ``pos``, ``blocks``, ``norm``) is kept afterwards.
"""

from __future__ import annotations

import torch
from torch import nn

from platewise.layers.attention import EncoderBlock
from platewise.ocr.net import PlateOCR

__all__ = ["MaskedAutoencoder", "strips"]


def strips(x: torch.Tensor, patch_width: int) -> torch.Tensor:
    """(B, 3, H, W) -> (B, W / patch_width, 3 * H * patch_width): the pixels of each strip."""
    B, C, H, W = x.shape
    n = W // patch_width
    return x.reshape(B, C, H, n, patch_width).permute(0, 3, 1, 2, 4).reshape(B, n, C * H * patch_width)


class MaskedAutoencoder(nn.Module):
    """Wraps a :class:`PlateOCR`; ``forward(x)`` returns the reconstruction loss of the masked strips."""

    def __init__(self, model: PlateOCR) -> None:
        super().__init__()
        cfg = model.cfg
        self.model = model
        self.n = cfg.num_patches
        self.n_keep = max(1, int(round(self.n * (1 - cfg.mask_ratio))))
        self.enc_to_dec = nn.Linear(cfg.embed_dim, cfg.mae_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, cfg.mae_dim))
        self.dec_pos = nn.Parameter(torch.zeros(1, self.n, cfg.mae_dim))
        heads = 4 if cfg.mae_dim % 4 == 0 else 1
        self.dec_blocks = nn.ModuleList(EncoderBlock(cfg.mae_dim, heads=heads) for _ in range(cfg.mae_depth))
        self.dec_norm = nn.LayerNorm(cfg.mae_dim)
        self.pred = nn.Linear(cfg.mae_dim, 3 * cfg.img_height * cfg.patch_width)
        nn.init.trunc_normal_(self.mask_token, std=0.02)
        nn.init.trunc_normal_(self.dec_pos, std=0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B = x.shape[0]
        order = torch.rand(B, self.n, device=x.device).argsort(dim=1)  # random permutation per sample
        keep = order[:, : self.n_keep].sort(dim=1).values  # (B, n_keep)
        mem = self.enc_to_dec(self.model.forward_features(x, keep))  # (B, n_keep, mae_dim)
        full = self.mask_token.expand(B, self.n, -1).clone()  # (B, N, mae_dim)
        full.scatter_(1, keep.unsqueeze(-1).expand(-1, -1, full.shape[-1]), mem)
        t = full + self.dec_pos
        for blk in self.dec_blocks:
            t = blk(t)
        pred = self.pred(self.dec_norm(t))  # (B, N, 3*H*p)
        target = strips(x, self.model.cfg.patch_width)
        target = (target - target.mean(-1, keepdim=True)) / (target.var(-1, keepdim=True) + 1e-6).sqrt()
        masked = torch.ones(B, self.n, device=x.device)
        masked.scatter_(1, keep, 0.0)
        per_strip = ((pred - target) ** 2).mean(-1)  # (B, N)
        return (per_strip * masked).sum() / masked.sum()
