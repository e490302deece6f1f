from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from platewise.errors import ConfigError, ModelNotFound  # noqa: E402
from platewise.ocr.config import OcrConfig  # noqa: E402
from platewise.ocr.mae import MaskedAutoencoder, strips  # noqa: E402
from platewise.ocr.registry import create_recognizer, list_recognizers, recognizer_config  # noqa: E402
from platewise.plates import MAX_LEN  # noqa: E402


@pytest.mark.parametrize("name", list_recognizers())
def test_every_registered_recognizer_outputs_logits_of_its_head_shape(name: str) -> None:
    model = create_recognizer(name).eval()
    cfg = model.cfg
    with torch.no_grad():
        out = model(model.export_inputs(2))
    steps = cfg.max_len if cfg.head == "parallel" else cfg.num_patches
    assert out.shape == (2, steps, cfg.num_classes)


def test_parallel_head_has_one_query_per_character_position() -> None:
    model = create_recognizer("ocr_tiny")
    assert model.queries.shape[1] == MAX_LEN == model.cfg.max_len


def test_recognizer_config_applies_and_checks_overrides() -> None:
    assert recognizer_config("ocr_tiny", embed_dim=48).embed_dim == 48
    with pytest.raises(ConfigError, match="unknown OcrConfig"):
        recognizer_config("ocr_tiny", not_a_field=1)
    with pytest.raises(ModelNotFound, match="ocr_tiny"):
        recognizer_config("ocr_nope")


def test_config_rejects_patch_width_that_does_not_divide_width() -> None:
    with pytest.raises(ConfigError, match="patch_width"):
        OcrConfig(img_width=100, patch_width=6)


def test_config_rejects_ctc_head_with_too_few_strips() -> None:
    with pytest.raises(ConfigError, match="CTC"):
        OcrConfig(img_width=48, patch_width=6, head="ctc")


def test_strips_cut_full_height_vertical_patches_left_to_right() -> None:
    x = torch.arange(2 * 3 * 4 * 8, dtype=torch.float32).reshape(2, 3, 4, 8)
    s = strips(x, 2)
    assert s.shape == (2, 4, 3 * 4 * 2)
    assert torch.equal(s[0, 1].reshape(3, 4, 2), x[0, :, :, 2:4])


def test_mae_loss_is_finite_and_reaches_encoder_weights() -> None:
    model = create_recognizer("ocr_tiny")
    mae = MaskedAutoencoder(model)
    loss = mae(torch.randn(3, 3, model.cfg.img_height, model.cfg.img_width))
    loss.backward()
    assert torch.isfinite(loss)
    assert model.embed.proj.weight.grad is not None
    assert model.embed.proj.weight.grad.abs().sum() > 0


def test_mae_encodes_only_the_unmasked_strips() -> None:
    model = create_recognizer("ocr_tiny")
    mae = MaskedAutoencoder(model)
    assert mae.n_keep == round(model.cfg.num_patches * (1 - model.cfg.mask_ratio))
