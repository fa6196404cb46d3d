"""Local stand-ins for the fulfillment houses' APIs.

Each module is a small WSGI app that answers like the real house (auth, validation,
duplicates, rate limits, error bodies) so an adapter can be exercised without an account:
``create_app(**options)`` builds one, ``simulators.common.serve(app)`` runs it on
127.0.0.1 over real HTTP, and ``python -m simulators.shipstation --port 8101`` (likewise
``shipbob``, ``shipmonk``, ``amazon_mcf``) runs one by hand. Test hooks live under
``/_control/``.
"""
