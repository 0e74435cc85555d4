"""ONNX Runtime sessions: execution providers chosen TensorRT → CUDA → CPU by what is installed, IO binding.

`onnxruntime` (CPU) is the default dependency; installing the `gpu` extra (`onnxruntime-gpu`) makes the
CUDA and TensorRT providers available and this factory picks them up with no config change. Sessions
are cached per (model, runtime config), so analysers of many feeds share one session and the worker can
batch their frames into one inference call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import onnxruntime as ort
from pydantic import BaseModel, ConfigDict, Field

from detectors.errors import ModelError

log = logging.getLogger(__name__)

ProviderName = Literal["tensorrt", "cuda", "cpu"]
PROVIDER_IDS: dict[str, str] = {
    "tensorrt": "TensorrtExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "cpu": "CPUExecutionProvider",
}
DEFAULT_ORDER: tuple[ProviderName, ...] = ("tensorrt", "cuda", "cpu")


class OnnxRuntimeConfig(BaseModel):
    """Which providers to try, in order (None: TensorRT → CUDA → CPU), and their options."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    providers: tuple[ProviderName, ...] | None = None
    device_id: int = Field(default=0, ge=0)
    intra_op_threads: int | None = Field(default=None, ge=1, description="CPU threads (None: runtime default)")
    tensorrt_fp16: bool = True
    tensorrt_cache: Path | None = Field(default=None, description="engine cache directory (TensorRT)")
    io_binding: bool = True


def choose_providers(config: OnnxRuntimeConfig, available: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
    """The providers to request, with options: the preferred order filtered by what is installed."""
    wanted = config.providers or DEFAULT_ORDER
    chosen: list[tuple[str, dict[str, Any]]] = []
    for name in wanted:
        provider = PROVIDER_IDS[name]
        if provider not in available:
            if config.providers is not None:
                log.warning("ONNX Runtime provider %s requested but not installed", provider)
            continue
        options: dict[str, Any] = {}
        if name == "tensorrt":
            options = {"device_id": config.device_id, "trt_fp16_enable": config.tensorrt_fp16}
            if config.tensorrt_cache is not None:
                options |= {"trt_engine_cache_enable": True, "trt_engine_cache_path": str(config.tensorrt_cache)}
        elif name == "cuda":
            options = {"device_id": config.device_id}
        chosen.append((provider, options))
    if config.providers is None and all(p != PROVIDER_IDS["cpu"] for p, _ in chosen):
        chosen.append((PROVIDER_IDS["cpu"], {}))  # every onnxruntime build has it
    if not chosen:
        raise ModelError(f"none of the requested ONNX Runtime providers {list(wanted)} is installed "
                         f"(installed: {list(available)})")
    return chosen


@dataclass
class OnnxSession:
    """One loaded model: its session, the provider actually used, and a batched `run`."""

    path: Path
    session: ort.InferenceSession
    provider: str
    input_name: str
    input_shape: list[int | str | None]
    output_names: list[str]
    io_binding: bool
    device_id: int = 0

    @property
    def fixed_batch(self) -> int | None:
        """The batch size the model insists on, or None when the batch axis is dynamic."""
        first = self.input_shape[0] if self.input_shape else None
        return first if isinstance(first, int) and first > 0 else None

    @property
    def metadata(self) -> dict[str, str]:
        """The model's custom metadata (e.g. class names of Ultralytics exports)."""
        return dict(self.session.get_modelmeta().custom_metadata_map)

    def run(self, batch: np.ndarray) -> list[np.ndarray]:
        """Run one (N, C, H, W) float32 batch; splits it when the model has a fixed batch size."""
        fixed = self.fixed_batch
        if fixed is not None and batch.shape[0] != fixed:
            parts = [self.run(batch[i:i + fixed]) for i in range(0, batch.shape[0], fixed)]
            return [np.concatenate([p[k] for p in parts]) for k in range(len(self.output_names))]
        if not self.io_binding:
            return [np.asarray(o) for o in self.session.run(self.output_names, {self.input_name: batch})]
        binding = self.session.io_binding()
        device = "cuda" if self.provider in (PROVIDER_IDS["cuda"], PROVIDER_IDS["tensorrt"]) else "cpu"
        # with IO binding the input is copied to the device once and outputs stay there until we ask
        value = ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(batch), device, self.device_id)
        binding.bind_ortvalue_input(self.input_name, value)
        for name in self.output_names:
            binding.bind_output(name, device, self.device_id)
        self.session.run_with_iobinding(binding)
        return [np.asarray(o) for o in binding.copy_outputs_to_cpu()]


_cache: dict[tuple[str, OnnxRuntimeConfig], OnnxSession] = {}
_lock = threading.Lock()


def create_session(path: Path, config: OnnxRuntimeConfig | None = None) -> OnnxSession:
    """Load (or reuse) a session for `path`; raises `ModelError` naming the file on failure."""
    config = config or OnnxRuntimeConfig()
    key = (str(Path(path).resolve()), config)
    with _lock:
        if key in _cache:
            return _cache[key]
        if not Path(path).is_file():
            raise ModelError(f"ONNX model not found: {path}")
        providers = choose_providers(config, ort.get_available_providers())
        options = ort.SessionOptions()
        if config.intra_op_threads is not None:
            options.intra_op_num_threads = config.intra_op_threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            session = ort.InferenceSession(str(path), sess_options=options, providers=providers)
        except Exception as exc:
            raise ModelError(f"cannot load ONNX model {path}: {exc}") from exc
        used = session.get_providers()[0]
        inputs = session.get_inputs()
        if len(inputs) != 1:
            raise ModelError(f"{path}: expected one image input, found {[i.name for i in inputs]}")
        loaded = OnnxSession(
            path=Path(path), session=session, provider=used, input_name=inputs[0].name,
            input_shape=list(inputs[0].shape), output_names=[o.name for o in session.get_outputs()],
            io_binding=config.io_binding, device_id=config.device_id,
        )
        log.info("loaded %s on %s", path, used)
        _cache[key] = loaded
        return loaded
