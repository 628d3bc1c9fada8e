"""Sequences and dataset loaders (UAV123, UAV20L, UAV-Human, LTB35, OTB, plain folders, synthetic)."""

from dcfre.data.sequence import Sequence

# Loaders are imported on first use: ``import dcfre.data`` stays cheap (no OpenCV/scikit-image import).
_LAZY = {
    "load_dataset": "dcfre.data.loaders",
    "DATASET_NAMES": "dcfre.data.loaders",
    "load_uav123": "dcfre.data.uav123",
    "load_uav20l": "dcfre.data.uav123",
    "load_uav_human": "dcfre.data.uav123",
    "load_ltb35": "dcfre.data.ltb35",
    "load_otb": "dcfre.data.otb",
    "load_folder": "dcfre.data.folder",
    "read_groundtruth": "dcfre.data.annotations",
    "make_sequence": "dcfre.data.synthetic",
    "generate_suite": "dcfre.data.synthetic",
}

__all__ = [
    "DATASET_NAMES",
    "Sequence",
    "generate_suite",
    "load_dataset",
    "load_folder",
    "load_ltb35",
    "load_otb",
    "load_uav20l",
    "load_uav123",
    "load_uav_human",
    "make_sequence",
    "read_groundtruth",
]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dcfre.data' has no attribute {name!r}")
