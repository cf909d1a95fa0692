"""The engine and the session factory: one session per request or job, closed after it."""

import os
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker


def database_url() -> str:
    """DATABASE_URL; postgresql:// means psycopg 3 here (SQLAlchemy's default is psycopg2)."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("set DATABASE_URL, e.g. postgresql://app@localhost/app")
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


engine = create_engine(
    database_url(),
    pool_pre_ping=True,  # a connection the server closed is replaced, not handed out
)
SessionLocal = sessionmaker(engine, expire_on_commit=False)


def get_session() -> Iterator[Session]:
    with SessionLocal() as session:
        yield session
