"""PostgreSQL storage for hposampler (``postgresql://user:pass@host:port/db``)."""

__all__ = ["PostgresStorage"]


def __getattr__(name: str) -> object:
    if name == "PostgresStorage":  # psycopg is imported only when a storage is opened
        from .storage import PostgresStorage

        return PostgresStorage
    raise AttributeError(name)
