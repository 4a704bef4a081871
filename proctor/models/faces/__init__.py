"""Face detection (SCRFD, YuNet) and face embedding (MobileFaceNet, SFace) wrappers."""
