"""Accuracy evaluations on the labelled images in ``../shared/eval``.

Run with ``python -m proctor.eval NAME``.
"""
