"""Pre- and post-processing of YOLO-family and NanoDet-style detectors: letterbox, decode, NMS.

Output formats (`output_format` in the analyser config):
- `yolov8`: (N, 4 + C, A) — centre x, centre y, width, height, then C class scores (Ultralytics v8/v11);
  a (N, A, 4 + C) tensor is accepted too.
- `yolov5`: (N, A, 5 + C) — centre x, centre y, width, height, objectness, C class scores (v5/v7).
- `nanodet`: (N, A, C + 4 * (reg_max + 1)) — class scores then per-side distance distributions over
  anchor points of strides 8, 16, 32, 64 (NanoDet-Plus export), decoded with the distribution's mean.
Box coordinates are in letterboxed input pixels and are mapped back to normalised frame coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from detectors.errors import ModelError
from detectors.nms import nms_indices

OutputFormat = Literal["yolov8", "yolov5", "nanodet"]


@dataclass(frozen=True)
class Letterbox:
    """How a frame was fitted into the model input: scale and padding, to undo on the boxes."""

    scale: float
    pad_x: float
    pad_y: float
    width: int
    height: int


def letterbox(frame: np.ndarray, size: tuple[int, int], colour: int = 114) -> tuple[np.ndarray, Letterbox]:
    """Resize keeping the aspect ratio and pad to `size` (w, h); returns the image and the transform."""
    height, width = frame.shape[:2]
    target_w, target_h = size
    scale = min(target_w / width, target_h / height)
    new_w, new_h = round(width * scale), round(height * scale)
    resized = cv2.resize(frame, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    pad_x, pad_y = (target_w - new_w) / 2, (target_h - new_h) / 2
    top, left = int(round(pad_y - 0.1)), int(round(pad_x - 0.1))
    out = cv2.copyMakeBorder(resized, top, target_h - new_h - top, left, target_w - new_w - left,
                             cv2.BORDER_CONSTANT, value=(colour, colour, colour))
    return out, Letterbox(scale, left, top, width, height)


def to_tensor(images: list[np.ndarray], rgb: bool = True) -> np.ndarray:
    """Stack BGR uint8 images into an (N, 3, H, W) float32 batch scaled to 0..1."""
    batch = np.stack(images)
    if rgb:
        batch = batch[..., ::-1]
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2), dtype=np.float32) / np.float32(255.0)


@dataclass(frozen=True)
class Decoded:
    """Detections of one image: (K, 4) normalised x0, y0, x1, y1; (K,) scores; (K,) class ids."""

    corners: np.ndarray
    scores: np.ndarray
    classes: np.ndarray


def _candidates(output: np.ndarray, fmt: OutputFormat, classes: int, input_size: tuple[int, int],
                reg_max: int) -> tuple[np.ndarray, np.ndarray]:
    """(A, 4) x0, y0, x1, y1 in input pixels and (A, C) class scores, for one image."""
    if fmt == "yolov8":
        if output.shape[0] == 4 + classes and output.shape[1] != 4 + classes:
            output = output.T
        if output.shape[1] != 4 + classes:
            raise ModelError(f"yolov8 output {output.shape} does not match {classes} classes")
        boxes, scores = output[:, :4], output[:, 4:]
    elif fmt == "yolov5":
        if output.shape[1] != 5 + classes:
            raise ModelError(f"yolov5 output {output.shape} does not match {classes} classes")
        boxes, scores = output[:, :4], output[:, 5:] * output[:, 4:5]
    else:
        return _nanodet(output, classes, input_size, reg_max)
    cx, cy, w, h = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1), scores


def _nanodet(output: np.ndarray, classes: int, input_size: tuple[int, int],
             reg_max: int) -> tuple[np.ndarray, np.ndarray]:
    bins = reg_max + 1
    if output.shape[1] != classes + 4 * bins:
        raise ModelError(f"nanodet output {output.shape} does not match {classes} classes, reg_max {reg_max}")
    width, height = input_size
    centres = []
    for stride in (8, 16, 32, 64):
        ys, xs = np.mgrid[0:int(np.ceil(height / stride)), 0:int(np.ceil(width / stride))]
        centres.append(np.stack([xs.ravel() * stride, ys.ravel() * stride, np.full(xs.size, stride)], axis=1))
    points = np.concatenate(centres).astype(np.float32)
    if len(points) != output.shape[0]:
        raise ModelError(f"nanodet output has {output.shape[0]} anchors, input {input_size} implies {len(points)}")
    scores = output[:, :classes]
    dist = output[:, classes:].reshape(-1, 4, bins)
    dist = np.exp(dist - dist.max(axis=2, keepdims=True))
    dist /= dist.sum(axis=2, keepdims=True)
    sides = (dist * np.arange(bins, dtype=np.float32)).sum(axis=2) * points[:, 2:3]
    x, y = points[:, 0], points[:, 1]
    return np.stack([x - sides[:, 0], y - sides[:, 1], x + sides[:, 2], y + sides[:, 3]], axis=1), scores


def decode(output: np.ndarray, fmt: OutputFormat, classes: int, transform: Letterbox,
           input_size: tuple[int, int], score_threshold: float, iou: float, max_detections: int = 300,
           reg_max: int = 7) -> Decoded:
    """Decode one image's raw output: best class per anchor, threshold, class-aware NMS, undo letterbox."""
    corners, scores = _candidates(np.asarray(output, dtype=np.float32), fmt, classes, input_size, reg_max)
    best = scores.argmax(axis=1)
    best_score = scores[np.arange(len(best)), best]
    keep = best_score >= score_threshold
    corners, best, best_score = corners[keep], best[keep], best_score[keep]
    chosen = nms_indices(corners, best_score, best, iou)[:max_detections]
    corners, best, best_score = corners[chosen], best[chosen], best_score[chosen]
    corners = (corners - [transform.pad_x, transform.pad_y, transform.pad_x, transform.pad_y]) / transform.scale
    corners = corners / [transform.width, transform.height, transform.width, transform.height]
    return Decoded(np.clip(corners, 0.0, 1.0), best_score, best)
