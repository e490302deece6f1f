"""The plate reader network, MaskOCR-style (Lyu et al., "MaskOCR: Text Recognition with Masked
Encoder-Decoder Pretraining", 2022), sized for CPU.

- Encoder: a ViT over *vertical strip* patches: the plate (img_height x img_width) is cut into
  img_width / patch_width strips of full height, each linearly embedded (a strided conv), plus a learned
  position embedding; pre-norm transformer blocks. Pre-trained as a masked autoencoder (see ``mae.py``).
- Parallel head (MaskOCR): one learned query per character position (max_len of them) goes through
  decoder blocks (self-attention among queries, cross-attention to the strip tokens), then a linear
  classifier; all characters are predicted at once, class 0 meaning "no character here".
- CTC head (alternative, cheaper): a linear classifier on each strip token, trained with CTC (class 0 = blank).

What we changed from the paper: far smaller (embed 128-192, 4-6 layers instead of 624/8) and narrower
strips (4 px on a 32 px high input), so that one plate costs about a millisecond on one CPU core.
"""

from __future__ import annotations

import torch
from torch import nn

from platewise.layers.attention import DecoderBlock, EncoderBlock
from platewise.ocr.config import OcrConfig

__all__ = ["PlateOCR", "StripEmbed"]


class StripEmbed(nn.Module):
    """(B, 3, H, W) -> (B, W / patch_width, dim): one token per full-height strip."""

    def __init__(self, cfg: OcrConfig) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, cfg.embed_dim, kernel_size=(cfg.img_height, cfg.patch_width), stride=cfg.patch_width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)  # (B, dim, 1, N) -> (B, N, dim)


class PlateOCR(nn.Module):
    """Strip-patch ViT encoder + parallel query decoder (or CTC head).

    ``forward`` takes normalized (B, 3, H, W) float32 BGR and returns logits:
    (B, max_len, num_classes) for the parallel head, (B, num_patches, num_classes) for CTC.
    """

    def __init__(self, cfg: OcrConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.embed_dim
        self.embed = StripEmbed(cfg)
        self.pos = nn.Parameter(torch.zeros(1, cfg.num_patches, d))
        self.blocks = nn.ModuleList(
            EncoderBlock(d, heads=cfg.heads, mlp_ratio=cfg.mlp_ratio, dropout=cfg.dropout) for _ in range(cfg.depth)
        )
        self.norm = nn.LayerNorm(d)
        if cfg.head == "parallel":
            self.queries = nn.Parameter(torch.zeros(1, cfg.max_len, d))
            self.dec_blocks = nn.ModuleList(
                DecoderBlock(d, heads=cfg.heads, mlp_ratio=cfg.mlp_ratio, dropout=cfg.dropout)
                for _ in range(cfg.dec_depth)
            )
            self.dec_norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, cfg.num_classes)
        self.apply(_init_weights)
        nn.init.trunc_normal_(self.pos, std=0.02)
        if cfg.head == "parallel":
            nn.init.trunc_normal_(self.queries, std=0.02)

    def forward_features(self, x: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
        """Encoder: (B, 3, H, W) -> (B, N, dim); with ``keep`` (B, n_keep) strip indices only those strips."""
        t = self.embed(x) + self.pos  # (B, N, dim)
        if keep is not None:
            t = torch.gather(t, 1, keep.unsqueeze(-1).expand(-1, -1, t.shape[-1]))  # (B, n_keep, dim)
        for blk in self.blocks:
            t = blk(t)
        return self.norm(t)

    def forward_head(self, mem: torch.Tensor) -> torch.Tensor:
        if self.cfg.head == "ctc":
            return self.head(mem)  # (B, N, C)
        q = self.queries.expand(mem.shape[0], -1, -1)  # (B, max_len, dim)
        for blk in self.dec_blocks:
            q = blk(q, mem)
        return self.head(self.dec_norm(q))  # (B, max_len, C)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def export_inputs(self, batch: int = 1) -> torch.Tensor:
        """A dummy input of the right shape for tracing / ONNX export."""
        return torch.zeros(batch, 3, self.cfg.img_height, self.cfg.img_width)


def _init_weights(m: nn.Module) -> None:
    if isinstance(m, nn.Linear):
        nn.init.trunc_normal_(m.weight, std=0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.LayerNorm):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)
