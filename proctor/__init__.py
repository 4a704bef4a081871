"""proctor: an exam-proctoring service that turns one webcam frame into one JSON verdict."""

__version__ = "0.1.0"
