"""historical import, peer library

New tables only: ``initiative`` is not altered (a batch ALTER on SQLite would drop the
search_initiative_* triggers of 0003).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22 04:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.base

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "historical_import",
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_person_id", sa.Integer(), nullable=True),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("imported_at", app.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("imported_by_person_id", sa.Integer(), nullable=True),
        sa.Column("created_count", sa.Integer(), nullable=False),
        sa.Column("skipped_count", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["imported_by_person_id"],
            ["person.id"],
            name=op.f("fk_historical_import_imported_by_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territory.id"],
            name=op.f("fk_historical_import_territory_id_territory"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_person_id"],
            ["person.id"],
            name=op.f("fk_historical_import_uploaded_by_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_historical_import")),
        sa.UniqueConstraint("public_id", name=op.f("uq_historical_import_public_id")),
    )
    with op.batch_alter_table("historical_import", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_historical_import_territory_id"), ["territory_id"], unique=False)

    op.create_table(
        "historical_record",
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("source_file_sha256", sa.String(length=64), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("imported_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("imported_by_person_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["historical_import.id"],
            name=op.f("fk_historical_record_import_id_historical_import"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["imported_by_person_id"],
            ["person.id"],
            name=op.f("fk_historical_record_imported_by_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
            name=op.f("fk_historical_record_initiative_id_initiative"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territory.id"],
            name=op.f("fk_historical_record_territory_id_territory"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_historical_record")),
        sa.UniqueConstraint("initiative_id", name=op.f("uq_historical_record_initiative_id")),
        sa.UniqueConstraint("territory_id", "reference", name=op.f("uq_historical_record_territory_id_reference")),
    )
    with op.batch_alter_table("historical_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_historical_record_import_id"), ["import_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_historical_record_territory_id"), ["territory_id"], unique=False)

    op.create_table(
        "library_entry",
        sa.Column("source_territory_id", sa.Integer(), nullable=False),
        sa.Column("source_initiative_id", sa.Integer(), nullable=False),
        sa.Column("town_name", sa.String(length=200), nullable=False),
        sa.Column("population_bracket", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("theme", sa.String(length=200), nullable=False),
        sa.Column("project_type", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("duration_days", sa.Integer(), nullable=True),
        sa.Column("residents_value_cents", sa.BigInteger(), nullable=False),
        sa.Column("town_value_cents", sa.BigInteger(), nullable=False),
        sa.Column("partners_value_cents", sa.BigInteger(), nullable=False),
        sa.Column("volunteer_minutes", sa.BigInteger(), nullable=False),
        sa.Column("evaluation_summary", sa.Text(), nullable=False),
        sa.Column("lessons", sa.Text(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("shared_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", app.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_initiative_id"],
            ["initiative.id"],
            name=op.f("fk_library_entry_source_initiative_id_initiative"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_territory_id"],
            ["territory.id"],
            name=op.f("fk_library_entry_source_territory_id_territory"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_entry")),
        sa.UniqueConstraint("public_id", name=op.f("uq_library_entry_public_id")),
        sa.UniqueConstraint("source_initiative_id", name=op.f("uq_library_entry_source_initiative_id")),
    )
    with op.batch_alter_table("library_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_library_entry_source_territory_id"), ["source_territory_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("library_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_library_entry_source_territory_id"))

    op.drop_table("library_entry")
    with op.batch_alter_table("historical_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_historical_record_territory_id"))
        batch_op.drop_index(batch_op.f("ix_historical_record_import_id"))

    op.drop_table("historical_record")
    with op.batch_alter_table("historical_import", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_historical_import_territory_id"))

    op.drop_table("historical_import")
