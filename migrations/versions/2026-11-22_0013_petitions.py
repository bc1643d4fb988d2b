"""petitions: petitions and legal requests, signatures, paper batches, counts, answers

New tables only: ``initiative`` is not altered (a batch ALTER on SQLite would drop the
search_initiative_* triggers of 0003).

Petitions join the French full-text search (written by hand, like 0003): on SQLite an FTS5 table
``search_petition`` kept in sync by triggers, on PostgreSQL a GIN expression index
``search_petition_idx`` using 0003's ``search_french`` configuration. A later batch ALTER of
``petition`` on SQLite must create the triggers again (``SQLITE_TRIGGERS``).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22 07:06:48.460624
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH_FIELDS = "title, request, body"
SQLITE_TABLE = (
    'CREATE VIRTUAL TABLE search_petition USING fts5(title, request, body, tokenize="unicode61 remove_diacritics 2")'
)
SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER search_petition_insert AFTER INSERT ON petition BEGIN
        INSERT INTO search_petition (rowid, {SEARCH_FIELDS}) VALUES (new.id, new.title, new.request, new.body);
    END""",
    f"""CREATE TRIGGER search_petition_update AFTER UPDATE OF {SEARCH_FIELDS} ON petition BEGIN
        DELETE FROM search_petition WHERE rowid = old.id;
        INSERT INTO search_petition (rowid, {SEARCH_FIELDS}) VALUES (new.id, new.title, new.request, new.body);
    END""",
    """CREATE TRIGGER search_petition_delete AFTER DELETE ON petition BEGIN
        DELETE FROM search_petition WHERE rowid = old.id;
    END""",
)
PG_VECTOR = "to_tsvector('search_french'::regconfig, title || ' ' || request || ' ' || body)"


def _create_search() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(SQLITE_TABLE)
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
        return
    op.execute(f"CREATE INDEX search_petition_idx ON petition USING gin ({PG_VECTOR})")


def _drop_search() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("search_petition_insert", "search_petition_update", "search_petition_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS search_petition")
        return
    op.execute("DROP INDEX IF EXISTS search_petition_idx")


def upgrade() -> None:
    op.create_table(
        "petition",
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("legal_purpose", sa.String(length=16), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("neighbourhood_id", sa.Integer(), nullable=True),
        sa.Column("theme_id", sa.Integer(), nullable=True),
        sa.Column("author_person_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("submitted_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rejected_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rejection_reason", sa.String(length=32), nullable=False),
        sa.Column("rejection_comment", sa.Text(), nullable=False),
        sa.Column("opened_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closes_on", sa.Date(), nullable=True),
        sa.Column("closed_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answer_threshold", sa.Integer(), nullable=False),
        sa.Column("council_threshold", sa.Integer(), nullable=False),
        sa.Column("threshold_basis", sa.String(length=8), nullable=False),
        sa.Column("answer_threshold_reached_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("council_threshold_reached_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answer_due_on", sa.Date(), nullable=True),
        sa.Column("milestones_told", sa.Integer(), nullable=False),
        sa.Column("legal_stage", sa.String(length=24), nullable=True),
        sa.Column("electors_frozen", sa.Integer(), nullable=True),
        sa.Column("received_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("council_sitting_id", sa.Integer(), nullable=True),
        sa.Column("council_decision", sa.Text(), nullable=False),
        sa.Column("from_initiative_id", sa.Integer(), nullable=True),
        sa.Column("converted_initiative_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('civic', 'legal')", name=op.f("ck_petition_kind_known")),
        sa.ForeignKeyConstraint(
            ["author_person_id"], ["person.id"], name=op.f("fk_petition_author_person_id_person"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["converted_initiative_id"],
            ["initiative.id"],
            name=op.f("fk_petition_converted_initiative_id_initiative"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["council_sitting_id"],
            ["council_sitting.id"],
            name=op.f("fk_petition_council_sitting_id_council_sitting"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["from_initiative_id"],
            ["initiative.id"],
            name=op.f("fk_petition_from_initiative_id_initiative"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["neighbourhood_id"],
            ["neighbourhood.id"],
            name=op.f("fk_petition_neighbourhood_id_neighbourhood"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"], ["territory.id"], name=op.f("fk_petition_territory_id_territory"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"], ["theme.id"], name=op.f("fk_petition_theme_id_theme"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_petition")),
        sa.UniqueConstraint("public_id", name=op.f("uq_petition_public_id")),
    )
    with op.batch_alter_table("petition", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_petition_author_person_id"), ["author_person_id"], unique=False)
        batch_op.create_index("ix_petition_list", ["territory_id", "state", "opened_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_petition_territory_id"), ["territory_id"], unique=False)

    op.create_table(
        "petition_answer",
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("petition_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("drafted_by_person_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_by_person_id", sa.Integer(), nullable=True),
        sa.Column("authority", sa.String(length=200), nullable=False),
        sa.Column("transmitted_on", sa.Date(), nullable=True),
        sa.Column("authority_reply", sa.Text(), nullable=False),
        sa.Column("authority_reply_on", sa.Date(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["drafted_by_person_id"],
            ["person.id"],
            name=op.f("fk_petition_answer_drafted_by_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["petition_id"], ["petition.id"], name=op.f("fk_petition_answer_petition_id_petition"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["published_by_person_id"],
            ["person.id"],
            name=op.f("fk_petition_answer_published_by_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territory.id"],
            name=op.f("fk_petition_answer_territory_id_territory"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_petition_answer")),
        sa.UniqueConstraint("petition_id", name=op.f("uq_petition_answer_petition_id")),
        sa.UniqueConstraint("public_id", name=op.f("uq_petition_answer_public_id")),
    )
    with op.batch_alter_table("petition_answer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_petition_answer_territory_id"), ["territory_id"], unique=False)

    op.create_table(
        "petition_count",
        sa.Column("petition_id", sa.Integer(), nullable=False),
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("town", sa.Integer(), nullable=False),
        sa.Column("flagged", sa.Integer(), nullable=False),
        sa.Column("computed_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["petition_id"], ["petition.id"], name=op.f("fk_petition_count_petition_id_petition"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territory.id"],
            name=op.f("fk_petition_count_territory_id_territory"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("petition_id", name=op.f("pk_petition_count")),
    )
    with op.batch_alter_table("petition_count", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_petition_count_territory_id"), ["territory_id"], unique=False)

    op.create_table(
        "petition_paper_batch",
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("petition_id", sa.Integer(), nullable=False),
        sa.Column("signatures", sa.Integer(), nullable=False),
        sa.Column("town_signatures", sa.Integer(), nullable=False),
        sa.Column("sheet", sa.String(length=60), nullable=False),
        sa.Column("entered_by_person_id", sa.Integer(), nullable=True),
        sa.Column("counted_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("invalidated_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("invalid_reason", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("signatures > 0", name=op.f("ck_petition_paper_batch_signatures_positive")),
        sa.ForeignKeyConstraint(
            ["entered_by_person_id"],
            ["person.id"],
            name=op.f("fk_petition_paper_batch_entered_by_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["petition_id"],
            ["petition.id"],
            name=op.f("fk_petition_paper_batch_petition_id_petition"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territory.id"],
            name=op.f("fk_petition_paper_batch_territory_id_territory"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_petition_paper_batch")),
        sa.UniqueConstraint("public_id", name=op.f("uq_petition_paper_batch_public_id")),
    )
    with op.batch_alter_table("petition_paper_batch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_petition_paper_batch_petition_id"), ["petition_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_petition_paper_batch_territory_id"), ["territory_id"], unique=False)

    op.create_table(
        "petition_signature",
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("petition_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("name_key", sa.String(length=120), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("email_key", sa.String(length=254), nullable=True),
        sa.Column("email_slot", sa.Integer(), nullable=True),
        sa.Column("postcode", sa.String(length=10), nullable=False),
        sa.Column("relation", sa.String(length=8), nullable=False),
        sa.Column("show_name", sa.Boolean(), nullable=False),
        sa.Column("notify", sa.Boolean(), nullable=False),
        sa.Column("invite_if_project", sa.Boolean(), nullable=False),
        sa.Column("confirm_token_hash", sa.String(length=64), nullable=True),
        sa.Column("notices_sent", sa.Integer(), nullable=False),
        sa.Column("last_notice_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("counted_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("invalidated_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("invalid_reason", sa.Text(), nullable=False),
        sa.Column("flagged_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("released_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("source_hash", sa.String(length=64), nullable=False),
        sa.Column("paper_sheet", sa.String(length=60), nullable=False),
        sa.Column("entered_by_person_id", sa.Integer(), nullable=True),
        sa.Column("surname", sa.String(length=120), nullable=False),
        sa.Column("first_names", sa.String(length=200), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("roll_status", sa.String(length=8), nullable=True),
        sa.Column("roll_reason", sa.Text(), nullable=False),
        sa.Column("roll_checked_by_person_id", sa.Integer(), nullable=True),
        sa.Column("roll_checked_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("erased_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "email_slot IS NULL OR email_slot IN (1, 2)", name=op.f("ck_petition_signature_email_slot_1_or_2")
        ),
        sa.ForeignKeyConstraint(
            ["entered_by_person_id"],
            ["person.id"],
            name=op.f("fk_petition_signature_entered_by_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_petition_signature_person_id_person"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["petition_id"],
            ["petition.id"],
            name=op.f("fk_petition_signature_petition_id_petition"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["roll_checked_by_person_id"],
            ["person.id"],
            name=op.f("fk_petition_signature_roll_checked_by_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territory.id"],
            name=op.f("fk_petition_signature_territory_id_territory"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_petition_signature")),
        sa.UniqueConstraint("confirm_token_hash", name=op.f("uq_petition_signature_confirm_token_hash")),
        sa.UniqueConstraint("petition_id", "email_key", "email_slot", name="uq_petition_signature_email_slot"),
        sa.UniqueConstraint("petition_id", "email_key", "name_key", name="uq_petition_signature_email_name"),
        sa.UniqueConstraint("petition_id", "person_id", name="uq_petition_signature_person"),
        sa.UniqueConstraint("public_id", name=op.f("uq_petition_signature_public_id")),
    )
    with op.batch_alter_table("petition_signature", schema=None) as batch_op:
        batch_op.create_index("ix_petition_signature_counted", ["petition_id", "counted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_petition_signature_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_petition_signature_territory_id"), ["territory_id"], unique=False)

    op.create_table(
        "legal_quarter_signature",
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.String(length=7), nullable=False),
        sa.Column("elector_key", sa.String(length=200), nullable=False),
        sa.Column("signature_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["signature_id"],
            ["petition_signature.id"],
            name=op.f("fk_legal_quarter_signature_signature_id_petition_signature"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territory.id"],
            name=op.f("fk_legal_quarter_signature_territory_id_territory"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_quarter_signature")),
        sa.UniqueConstraint("signature_id", name=op.f("uq_legal_quarter_signature_signature_id")),
        sa.UniqueConstraint(
            "territory_id",
            "quarter",
            "elector_key",
            name=op.f("uq_legal_quarter_signature_territory_id_quarter_elector_key"),
        ),
    )
    with op.batch_alter_table("legal_quarter_signature", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_legal_quarter_signature_territory_id"), ["territory_id"], unique=False)

    _create_search()


def downgrade() -> None:
    _drop_search()
    with op.batch_alter_table("legal_quarter_signature", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_quarter_signature_territory_id"))

    op.drop_table("legal_quarter_signature")
    with op.batch_alter_table("petition_signature", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_petition_signature_territory_id"))
        batch_op.drop_index(batch_op.f("ix_petition_signature_person_id"))
        batch_op.drop_index("ix_petition_signature_counted")

    op.drop_table("petition_signature")
    with op.batch_alter_table("petition_paper_batch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_petition_paper_batch_territory_id"))
        batch_op.drop_index(batch_op.f("ix_petition_paper_batch_petition_id"))

    op.drop_table("petition_paper_batch")
    with op.batch_alter_table("petition_count", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_petition_count_territory_id"))

    op.drop_table("petition_count")
    with op.batch_alter_table("petition_answer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_petition_answer_territory_id"))

    op.drop_table("petition_answer")
    with op.batch_alter_table("petition", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_petition_territory_id"))
        batch_op.drop_index("ix_petition_list")
        batch_op.drop_index(batch_op.f("ix_petition_author_person_id"))

    op.drop_table("petition")
