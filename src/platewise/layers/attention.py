"""Multi-head attention and pre-norm transformer blocks (ViT encoder block, query decoder block).

Written out instead of ``nn.MultiheadAttention`` so that the exported ONNX graph is plain MatMul/Softmax
(fast in ONNX Runtime, no fused op surprises) and the shapes stay readable.
"""

from __future__ import annotations

import torch
from torch import nn

from platewise.layers.mlp import Mlp

__all__ = ["Attention", "DecoderBlock", "EncoderBlock"]


class Attention(nn.Module):
    """Multi-head (cross-)attention: queries (B, Nq, dim) attend to keys/values (B, Nk, dim)."""

    def __init__(self, dim: int, *, heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim {dim} is not divisible by heads {heads}")
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        ctx = x if context is None else context
        B, Nq, C = x.shape
        Nk = ctx.shape[1]
        h = self.heads
        q = self.q(x).reshape(B, Nq, h, C // h).transpose(1, 2)  # (B, h, Nq, d)
        kv = self.kv(ctx).reshape(B, Nk, 2, h, C // h).permute(2, 0, 3, 1, 4)  # (2, B, h, Nk, d)
        k, v = kv[0], kv[1]
        att = (q * self.scale) @ k.transpose(-2, -1)  # (B, h, Nq, Nk)
        att = self.drop(att.softmax(dim=-1))
        out = (att @ v).transpose(1, 2).reshape(B, Nq, C)  # (B, Nq, C)
        return self.drop(self.proj(out))


class EncoderBlock(nn.Module):
    """Pre-norm ViT block: x + attn(norm(x)); x + mlp(norm(x))."""

    def __init__(self, dim: int, *, heads: int, mlp_ratio: float = 2.0, dropout: float = 0.0) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads=heads, dropout=dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, hidden=int(dim * mlp_ratio), dropout=dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class DecoderBlock(nn.Module):
    """Pre-norm query decoder block: self-attention among queries, cross-attention to memory, MLP."""

    def __init__(self, dim: int, *, heads: int, mlp_ratio: float = 2.0, dropout: float = 0.0) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.self_attn = Attention(dim, heads=heads, dropout=dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.norm_mem = nn.LayerNorm(dim)
        self.cross_attn = Attention(dim, heads=heads, dropout=dropout)
        self.norm3 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, hidden=int(dim * mlp_ratio), dropout=dropout)

    def forward(self, q: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        q = q + self.self_attn(self.norm1(q))
        q = q + self.cross_attn(self.norm2(q), self.norm_mem(memory))
        return q + self.mlp(self.norm3(q))
