"""Synthetic plates: a fast glyph-atlas renderer for plate crops, augmentation, and scenes with exact corners.

from platewise.data.synthetic import PlateRenderer, augment
r = PlateRenderer(seed=0)
p = r.render(style="us")                 # flat plate: p.image, p.text, p.region, p.lines
img, text, region = r.render_crop()      # augmented crop with a small background margin
"""

from platewise.data.synthetic.augment import augment
from platewise.data.synthetic.backgrounds import BackgroundPool, default_backgrounds, real_scene_backgrounds
from platewise.data.synthetic.render import STYLE_NAMES, PlateRenderer, RenderedPlate
from platewise.data.synthetic.scenes import Scene, ScenePlate, SceneSynthesizer

__all__ = [
    "STYLE_NAMES",
    "BackgroundPool",
    "PlateRenderer",
    "RenderedPlate",
    "Scene",
    "ScenePlate",
    "SceneSynthesizer",
    "augment",
    "default_backgrounds",
    "real_scene_backgrounds",
]
