"""Regenerates the bundled example images in examples/ (synthetic only: no real photo is copied).

    python scripts/make_examples.py

A procedurally drawn street scene (sky, road, a car body with a plate holder) with synthetic plates pasted in
by platewise.data.synthetic.SceneSynthesizer; writes examples/scene.jpg (two plates, 960x540),
examples/scene_1280x720.jpg (one plate, for the speed benchmark) and examples/labels.csv (scenes format).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from platewise.data.synthetic import PlateRenderer, SceneSynthesizer  # noqa: E402


def street(width: int, height: int, seed: int) -> np.ndarray:
    """A simple drawn street: gradient sky, grey road, a car body with wheels and windows."""
    rng = np.random.default_rng(seed)
    img = np.zeros((height, width, 3), np.uint8)
    horizon = int(height * 0.45)
    for y in range(horizon):
        t = y / horizon
        img[y] = (int(235 - 60 * t), int(205 - 40 * t), int(170 - 30 * t))
    img[horizon:] = (90, 92, 95)
    noise = rng.normal(0, 6, img.shape)
    img = np.clip(img + noise, 0, 255).astype(np.uint8)
    cv2.rectangle(img, (0, int(horizon * 0.6)), (width, horizon), (110, 120, 125), -1)  # buildings
    for _ in range(3):
        x = int(rng.uniform(0.05, 0.7) * width)
        w = int(width * rng.uniform(0.25, 0.35))
        y = int(height * rng.uniform(0.45, 0.55))
        h = int(height * 0.35)
        colour = tuple(int(c) for c in rng.integers(30, 200, 3))
        cv2.rectangle(img, (x, y), (x + w, y + h), colour, -1)
        cv2.rectangle(img, (x + w // 8, y - h // 3), (x + 7 * w // 8, y), colour, -1)
        cv2.rectangle(img, (x + w // 6, y - h // 4), (x + 5 * w // 6, y - 4), (60, 50, 40), -1)  # window
        for cx in (x + w // 6, x + 5 * w // 6):
            cv2.circle(img, (cx, y + h), h // 5, (20, 20, 20), -1)
    return img


def main() -> None:
    out = ROOT / "examples"
    out.mkdir(exist_ok=True)
    rows = []
    for name, (w, h, n, seed) in {"scene.jpg": (960, 540, 2, 7), "scene_1280x720.jpg": (1280, 720, 1, 11)}.items():
        synth = SceneSynthesizer(
            backgrounds=[street(w, h, seed)], seed=seed, renderer=PlateRenderer(seed=seed), strength=0.2, min_plate_h=28
        )
        scene = synth.sample(width=w, height=h, n_plates=n)
        cv2.imwrite(str(out / name), scene.image, [cv2.IMWRITE_JPEG_QUALITY, 92])
        for p in scene.plates:
            b = p.box
            rows.append([name, p.region, round(b.x1), round(b.y1), round(b.width), round(b.height), p.text])
    with (out / "labels.csv").open("w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["image", "region", "x", "y", "w", "h", "plate"])
        wr.writerows(rows)
    print("\n".join(",".join(map(str, r)) for r in rows))


if __name__ == "__main__":
    main()
