# Two stages: the build stage installs Node/npm and a throwaway TensorFlow venv to provision
# and convert the models with tools/; the runtime image gets only the service venv, models/,
# app.py and proctor/ (never tools/: setup code has no business in a running service).
FROM python:3.11-slim AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt ./
RUN python -m venv /app/.venv && /app/.venv/bin/pip install --no-cache-dir -r requirements.txt
COPY proctor ./proctor
COPY tools ./tools
# PROCTOR_MODEL_MIRROR may point at a folder added to the build context (see README).
ARG PROCTOR_MODEL_MIRROR=
ENV PROCTOR_MODEL_MIRROR=${PROCTOR_MODEL_MIRROR}
RUN /app/.venv/bin/python -m tools.models fetch --build-env /tmp/build-venv \
    && rm -rf /tmp/build-venv /tmp/build-venv.lock /root/.npm /root/.cache

FROM python:3.11-slim
RUN useradd --create-home --uid 1000 proctor
WORKDIR /app
COPY --from=build /app/.venv /app/.venv
COPY --from=build /app/models /app/models
COPY app.py ./
COPY proctor ./proctor
RUN mkdir -p /app/student_db && chown -R proctor /app/student_db
USER proctor
ENV PATH=/app/.venv/bin:$PATH HOST=0.0.0.0 PORT=7860
EXPOSE 7860
VOLUME ["/app/student_db"]
CMD ["sh", "-c", "uvicorn app:app --host \"$HOST\" --port \"$PORT\""]
