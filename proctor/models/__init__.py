"""The runtime half of the models: the pinned manifest, the registry that verifies and loads
files once per process, the one ``Detections`` core, and one wrapper per model (faces,
objects, face landmarks). Fetching and converting models is a setup job: see ``tools/``."""
