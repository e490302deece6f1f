"""A small built-in plate-scene synthesizer for detector training (numpy + OpenCV).

It draws simple plates (light or dark background, optional border and side band, random characters in
Hershey fonts), warps them with a random perspective into a background and records the exact corners. When
``platewise.data.synthetic.SceneSynthesizer`` is available the training sampler can use that one instead
(see :mod:`platewise.detection.dataset`); this one keeps the detector trainable on its own.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ["paste_distractors", "paste_plates", "render_plate"]

_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
_ASPECTS = (4.7, 4.7, 2.0, 3.2, 3.6, 1.6)
_FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_PLAIN)


def render_plate(rng: np.random.Generator, height: int = 64) -> npt.NDArray[np.uint8]:
    """A frontal plate image (height x height*aspect x 3, BGR uint8) with random text and colours."""
    aspect = float(rng.choice(_ASPECTS)) * rng.uniform(0.9, 1.1)
    w = int(height * aspect)
    kind = rng.random()
    if kind < 0.55:
        bg, fg = np.array([235, 235, 235]) + rng.integers(-30, 20, 3), np.array([20, 20, 20])
    elif kind < 0.75:
        bg, fg = np.array([40, 200, 240]) + rng.integers(-30, 15, 3), np.array([20, 20, 20])
    elif kind < 0.9:
        bg, fg = rng.integers(0, 120, 3), np.array([235, 235, 235])
    else:
        bg, fg = rng.integers(150, 256, 3), rng.integers(0, 90, 3)
    img = np.empty((height, w, 3), np.uint8)
    img[:] = np.clip(bg, 0, 255)
    x0 = 0
    if rng.random() < 0.3:  # EU-style side band
        x0 = int(0.08 * w) + 2
        cv2.rectangle(img, (0, 0), (x0, height), (160, 50, 20), -1)
    rows = 2 if aspect < 2.5 and rng.random() < 0.7 else 1
    font = int(rng.choice(_FONTS))
    thick = int(rng.integers(2, 5))
    for r in range(rows):
        n = int(rng.integers(3, 6)) if rows == 2 else int(rng.integers(5, 9))
        text = "".join(rng.choice(list(_CHARS), n))
        (tw, th), _ = cv2.getTextSize(text, font, 1.0, thick)
        avail_h = height * (0.62 if rows == 1 else 0.36)
        scale = min(avail_h / max(th, 1), (w - x0) * 0.9 / max(tw, 1))
        (tw, th), _ = cv2.getTextSize(text, font, scale, thick)
        tx = x0 + ((w - x0) - tw) // 2
        ty = int(height * (0.5 if rows == 1 else 0.25 + 0.5 * r) + th / 2)
        cv2.putText(img, text, (tx, ty), font, scale, tuple(int(v) for v in fg), thick, cv2.LINE_AA)
    if rng.random() < 0.7:
        cv2.rectangle(img, (1, 1), (w - 2, height - 2), tuple(int(v) for v in fg), int(rng.integers(1, 4)))
    if rng.random() < 0.5:  # lighting gradient
        grad = np.linspace(rng.uniform(0.6, 1.0), rng.uniform(0.8, 1.2), w, dtype=np.float32)[None, :, None]
        img = np.clip(img * grad, 0, 255).astype(np.uint8)
    return img


def _random_quad(rng: np.random.Generator, pw: float, ph: float, cx: float, cy: float) -> npt.NDArray[np.float32]:
    """Corners TL, TR, BR, BL of a plate of size pw x ph centred at (cx, cy), rotated and perspective-jittered."""
    q = np.array([[-pw / 2, -ph / 2], [pw / 2, -ph / 2], [pw / 2, ph / 2], [-pw / 2, ph / 2]], np.float32)
    # perspective: shrink one side (yaw) or top/bottom (pitch)
    yaw = rng.uniform(-0.25, 0.25)
    q[[1, 2], 1] *= 1 + yaw
    q[[0, 3], 1] *= 1 - yaw
    pitch = rng.uniform(-0.12, 0.12)
    q[[0, 1], 0] *= 1 + pitch
    q[[2, 3], 0] *= 1 - pitch
    q[:, 0] += q[:, 1] * rng.uniform(-0.3, 0.3)  # shear
    a = np.deg2rad(rng.normal(0, 6) if rng.random() < 0.8 else rng.uniform(-25, 25))
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]], np.float32)
    q = q @ rot.T
    q += rng.normal(0, 0.03 * ph, q.shape).astype(np.float32)
    return (q + np.array([cx, cy], np.float32)).astype(np.float32)


def paste_plates(
    rng: np.random.Generator,
    background: npt.NDArray[np.uint8],
    n_plates: int,
    avoid: npt.NDArray[np.float32] | None = None,
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]:
    """Pastes up to ``n_plates`` random plates into a copy of ``background`` (HxWx3 BGR uint8).

    Plates avoid the boxes ``avoid`` (K,4) xyxy and each other. Returns the image and the corners
    (P,4,2) float32 TL, TR, BR, BL in image pixels.
    """
    img = background.copy()
    h, w = img.shape[:2]
    taken = [] if avoid is None else [b for b in np.asarray(avoid, np.float32).reshape(-1, 4)]
    quads = []
    for _ in range(n_plates * 4):
        if len(quads) >= n_plates:
            break
        plate = render_plate(rng, int(rng.integers(40, 90)))
        asp = plate.shape[1] / plate.shape[0]
        pw = float(np.exp(rng.uniform(np.log(max(16.0, 12 * asp * 0.6)), np.log(max(40.0, 0.45 * w)))))
        ph = pw / asp
        if ph < 8:
            continue
        cx, cy = rng.uniform(pw / 2, w - pw / 2), rng.uniform(ph / 2, h - ph / 2) if h > ph else h / 2
        quad = _random_quad(rng, pw, ph, cx, cy)
        box = np.concatenate([quad.min(0), quad.max(0)])
        if box[0] < 0 or box[1] < 0 or box[2] > w or box[3] > h:
            continue
        if any(_overlaps(box, t) for t in taken):
            continue
        src = np.array([[0, 0], [plate.shape[1], 0], [plate.shape[1], plate.shape[0]], [0, plate.shape[0]]], np.float32)
        x0, y0 = int(box[0]), int(box[1])  # warp into the plate's region only
        x1, y1 = min(w, int(np.ceil(box[2])) + 1), min(h, int(np.ceil(box[3])) + 1)
        m = cv2.getPerspectiveTransform(src, quad - np.array([x0, y0], np.float32))
        rw, rh = x1 - x0, y1 - y0
        warped = cv2.warpPerspective(plate, m, (rw, rh), flags=cv2.INTER_LINEAR)
        mask = cv2.warpPerspective(np.full(plate.shape[:2], 255, np.uint8), m, (rw, rh))
        if rng.random() < 0.5:
            warped = cv2.GaussianBlur(warped, (3, 3), 0)
        alpha = (mask.astype(np.float32) / 255.0)[..., None]
        roi = img[y0:y1, x0:x1]
        img[y0:y1, x0:x1] = (roi * (1 - alpha) + warped * alpha).astype(np.uint8)
        taken.append(box)
        quads.append(quad)
    return img, np.asarray(quads, np.float32).reshape(-1, 4, 2)


_WORDS = (
    "www.",
    ".com",
    "photo",
    "stock",
    "images",
    "Auto",
    "Sale",
    "Motors",
    "Service",
    "car wash",
    "Parking",
    "EXIT",
    "SPEED",
    "Tel.",
)
_LOWER = "abcdefghijklmnopqrstuvwxyz"


def _distractor_text(rng: np.random.Generator) -> str:
    kind = rng.random()
    if kind < 0.35:  # long numbers (stock-photo ids, phone numbers, dates)
        return "".join(rng.choice(list("0123456789"), int(rng.integers(6, 12))))
    if kind < 0.7:  # words and web addresses, mixed case
        return "".join(str(rng.choice(_WORDS)) for _ in range(int(rng.integers(1, 3))))
    word = "".join(rng.choice(list(_LOWER), int(rng.integers(3, 9))))
    return word.capitalize() if rng.random() < 0.5 else word.upper()


def paste_distractors(
    rng: np.random.Generator,
    image: npt.NDArray[np.uint8],
    n: int,
    avoid: npt.NDArray[np.float32] | None = None,
) -> npt.NDArray[np.uint8]:
    """Draws ``n`` lines of plate-like-but-not-plate text (watermarks, long numbers, words; no plate panel
    behind them) into a copy of ``image``, away from the boxes ``avoid`` (K,4). They are hard negatives: the
    shipped detector fired on stock-photo watermarks and printed numbers. Nothing is labelled."""
    img = image.copy()
    h, w = img.shape[:2]
    taken = [] if avoid is None else [b for b in np.asarray(avoid, np.float32).reshape(-1, 4)]
    for _ in range(n * 3):
        if n <= 0:
            break
        text = _distractor_text(rng)
        font = int(rng.choice(_FONTS))
        thick = int(rng.integers(1, 4))
        scale = float(np.exp(rng.uniform(np.log(0.4), np.log(2.5))))
        (tw, th), base = cv2.getTextSize(text, font, scale, thick)
        if tw >= w - 4 or th + base >= h - 4:
            continue
        x, y = int(rng.integers(2, w - tw - 1)), int(rng.integers(th + 2, h - base - 1))
        box = np.array([x, y - th, x + tw, y + base], np.float32)
        if any(_overlaps(box, t) for t in taken):
            continue
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.random() < 0.5:  # semi-transparent, like a watermark
            layer = img.copy()
            cv2.putText(layer, text, (x, y), font, scale, colour, thick, cv2.LINE_AA)
            a = rng.uniform(0.3, 0.8)
            img = cv2.addWeighted(layer, a, img, 1 - a, 0)
        else:
            cv2.putText(img, text, (x, y), font, scale, colour, thick, cv2.LINE_AA)
        taken.append(box)
        n -= 1
    return img


def _overlaps(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32], margin: float = 4.0) -> bool:
    return not (a[2] + margin < b[0] or b[2] + margin < a[0] or a[3] + margin < b[1] or b[3] + margin < a[1])
