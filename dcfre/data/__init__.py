"""Sequences and dataset loaders (UAV123, UAV20L, UAV-Human, LTB35, OTB, plain folders, synthetic)."""

from dcfre.data.sequence import Sequence

__all__ = ["Sequence"]
