"""Health checks for process managers and load balancers: readiness (``/readyz``) and
the ``flask worker-health`` command."""
