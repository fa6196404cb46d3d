"""Database settings that make SQLite and PostgreSQL behave alike under concurrent writers."""
from __future__ import annotations

import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine


def is_sqlite(app_or_url) -> bool:
    url = app_or_url if isinstance(app_or_url, str) else app_or_url.config[
        "SQLALCHEMY_DATABASE_URI"]
    return url.startswith("sqlite")


def init_database(app) -> None:
    """SQLite: WAL, a busy timeout, foreign keys, and writers that take the write lock at
    BEGIN (``BEGIN IMMEDIATE``) so a claim cannot interleave with another's."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("postgres://"):
        url = app.config["SQLALCHEMY_DATABASE_URI"] = url.replace("postgres://",
                                                                  "postgresql+psycopg://", 1)
    if url.startswith("postgresql://"):
        app.config["SQLALCHEMY_DATABASE_URI"] = url.replace("postgresql://",
                                                            "postgresql+psycopg://", 1)
    options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    if is_sqlite(url):
        options.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
    else:
        options.setdefault("pool_pre_ping", True)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin_immediate(conn):
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
