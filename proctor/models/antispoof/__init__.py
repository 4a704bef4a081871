"""Face presentation-attack (anti-spoofing) model wrappers."""
