"""ASGI entry point: ``uvicorn app:app`` or ``python app.py`` (honours HOST and PORT)."""

from __future__ import annotations

import os

from proctor.api.main import create_app

app = create_app()

if __name__ == "__main__":
    import uvicorn

    uvicorn.run(
        app, host=os.environ.get("HOST", "0.0.0.0"), port=int(os.environ.get("PORT", "7860"))
    )
