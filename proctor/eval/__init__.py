"""Accuracy evaluations on the labelled images in ``../shared/eval`` (``python -m proctor.eval``)."""
