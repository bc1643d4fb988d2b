"""initiative full-text search (written by hand)

SQLite: an FTS5 table ``search_initiative`` (accents and case folded by the tokenizer) filled
from ``initiative`` and kept in sync by triggers. PostgreSQL: the ``unaccent`` extension, a
``search_french`` configuration (french with unaccent before stemming) and a GIN expression
index. Every object is named ``search_*``, so autogenerate ignores them (app/db/search_objects.py).

Note for later SQLite migrations: a batch ALTER that recreates ``initiative`` drops its triggers;
such a migration must create them again (see ``SQLITE_TRIGGERS``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 02:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIELDS = "title, description, general_interest"

SQLITE_TABLE = (
    "CREATE VIRTUAL TABLE search_initiative USING fts5("
    'title, description, general_interest, tokenize="unicode61 remove_diacritics 2")'
)
SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER search_initiative_insert AFTER INSERT ON initiative BEGIN
        INSERT INTO search_initiative (rowid, {FIELDS})
        VALUES (new.id, new.title, new.description, new.general_interest);
    END""",
    f"""CREATE TRIGGER search_initiative_update AFTER UPDATE OF {FIELDS} ON initiative BEGIN
        DELETE FROM search_initiative WHERE rowid = old.id;
        INSERT INTO search_initiative (rowid, {FIELDS})
        VALUES (new.id, new.title, new.description, new.general_interest);
    END""",
    """CREATE TRIGGER search_initiative_delete AFTER DELETE ON initiative BEGIN
        DELETE FROM search_initiative WHERE rowid = old.id;
    END""",
)

PG_VECTOR = "to_tsvector('search_french'::regconfig, title || ' ' || description || ' ' || general_interest)"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(SQLITE_TABLE)
        op.execute(f"INSERT INTO search_initiative (rowid, {FIELDS}) SELECT id, {FIELDS} FROM initiative")
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("CREATE TEXT SEARCH CONFIGURATION search_french (COPY = pg_catalog.french)")
    op.execute(
        "ALTER TEXT SEARCH CONFIGURATION search_french "
        "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem"
    )
    op.execute(f"CREATE INDEX search_initiative_idx ON initiative USING gin ({PG_VECTOR})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("search_initiative_insert", "search_initiative_update", "search_initiative_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS search_initiative")
        return
    op.execute("DROP INDEX IF EXISTS search_initiative_idx")
    op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS search_french")
    op.execute("DROP EXTENSION IF EXISTS unaccent")
