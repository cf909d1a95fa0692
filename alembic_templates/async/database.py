"""The async engine and session factory: one session per request or job, closed after it."""

import os
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine


def database_url() -> str:
    """DATABASE_URL; postgresql:// means psycopg 3 here (SQLAlchemy's default is psycopg2)."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("set DATABASE_URL, e.g. postgresql://app@localhost/app")
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


engine = create_async_engine(
    database_url(),
    pool_pre_ping=True,  # a connection the server closed is replaced, not handed out
)
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as session:
        yield session
