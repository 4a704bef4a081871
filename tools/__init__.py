"""Setup-time and developer tools (model provisioning, benchmarks, builders).

Kept out of the runtime package ``proctor`` on purpose: the runtime image copies only
``app.py`` and ``proctor/``, so nothing here (nor TensorFlow, npm or pip downloads that
these tools drive) can ever be reached from a running service.
"""
