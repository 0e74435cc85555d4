"""Audio workers: feeds, a shared spectral front end, hand-built detectors, an ONNX classifier, VAD.

Importing the package registers its plugins: the audio detectors in `AUDIO_DETECTORS`, and the audio
feeds and the `audio` analyser in the worker's registries (`detectors.plugins` imports it).
"""

from detectors.audio import plugins  # noqa: F401 - registration side effect
