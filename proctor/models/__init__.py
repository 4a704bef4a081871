"""Model files: what they are (manifest), how they are provisioned, how they are loaded."""
