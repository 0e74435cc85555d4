"""Non-maximum suppression on normalised boxes (numpy, class-aware)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from detectors.events import Box


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of boxes given as (N, 4) and (M, 4) arrays of x0, y0, x1, y1."""
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def nms_indices(corners: np.ndarray, scores: np.ndarray, classes: np.ndarray, iou: float) -> list[int]:
    """Indices kept by greedy class-aware NMS, best score first."""
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    suppressed = np.zeros(len(scores), dtype=bool)
    overlaps = iou_matrix(corners, corners) if len(scores) else np.zeros((0, 0))
    for i in order:
        if suppressed[i]:
            continue
        keep.append(int(i))
        suppressed |= (overlaps[i] > iou) & (classes == classes[i])
    return keep


def nms(boxes: Sequence[Box], iou: float) -> list[Box]:
    """Greedy NMS over `Box`es, per label."""
    if not boxes:
        return []
    corners = np.array([[b.x, b.y, b.x + b.w, b.y + b.h] for b in boxes], dtype=np.float64)
    scores = np.array([b.score for b in boxes])
    labels = {label: i for i, label in enumerate(sorted({b.label for b in boxes}))}
    classes = np.array([labels[b.label] for b in boxes])
    return [boxes[i] for i in nms_indices(corners, scores, classes, iou)]
