"""ASGI entry point: ``uvicorn app:app`` or ``python app.py`` (honours HOST and PORT)."""

from __future__ import annotations

import os

from proctor.api.main import create_app
from proctor.logs import configure_logging
from proctor.settings import get_settings

settings = get_settings()
configure_logging(settings.log_format, settings.log_level)
app = create_app(settings)

if __name__ == "__main__":
    import uvicorn

    uvicorn.run(
        app, host=os.environ.get("HOST", "0.0.0.0"), port=int(os.environ.get("PORT", "7860"))
    )
