"""RQ entry points: thin functions that take ids and call the dashboard's services.

Each runs inside an app context that ``FlaskJob`` provides; nothing here builds an app
at import time.
"""
