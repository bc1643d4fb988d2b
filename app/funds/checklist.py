"""The review checklist of a fund (its points de contrôle), edited by the administrators.

An initiative copies its fund's points the first time an agent works on its own checklist
(``app.review.checklist``): a change here only affects the initiatives whose checklist is
created afterwards; those already started keep theirs.

The default fund ("Fifty-fifty") uses the usual points until someone customises them: they are
then written as the fund's own points (``seed_fund_checklist``) before the first change. It keeps
at least one point, since a default fund without any point falls back to the usual ones.

Every change is one function here, audited, in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.core.actor import Actor
from app.core.errors import Conflict, Invalid, NotFound
from app.funds import service as funds
from app.funds.models import Fund
from app.review.models import FundChecklistItem
from app.web.forms import clean_text
from app.web.i18n import _

LABEL_MAX_LENGTH = 200
MOVES = frozenset({"up", "down"})


@dataclass(frozen=True)
class ItemRow:
    public_id: str
    label: str


@dataclass(frozen=True)
class FundChecklist:
    items: list[ItemRow]  # the fund's own points, in order
    usual: list[str]  # the usual points the default fund applies while it has none of its own


def _items(db: Session, fund: Fund) -> list[FundChecklistItem]:
    return list(
        db.scalars(
            select(FundChecklistItem)
            .where(FundChecklistItem.fund_id == fund.id, FundChecklistItem.territory_id == fund.territory_id)
            .order_by(FundChecklistItem.position, FundChecklistItem.id)
        )
    )


def _is_default(fund: Fund) -> bool:
    return fund.name == funds.DEFAULT_FUND_NAME


def checklist(db: Session, actor: Actor, territory_id: int, fund_public_id: str) -> FundChecklist:
    """The fund's points for its administration page (one query)."""
    funds.require_admin(actor, territory_id)
    from app.review.checklist import DEFAULT_ITEMS

    fund = funds.get_fund(db, territory_id, fund_public_id)
    rows = _items(db, fund)
    usual = list(DEFAULT_ITEMS) if not rows and _is_default(fund) else []
    return FundChecklist(items=[ItemRow(r.public_id, r.label) for r in rows], usual=usual)


def _editable(
    db: Session, actor: Actor, territory_id: int, fund_public_id: str
) -> tuple[Fund, list[FundChecklistItem]]:
    """The fund under a row lock (two administrators reorder one list at a time), with its points
    written out and numbered 1..n."""
    funds.require_admin(actor, territory_id)
    fund = funds.get_fund(db, territory_id, fund_public_id)
    if db.get_bind().dialect.name != "sqlite":  # SQLite serialises writers with BEGIN IMMEDIATE
        db.refresh(fund, with_for_update=True)
    rows = _items(db, fund)
    if not rows and _is_default(fund):
        from app.review.checklist import seed_fund_checklist

        rows = seed_fund_checklist(db, fund)
        audit.record(
            db, actor, "fund_checklist.customise", "fund", fund.id, territory_id=territory_id,
            data={"labels": [r.label for r in rows]},
        )  # fmt: skip
    for position, row in enumerate(rows, start=1):
        row.position = position
    return fund, rows


def _label(value: str) -> str:
    text = clean_text(value or "")
    if not text:
        raise Invalid(_("Ce champ est obligatoire."), field="label")
    if len(text) > LABEL_MAX_LENGTH:
        raise Invalid(_("Saisissez au plus %(n)s caractères.") % {"n": LABEL_MAX_LENGTH}, field="label")
    return text


def _find(rows: list[FundChecklistItem], public_id: str) -> FundChecklistItem:
    for row in rows:
        if row.public_id == public_id:
            return row
    raise NotFound(_("Ce point de contrôle n'existe pas."))


def _record(db: Session, actor: Actor, action: str, fund: Fund, item: FundChecklistItem, **data: object) -> None:
    audit.record(
        db, actor, f"fund_checklist.{action}", "fund", fund.id, territory_id=fund.territory_id,
        data={"item": item.public_id, "label": item.label, **data},
    )  # fmt: skip


def customise(db: Session, actor: Actor, territory_id: int, fund_public_id: str) -> None:
    """Writes the default fund's usual points as its own, so that they can be changed one by one."""
    _editable(db, actor, territory_id, fund_public_id)
    db.flush()


def add_item(db: Session, actor: Actor, territory_id: int, fund_public_id: str, label: str) -> FundChecklistItem:
    text = _label(label)
    fund, rows = _editable(db, actor, territory_id, fund_public_id)
    if any(r.label == text for r in rows):
        raise Invalid(_("Ce point figure déjà dans la liste."), field="label")
    item = FundChecklistItem(territory_id=territory_id, fund_id=fund.id, label=text, position=len(rows) + 1)
    db.add(item)
    db.flush()
    _record(db, actor, "add", fund, item, position=item.position)
    return item


def rename_item(
    db: Session, actor: Actor, territory_id: int, fund_public_id: str, item_public_id: str, label: str
) -> FundChecklistItem:
    text = _label(label)
    fund, rows = _editable(db, actor, territory_id, fund_public_id)
    item = _find(rows, item_public_id)
    if item.label == text:
        return item
    if any(r.label == text for r in rows):
        raise Invalid(_("Ce point figure déjà dans la liste."), field="label")
    previous, item.label = item.label, text
    db.flush()
    _record(db, actor, "rename", fund, item, previous=previous)
    return item


def move_item(
    db: Session, actor: Actor, territory_id: int, fund_public_id: str, item_public_id: str, direction: str
) -> FundChecklistItem:
    """One place up or down; the first point cannot go up nor the last one down (nothing changes)."""
    if direction not in MOVES:
        raise NotFound(_("Cette page n'existe pas."))
    fund, rows = _editable(db, actor, territory_id, fund_public_id)
    item = _find(rows, item_public_id)
    index = rows.index(item)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(rows):
        raise Conflict(_("Ce point est déjà à cette extrémité de la liste."))
    neighbour = rows[other]
    item.position, neighbour.position = neighbour.position, item.position
    db.flush()
    _record(db, actor, "move", fund, item, direction=direction, position=item.position)
    return item


def remove_item(db: Session, actor: Actor, territory_id: int, fund_public_id: str, item_public_id: str) -> None:
    fund, rows = _editable(db, actor, territory_id, fund_public_id)
    item = _find(rows, item_public_id)
    if len(rows) == 1 and _is_default(fund):
        raise Conflict(
            _(
                "Le dispositif « %(name)s » garde au moins un point : sans aucun point, "
                "les points habituels s'appliqueraient de nouveau."
            )
            % {"name": fund.name}
        )
    _record(db, actor, "remove", fund, item, position=item.position)
    db.delete(item)
    for position, row in enumerate((r for r in rows if r is not item), start=1):
        row.position = position
    db.flush()
