"""Test plug-in: finds one plate "AB123CD" in every image (returns PlateRead objects, like alpr)."""

from platewise.serving.interface import ModelInterface
from platewise.types import BBox, Corners, Detection, PlateRead


class Model(ModelInterface):
    """One fixed plate per image."""

    def run(self, input, args):
        h, w = input.shape[:2]
        box = BBox(0.1 * w, 0.4 * h, 0.5 * w, 0.6 * h)
        det = Detection(box, Corners.from_box(box), 0.9)
        return [PlateRead("AB123CD", 0.9, (0.99,) * 7, (("AB123CD", 0.9),), None, det)]
