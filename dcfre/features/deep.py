"""Deep CNN features: the stride-16 trunk of an ImageNet network, run on onnxruntime.

dcfre never imports torch: the backbones are ONNX files exported once by
``scripts/export_backbone.py`` and shipped in ``dcfre/features/data/backbones/`` together with a
``manifest.json`` that records, for each file, its SHA-256, its input contract and its
provenance. Shipped backbones (see :func:`shipped_backbones`):

``efficientnet-lite0`` (default)
    EfficientNet-Lite0 stem + MBConv blocks 0..10, 112 channels, ~2.7 MB.
``efficientnet-lite2``
    EfficientNet-Lite2 stem + MBConv blocks 0..14, 120 channels, ~4.4 MB.

Input contract (all backbones): RGB patches with values in [0, 255], height and width multiples of
``size_multiple`` (16). Each pixel is normalized as ``(x - mean[c]) / std[c]`` (EfficientNet-Lite:
mean 127, std 128) and fed as NCHW float32.

Output geometry: an (H, W) patch gives an (H / 16, W / 16) feature map. Feature cell (i, j) is
centred on patch pixel ``(16 i + offset, 16 j + offset)`` with ``offset =
cell_centre_offset_px`` from the manifest (15.0 for the EfficientNet-Lite trunks, whose
TensorFlow-'SAME' padding is asymmetric; pixel centres at integers, first pixel 0), i.e. 7.5
pixels right of and below the centre of the 16 x 16 block of pixels the cell covers.

A user-supplied ``path.onnx`` follows the same contract: its parameters come from a sidecar
``path.json`` holding one manifest entry (the ``input``/``output`` keys documented in
:func:`backbone_contract`) and/or from keyword arguments, which take precedence.
"""

from __future__ import annotations

import hashlib
import json
import numbers
import threading
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from dcfre.errors import DcfreError, InputError

#: Folder of the shipped ONNX backbones and their manifest.
BACKBONE_DIR = Path(__file__).resolve().parent / "data" / "backbones"
MANIFEST_PATH = BACKBONE_DIR / "manifest.json"
DEFAULT_BACKBONE = "efficientnet-lite0"


class BackboneError(DcfreError, IOError):
    """A backbone file or its manifest is missing, unreadable, corrupted or inconsistent."""


@dataclass(frozen=True)
class BackboneContract:
    """How to feed one ONNX backbone and what it returns.

    Attributes
    ----------
    name : str
        Shipped backbone name, or the file name of a user model.
    path : Path
        The ONNX file.
    sha256 : str or None
        Expected hex SHA-256 of the file; ``None`` skips the check (user models only).
    mean, std : tuple of 3 float
        Per-channel normalization ``(x - mean) / std`` of RGB pixels in [0, 255].
    stride : int
        Output stride in pixels: an (H, W) input gives (H / stride, W / stride) cells.
    channels : int
        Feature channels C.
    size_multiple : int
        Input height and width must be multiples of this (16 for the shipped backbones).
    cell_centre_offset : float
        Feature cell (i, j) is centred on input pixel (stride * i + offset, stride * j + offset).
    input_name, output_name : str or None
        Graph input/output names; ``None`` uses the graph's first input/output.
    """

    name: str
    path: Path
    sha256: str | None
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    stride: int
    channels: int
    size_multiple: int
    cell_centre_offset: float = 0.0
    input_name: str | None = None
    output_name: str | None = None


# ------------------------------------------------------------------------------------------------
# Manifest and contracts
# ------------------------------------------------------------------------------------------------


def _read_json(path: Path, what: str) -> dict:
    try:
        data = json.loads(path.read_text())
    except OSError as error:
        raise BackboneError(f"cannot read {what} {path}: {error.strerror or error}") from None
    except json.JSONDecodeError as error:
        raise BackboneError(f"{what} {path} is not valid JSON: {error.msg} (line {error.lineno})") from None
    if not isinstance(data, dict):
        raise BackboneError(f"{what} {path} must hold a JSON object")
    return data


def _manifest() -> dict:
    """The ``backbones`` table of the shipped manifest."""
    backbones = _read_json(MANIFEST_PATH, "backbone manifest").get("backbones")
    if not isinstance(backbones, dict):
        raise BackboneError(f"backbone manifest {MANIFEST_PATH} has no 'backbones' table")
    return backbones


def shipped_backbones() -> tuple[str, ...]:
    """Names of the backbones shipped with dcfre (usable as ``model=``)."""
    return tuple(sorted(_manifest()))


def _entry_fields(entry: dict, where: str) -> dict:
    """Contract fields present in one manifest/sidecar entry (missing ones are left out)."""
    if not isinstance(entry, dict):
        raise BackboneError(f"{where}: entry must be a JSON object")
    inputs = entry.get("input", {})
    outputs = entry.get("output", {})
    if not isinstance(inputs, dict) or not isinstance(outputs, dict):
        raise BackboneError(f"{where}: 'input' and 'output' must be JSON objects")
    fields = {
        "sha256": entry.get("sha256"),
        "mean": inputs.get("mean"),
        "std": inputs.get("std"),
        "size_multiple": inputs.get("size_multiple"),
        "input_name": inputs.get("name"),
        "stride": outputs.get("stride"),
        "channels": outputs.get("channels"),
        "cell_centre_offset": outputs.get("cell_centre_offset_px"),
        "output_name": outputs.get("name"),
    }
    return {key: value for key, value in fields.items() if value is not None}


def _looks_like_path(model) -> bool:
    return isinstance(model, Path) or (
        isinstance(model, str) and (model.endswith(".onnx") or "/" in model or "\\" in model)
    )


def backbone_contract(model: str | Path = DEFAULT_BACKBONE, **overrides) -> BackboneContract:
    """Resolve a backbone name or ONNX path to its :class:`BackboneContract`.

    Parameters
    ----------
    model : str or Path
        A shipped backbone name (:func:`shipped_backbones`) or a path to an ``.onnx`` file.
        For a path, a sidecar ``<same stem>.json`` beside it is read if present; it holds one
        manifest entry::

            {"sha256": "...",                               # optional
             "input": {"mean": [m, m, m], "std": [s, s, s],
                       "size_multiple": 16, "name": "image"},  # size_multiple, name optional
             "output": {"stride": 16, "channels": 1024,
                        "cell_centre_offset_px": 0.0, "name": "features"}}  # last two optional
    **overrides
        Any :class:`BackboneContract` field except ``name``/``path`` (``mean``, ``std``,
        ``stride``, ``channels``, ``size_multiple``, ``cell_centre_offset``, ``sha256``,
        ``input_name``, ``output_name``); takes precedence over the manifest or sidecar.
        ``size_multiple`` defaults to ``stride``.

    Returns
    -------
    BackboneContract

    Raises
    ------
    InputError
        Unknown backbone name, missing file, unknown override, or a required field
        (mean, std, stride, channels) missing or invalid.
    BackboneError
        The manifest or sidecar cannot be read.
    """
    allowed = {"mean", "std", "stride", "channels", "size_multiple", "cell_centre_offset", "sha256",
               "input_name", "output_name"}
    unknown = sorted(set(overrides) - allowed)
    if unknown:
        raise InputError(f"unknown backbone parameter(s) {unknown}; allowed: {sorted(allowed)}")
    overrides = {key: value for key, value in overrides.items() if value is not None}

    if _looks_like_path(model):
        path = Path(model).expanduser()
        if not path.is_file():
            raise InputError(f"ONNX model file not found: {path}")
        sidecar = path.with_suffix(".json")
        fields = _entry_fields(_read_json(sidecar, "backbone sidecar"), str(sidecar)) if sidecar.is_file() else {}
        name = path.name
    elif isinstance(model, str):
        backbones = _manifest()
        if model not in backbones:
            raise InputError(f"unknown backbone {model!r}; shipped: {', '.join(sorted(backbones))} "
                             "(or pass a path to an .onnx file)")
        entry = backbones[model]
        fields = _entry_fields(entry, f"{MANIFEST_PATH} [{model}]")
        if "sha256" not in fields or "file" not in entry:
            raise BackboneError(f"backbone manifest entry {model!r} lacks 'file' or 'sha256'")
        path = BACKBONE_DIR / entry["file"]
        name = model
    else:
        raise InputError(f"model must be a backbone name or a path to an .onnx file, got {model!r}")

    fields.update(overrides)
    return _validated_contract(name, path, fields)


def _validated_contract(name: str, path: Path, fields: dict) -> BackboneContract:
    missing = [key for key in ("mean", "std", "stride", "channels") if key not in fields]
    if missing:
        raise InputError(
            f"backbone {name}: missing {', '.join(missing)} (give them as keyword arguments or in a "
            f"sidecar {path.with_suffix('.json').name}, see dcfre.features.deep.backbone_contract)"
        )
    stride = _positive_int(fields["stride"], "stride")
    return BackboneContract(
        name=name,
        path=path,
        sha256=_sha256_string(fields.get("sha256")),
        mean=_triple(fields["mean"], "mean", positive=False),
        std=_triple(fields["std"], "std", positive=True),
        stride=stride,
        channels=_positive_int(fields["channels"], "channels"),
        size_multiple=_positive_int(fields.get("size_multiple", stride), "size_multiple"),
        cell_centre_offset=_finite(fields.get("cell_centre_offset", 0.0), "cell_centre_offset"),
        input_name=fields.get("input_name"),
        output_name=fields.get("output_name"),
    )


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise InputError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _finite(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise InputError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _triple(value, name: str, *, positive: bool) -> tuple[float, float, float]:
    try:
        array = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be 1 or 3 numbers, got {value!r}") from None
    if array.size == 1:
        array = np.repeat(array, 3)
    if array.size != 3 or not np.all(np.isfinite(array)) or (positive and np.any(array <= 0)):
        requirement = "positive finite" if positive else "finite"
        raise InputError(f"{name} must be 1 or 3 {requirement} numbers, got {value!r}")
    return tuple(float(v) for v in array)


def _sha256_string(value) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 64 or any(c not in "0123456789abcdefABCDEF" for c in value):
        raise InputError(f"sha256 must be 64 hex digits, got {value!r}")
    return value.lower()


# ------------------------------------------------------------------------------------------------
# Extractor
# ------------------------------------------------------------------------------------------------


#: onnxruntime sessions of this process, by :func:`_session_key`. Building one reads, hashes and
#: optimizes the graph (~0.1-0.5 s); every extractor of the same file and thread count shares it
#: (``dcfre eval`` builds one tracker per sequence in each worker). ``InferenceSession.run`` is
#: thread-safe and a session is not modified after creation.
_SESSIONS: dict[tuple, object] = {}
_SESSIONS_LOCK = threading.Lock()


def _session_key(contract: BackboneContract, threads: int) -> tuple | None:
    """The file (path, SHA-256, modification time, size) and thread count; None if the file is unreadable."""
    try:
        stat = contract.path.stat()
    except OSError:
        return None  # _create_session reports it
    return (str(contract.path.resolve()), contract.sha256, stat.st_mtime_ns, stat.st_size, threads)


class DeepFeatureExtractor:
    """Stride-16 CNN features of RGB patches, computed by onnxruntime on the CPU.

    The ONNX file is read, checked against its SHA-256 and compiled into an onnxruntime session
    on first use (:meth:`load` or the first call), not at construction. The extractor can be
    pickled (the session is rebuilt in the receiving process).

    Parameters
    ----------
    model : str or Path
        Shipped backbone name (default ``"efficientnet-lite0"``, see :func:`shipped_backbones`)
        or a path to a user ``.onnx`` file (contract from its sidecar JSON and/or ``contract``).
    threads : int
        onnxruntime intra-op threads (default 1: the tracker parallelizes across sequences).
    **contract
        Overrides of the backbone contract, see :func:`backbone_contract`.

    Examples
    --------
    >>> extractor = DeepFeatureExtractor("efficientnet-lite0")
    >>> extractor(np.zeros((2, 288, 288, 3), np.uint8)).shape
    (2, 18, 18, 112)
    """

    def __init__(self, model: str | Path = DEFAULT_BACKBONE, threads: int = 1, **contract):
        self._threads = _positive_int(threads, "threads")
        self._contract = backbone_contract(model, **contract)
        self._session = None
        self._lock = threading.Lock()
        scale = 1.0 / np.asarray(self._contract.std, dtype=np.float32)
        self._scale = scale
        self._offset = -np.asarray(self._contract.mean, dtype=np.float32) * scale

    # -- properties -------------------------------------------------------------------------------

    @property
    def contract(self) -> BackboneContract:
        """The resolved input/output contract."""
        return self._contract

    @property
    def stride(self) -> int:
        """Output stride in pixels (16)."""
        return self._contract.stride

    @property
    def channels(self) -> int:
        """Number of feature channels C."""
        return self._contract.channels

    @property
    def size_multiple(self) -> int:
        """Patch height and width must be multiples of this."""
        return self._contract.size_multiple

    @property
    def threads(self) -> int:
        """onnxruntime intra-op threads."""
        return self._threads

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """Feature-map size (H / stride, W / stride) of an (H, W) patch; InputError if not allowed."""
        self._check_size(height, width)
        return height // self.stride, width // self.stride

    # -- loading ----------------------------------------------------------------------------------

    def load(self) -> None:
        """Read, checksum and compile the model now (otherwise done by the first call).

        Raises
        ------
        BackboneError
            The file is missing or unreadable, its SHA-256 differs from the manifest (corrupted
            or replaced), onnxruntime cannot load it, or its input/output names or channel count
            disagree with the contract.
        """
        with self._lock:
            if self._session is None:
                self._session = self._shared_session()

    def _shared_session(self):
        """This process's session for the same file and thread count, created on the first request."""
        key = _session_key(self._contract, self._threads)
        with _SESSIONS_LOCK:
            session = _SESSIONS.get(key) if key is not None else None
        if session is None:
            session = self._create_session()
            if key is not None:
                with _SESSIONS_LOCK:
                    session = _SESSIONS.setdefault(key, session)
        self._bind_names(session)
        return session

    def _create_session(self):
        import onnxruntime  # imported here: keeps ``import dcfre.features.deep`` cheap

        contract = self._contract
        try:
            data = contract.path.read_bytes()
        except OSError as error:
            raise BackboneError(f"cannot read backbone {contract.path}: {error.strerror or error}") from None
        if contract.sha256 is not None:
            actual = hashlib.sha256(data).hexdigest()
            if actual != contract.sha256:
                raise BackboneError(
                    f"backbone {contract.path} is corrupted or was replaced: SHA-256 {actual[:16]}... "
                    f"differs from the expected {contract.sha256[:16]}... (reinstall dcfre or re-export it)"
                )
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self._threads
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only
        try:
            session = onnxruntime.InferenceSession(data, sess_options=options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own exception types
            raise BackboneError(f"onnxruntime cannot load backbone {contract.path}: {error}") from None
        return session

    def _bind_names(self, session) -> None:
        """Fill in default input/output names and check names and channels against the graph."""
        contract = self._contract
        inputs = {node.name: node for node in session.get_inputs()}
        outputs = {node.name: node for node in session.get_outputs()}
        input_name = contract.input_name or session.get_inputs()[0].name
        output_name = contract.output_name or session.get_outputs()[0].name
        if input_name not in inputs or output_name not in outputs:
            raise BackboneError(
                f"backbone {contract.path}: graph has inputs {sorted(inputs)} and outputs "
                f"{sorted(outputs)}, contract expects {input_name!r} -> {output_name!r}"
            )
        graph_channels = outputs[output_name].shape[1] if len(outputs[output_name].shape) == 4 else None
        if isinstance(graph_channels, int) and graph_channels != contract.channels:
            raise BackboneError(
                f"backbone {contract.path}: graph outputs {graph_channels} channels, contract says "
                f"{contract.channels}"
            )
        self._contract = replace(contract, input_name=input_name, output_name=output_name)

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_session"] = None
        del state["_lock"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    # -- extraction -------------------------------------------------------------------------------

    def __call__(self, patches) -> np.ndarray:
        """Deep features of a batch of RGB patches.

        Parameters
        ----------
        patches : ndarray, shape (N, H, W, 3), dtype uint8 or float32
            RGB pixel values in [0, 255] (other real dtypes are converted to float32; values are
            not rescaled). H and W must be multiples of :attr:`size_multiple` (16).

        Returns
        -------
        ndarray, shape (N, H / 16, W / 16, C), dtype float32
            Feature cell (i, j) is centred on patch pixel (16 i + o, 16 j + o) with
            o = ``contract.cell_centre_offset`` (15.0 for EfficientNet-Lite).

        Raises
        ------
        InputError
            Wrong rank, channel count, dtype, or a height/width that is not a positive multiple
            of :attr:`size_multiple`.
        BackboneError
            On first use, if the model file is missing, corrupted or unloadable.
        """
        batch = self._validated(patches)
        if self._session is None:
            self.load()
        from dcfre.features._deep_kernels import normalize_to_nchw  # numba: imported on first use, like onnxruntime

        nchw = np.empty((batch.shape[0], 3, batch.shape[1], batch.shape[2]), dtype=np.float32)
        normalize_to_nchw(np.ascontiguousarray(batch), self._scale, self._offset, nchw)  # ImageNet mean/std
        contract = self._contract
        features = self._session.run([contract.output_name], {contract.input_name: nchw})[0]
        return np.ascontiguousarray(features.transpose(0, 2, 3, 1), dtype=np.float32)

    def _validated(self, patches) -> np.ndarray:
        array = np.asarray(patches)
        if array.dtype == np.bool_ or not (
            np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
        ):
            raise InputError(f"patches must be a real-valued array (uint8 or float32), got dtype {array.dtype}")
        if array.ndim != 4 or array.shape[3] != 3:
            raise InputError(f"patches must have shape (N, H, W, 3) (RGB), got shape {array.shape}")
        if array.shape[0] == 0:
            raise InputError("patches holds no patch (N = 0)")
        self._check_size(array.shape[1], array.shape[2])
        if array.dtype not in (np.uint8, np.float32):
            array = array.astype(np.float32)
        return array

    def _check_size(self, height, width) -> None:
        multiple = self.size_multiple
        for value, name in ((height, "height"), (width, "width")):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < multiple or value % multiple:
                raise InputError(
                    f"patch {name} must be a positive multiple of {multiple} for backbone "
                    f"{self._contract.name}, got {value!r}"
                )
