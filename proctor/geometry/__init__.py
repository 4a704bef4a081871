"""Pure geometry on landmarks: head pose, eyes, mouth, distance. No models, no I/O."""
