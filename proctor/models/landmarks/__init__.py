"""Dense landmarks on each detected face: the 468-point face mesh and the two eyes' iris points.

One small module per model (``facemesh``, ``iris``), the crop geometry they share
(``crops``), the mesh indices the measurements read (``topology``), and the per-face result
several analyzers read (``result``). Coordinates are analysis-image pixels throughout.
"""
