"""Petitions and legal requests (art. L1112-16 CGCT) in the JSON API, under /api/v1.

The public list and a petition's detail answer any token of the territory; the other reads need
the ``read`` scope, writes the ``write`` scope and accept an ``Idempotency-Key``. Visibility,
rights, transitions and signing rules are the domain's (``app.petitions``: service, counting,
answers, signing): this module only parses, calls and shapes. The agents' export of signatures
is audited as an export; e-mail addresses are never exported.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, aliased

from app.accounts.routes import client_ip
from app.accounts.viewer import Viewer
from app.api.deps import ApiViewer, ReadScope, WriteScope
from app.api.idempotency import MAX_KEY_LENGTH
from app.api.initiative_service import row_id
from app.api.initiatives import IDEMPOTENCY_NOTE, _once
from app.api.petition_schemas import (
    MAX_EXPORT_PAGE,
    MAX_OFFSET,
    MAX_PAGE_SIZE,
    AnswerOut,
    CountsOut,
    InitiativeLink,
    MySignatureOut,
    PetitionCreate,
    PetitionDetail,
    PetitionPage,
    PetitionSignatureOut,
    PetitionSignBody,
    PetitionSummary,
    RejectBody,
    RollCheckOut,
    SignatureExport,
    SignOut,
    Tab,
    ThresholdsOut,
    WithdrawOut,
)
from app.api.schemas import PROBLEM_RESPONSES, Problem
from app.audit import service as audit
from app.core.errors import Forbidden, Invalid, NotFound
from app.history.csvfile import write as write_csv
from app.moderation.visibility import hidden_clause
from app.petitions import answers, counting, signing
from app.petitions import permissions as perm
from app.petitions import search as petition_search
from app.petitions import service as petitions
from app.petitions.forms import PetitionInput
from app.petitions.models import (
    Petition,
    PetitionAnswer,
    PetitionCount,
    PetitionKind,
    PetitionSignature,
)
from app.petitions.signing import Choices, ElectorDetails, Outcome, SignBox
from app.petitions.signing_routes import source_hash
from app.petitions.subjects import PETITION
from app.territories.context import TerritoryContext
from app.territories.models import Neighbourhood, Theme
from app.territories.service import local_today
from app.web.deps import CurrentTerritory, ReadSession, WriteSession
from app.web.i18n import _

RESPONSES: dict[int | str, dict[str, Any]] = {
    **PROBLEM_RESPONSES,
    409: {
        "model": Problem,
        "content": {"application/problem+json": {}},
        "description": "Not possible in the petition's current state (closed, already moderated, a legal "
        "request's signature already given this quarter): nothing changes",
    },
}
router = APIRouter(prefix="/api/v1", tags=["petitions"], responses=RESPONSES)

IdempotencyKey = Annotated[str | None, Header(description=f"Makes a retry harmless (1 to {MAX_KEY_LENGTH} characters)")]
PublicIdQuery = Annotated[str, Query(max_length=40, pattern=r"^[A-Za-z0-9_-]*$")]
EXPORT_ACTION = "petition.signatures_export"
CSV_COLUMNS = (
    "signature", "nom", "lien", "mode", "etat", "nom_public", "signee_le", "comptee_le", "retiree_le",
    "invalidee_le", "motif_invalidation", "feuille",
)  # fmt: skip
CSV_ROLL_COLUMNS = (
    "nom_de_famille", "prenoms", "adresse", "date_de_naissance", "controle_liste", "motif_controle", "controle_le",
)  # fmt: skip


# ---------------------------------------------------------------- shaping


def _my_signature(box: SignBox) -> MySignatureOut:
    return MySignatureOut(
        open=box.open, can_sign=box.can_sign, signed=box.signed, counted=box.counted, can_withdraw=box.can_withdraw,
        relation=box.relation, count=box.count, quarter=box.quarter, refusal=box.refusal,
    )  # fmt: skip


def _answer_out(view: answers.AnswerView) -> AnswerOut:
    return AnswerOut(
        published=view.published, outcome=view.outcome, outcome_label=view.outcome_label, text=view.text,
        published_at=view.published_at, authority=view.authority, transmitted_on=view.transmitted_on,
        authority_reply=view.authority_reply, authority_reply_on=view.authority_reply_on,
    )  # fmt: skip


def _link(pair: tuple[str, str] | None) -> InitiativeLink | None:
    return InitiativeLink(public_id=pair[0], title=pair[1]) if pair is not None else None


def petition_detail(db: Session, viewer: Viewer, territory: TerritoryContext, public_id: str) -> PetitionDetail:
    """The petition as its page shows it to this person (404 if they may not see it)."""
    view = petitions.page(db, viewer, territory, public_id)
    p = view.petition
    answer = answers.answer_of(db, p)
    published = answer is not None and answer.published_at is not None
    count = counting.count_view(db, p, today=local_today(territory), answered=published)
    public = perm.is_public(p)
    answer_view = answers.answer_view(answer) if published else None
    counts = CountsOut(
        total=count.total, town=count.town, basis=count.basis, basis_count=count.basis_count,
        computed_at=count.computed_at, next_threshold=count.next_threshold, next_kind=count.next_kind,
        progress_percent=count.progress_percent, days_left=count.days_left,
    )  # fmt: skip
    thresholds = ThresholdsOut(
        answer=count.answer_threshold, council=count.council_threshold,
        answer_reached_at=count.answer_threshold_reached_at, council_reached_at=count.council_threshold_reached_at,
        below_after_stamp=count.below_after_stamp, answer_due_on=count.answer_due_on,
        answer_overdue=count.answer_overdue, electors_frozen=p.electors_frozen,
    )  # fmt: skip
    return PetitionDetail(
        public_id=p.public_id,
        kind=p.kind,
        legal_purpose=p.legal_purpose,
        title=p.title,
        request=p.request,
        body=p.body,
        state=p.state,
        state_label=view.state_label,
        legal_stage=p.legal_stage,
        legal_stage_label=view.legal_stage_label,
        author_name=view.author_name,
        neighbourhood=view.neighbourhood or None,
        theme=view.theme or None,
        submitted_at=p.submitted_at,
        opened_at=p.opened_at,
        closes_on=p.closes_on,
        closed_at=p.closed_at,
        rejection_reason=p.rejection_reason,
        rejection_label=view.rejection_label,
        rejection_comment=p.rejection_comment,
        hidden=view.hidden is not None,
        counts=counts,
        thresholds=thresholds,
        answer=_answer_out(answer_view) if answer_view is not None else None,
        from_initiative=_link(view.from_initiative),
        converted_initiative=_link(view.converted_initiative),
        my_signature=_my_signature(signing.sign_box(db, viewer, territory, p)) if public else None,
        can_edit=view.can_edit,
        can_submit=view.can_submit,
        can_withdraw=view.can_withdraw,
        can_moderate=view.can_moderate,
        can_convert=view.can_convert,
    )


def petition_page(
    db: Session, territory_id: int, tab: Tab | None, neighbourhood: str, theme: str, q: str, limit: int, offset: int
) -> PetitionPage:
    """The public list with the page's filters (the same clauses as ``service.list_page``), newest
    first, with the worker's counts: two queries whatever the page's length."""
    hood = aliased(Neighbourhood)
    theme_row = aliased(Theme)
    conditions: list[Any] = [
        Petition.territory_id == territory_id,
        Petition.state.in_([s.value for s in perm.PUBLIC_STATES]),
        ~hidden_clause(PETITION, Petition.public_id),
    ]
    if tab is not None:
        conditions.append(petitions.tab_clause(tab))
    if neighbourhood:
        conditions.append(hood.public_id == neighbourhood)
    if theme:
        conditions.append(theme_row.public_id == theme)
    found = petition_search.list_condition(db, q[:200]) if q.strip() else None
    if found is not None:
        conditions.append(found)
    base = (
        select(Petition.id)
        .outerjoin(hood, hood.id == Petition.neighbourhood_id)
        .outerjoin(theme_row, theme_row.id == Petition.theme_id)
        .where(*conditions)
    )
    total = db.scalar(select(func.count()).select_from(base.subquery())) or 0
    answer = aliased(PetitionAnswer)
    rows = db.execute(
        select(Petition, hood.name, theme_row.name, PetitionCount.total, PetitionCount.town, answer.published_at)
        .outerjoin(hood, hood.id == Petition.neighbourhood_id)
        .outerjoin(theme_row, theme_row.id == Petition.theme_id)
        .outerjoin(PetitionCount, PetitionCount.petition_id == Petition.id)
        .outerjoin(answer, answer.petition_id == Petition.id)
        .where(*conditions)
        .order_by(Petition.opened_at.desc(), Petition.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    items = []
    for p, hood_name, theme_name, total_count, town_count, published_at in rows:
        total_count, town_count = total_count or 0, town_count or 0
        items.append(
            PetitionSummary(
                public_id=p.public_id, kind=p.kind, title=p.title, request=p.request, state=p.state,
                state_label=petitions.state_label(p.state), neighbourhood=hood_name, theme=theme_name,
                total=total_count, town=town_count, basis=p.threshold_basis,
                basis_count=town_count if p.threshold_basis == "town" else total_count,
                next_threshold=petitions.next_threshold(p), closes_on=p.closes_on,
                answer_threshold_reached_at=p.answer_threshold_reached_at, answered=published_at is not None,
            )
        )  # fmt: skip
    return PetitionPage(items=items, total=total, limit=limit, offset=offset)


def petition_input(db: Session, territory_id: int, body: PetitionCreate) -> PetitionInput:
    """The form's input, with the neighbourhood and the theme found by public id in this territory."""
    neighbourhood_id = row_id(db, Neighbourhood, territory_id, body.neighbourhood_id)
    if body.neighbourhood_id and neighbourhood_id is None:
        raise Invalid(_("Quartier inconnu dans ce territoire."), field="neighbourhood_id")
    theme_id = row_id(db, Theme, territory_id, body.theme_id)
    if body.theme_id and theme_id is None:
        raise Invalid(_("Choisissez une thématique de la liste."), field="theme_id")
    values = body.model_dump()
    values.update(neighbourhood_id=neighbourhood_id, theme_id=theme_id)
    return PetitionInput.model_validate(values)


# ---------------------------------------------------------------- the agents' export


def _status(s: PetitionSignature) -> str:
    if s.erased_at is not None:
        return "erased"
    if s.invalidated_at is not None:
        return "invalidated"
    if s.withdrawn_at is not None:
        return "withdrawn"
    if s.flagged_at is not None and s.released_at is None:
        return "flagged"
    if s.counted_at is not None:
        return "counted"
    return "awaiting_confirmation"


def _signature_out(s: PetitionSignature, legal: bool) -> PetitionSignatureOut:
    roll = None
    if legal:
        roll = RollCheckOut(
            surname=s.surname, first_names=s.first_names, address=s.address, birth_date=s.birth_date,
            roll_status=s.roll_status, roll_reason=s.roll_reason, roll_checked_at=s.roll_checked_at,
        )  # fmt: skip
    return PetitionSignatureOut(
        public_id=s.public_id, name=s.display_name, relation=s.relation, method=s.method, status=_status(s),
        show_name=s.show_name, signed_at=s.created_at, counted_at=s.counted_at, withdrawn_at=s.withdrawn_at,
        invalidated_at=s.invalidated_at, invalid_reason=s.invalid_reason, paper_sheet=s.paper_sheet, roll=roll,
    )  # fmt: skip


def _export_rows(
    db: Session, viewer: Viewer, territory_id: int, public_id: str, *, limit: int | None = None, offset: int = 0
) -> tuple[Petition, int, list[PetitionSignature]]:
    """The petition's signatures for its agents (403 for anyone else), oldest first, and their number."""
    petition = signing.get_petition(db, territory_id, public_id)
    if not signing.can_manage_signatures(viewer, petition):
        raise Forbidden(_("Cette page est réservée aux agent·es de la commune."))
    where: ColumnElement[bool] = PetitionSignature.petition_id == petition.id
    total = db.scalar(select(func.count()).select_from(PetitionSignature).where(where)) or 0
    stmt = select(PetitionSignature).where(where).order_by(PetitionSignature.created_at, PetitionSignature.id)
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return petition, total, list(db.scalars(stmt))


def _record_export(db: Session, viewer: Viewer, petition: Petition, fmt: str, rows: int) -> None:
    audit.record(
        db, viewer, EXPORT_ACTION, "petition", petition.public_id, territory_id=petition.territory_id,
        data={"format": fmt, "kind": petition.kind, "rows": rows},
    )  # fmt: skip


def _when(moment: dt.datetime | dt.date | None) -> str:
    return moment.isoformat() if moment is not None else ""


def _csv(petition: Petition, rows: list[PetitionSignature]) -> bytes:
    legal = petition.kind == PetitionKind.LEGAL
    lines: list[list[str]] = [[*CSV_COLUMNS, *(CSV_ROLL_COLUMNS if legal else ())]]
    for s in rows:
        out = _signature_out(s, legal)
        line = [
            out.public_id, out.name, out.relation, out.method, out.status, "oui" if out.show_name else "non",
            _when(out.signed_at), _when(out.counted_at), _when(out.withdrawn_at), _when(out.invalidated_at),
            out.invalid_reason, out.paper_sheet,
        ]  # fmt: skip
        if out.roll is not None:
            r = out.roll
            line += [
                r.surname, r.first_names, r.address, _when(r.birth_date), r.roll_status or "", r.roll_reason,
                _when(r.roll_checked_at),
            ]  # fmt: skip
        lines.append(line)
    return write_csv(lines)


# ---------------------------------------------------------------- reading


@router.get("/petitions", response_model=PetitionPage, summary="The public list of petitions, with the page's filters")
def list_petitions(
    viewer: ApiViewer,
    territory: CurrentTerritory,
    db: ReadSession,
    tab: Annotated[Tab | None, Query(description="open, awaiting (an answer), answered or closed")] = None,
    neighbourhood: Annotated[PublicIdQuery, Query(description="A neighbourhood's public_id")] = "",
    theme: Annotated[PublicIdQuery, Query(description="A theme's public_id")] = "",
    q: Annotated[str, Query(max_length=200, description="French full-text search")] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> PetitionPage:
    return petition_page(db, territory.id, tab, neighbourhood, theme, q.replace("\x00", ""), limit, offset)


@router.get(
    "/petitions/{public_id}",
    response_model=PetitionDetail,
    summary="A petition with its counts, thresholds, answer and links",
)
def get_petition(public_id: str, viewer: ApiViewer, territory: CurrentTerritory, db: ReadSession) -> PetitionDetail:
    return petition_detail(db, viewer, territory, public_id)


@router.get(
    "/petitions/{public_id}/answer",
    response_model=AnswerOut,
    summary="The official answer (published; the town's staff also get the draft)",
)
def get_answer(public_id: str, viewer: ReadScope, territory: CurrentTerritory, db: ReadSession) -> AnswerOut:
    petition = petitions.get_visible(db, viewer, territory.id, public_id)
    view = answers.answer_view(answers.answer_of(db, petition))
    if view is None or not (view.published or perm.is_staff(viewer, territory.id)):
        raise NotFound(_("La commune n'a pas encore publié sa réponse."))
    return _answer_out(view)


@router.get(
    "/petitions/{public_id}/signatures",
    response_model=SignatureExport,
    summary="The signatures, for the town's agents (audited export; no e-mail addresses)",
    description="Civic petitions: names, relation, method and dates. Legal requests: also what the "
    "electoral roll check needs. Every call is recorded in the audit log.",
)
def export_signatures(
    public_id: str, viewer: ReadScope, territory: CurrentTerritory, db: WriteSession,
    limit: Annotated[int, Query(ge=1, le=MAX_EXPORT_PAGE)] = 200,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> SignatureExport:  # fmt: skip
    petition, total, rows = _export_rows(db, viewer, territory.id, public_id, limit=limit, offset=offset)
    _record_export(db, viewer, petition, "json", len(rows))
    legal = petition.kind == PetitionKind.LEGAL
    return SignatureExport(
        petition_public_id=petition.public_id, kind=petition.kind, items=[_signature_out(s, legal) for s in rows],
        total=total, limit=limit, offset=offset,
    )  # fmt: skip


@router.get(
    "/petitions/{public_id}/signatures.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "UTF-8 with a byte-order mark, `;` separated"}},
    summary="The signatures as a spreadsheet, for the town's agents (audited export; no e-mail addresses)",
)
def export_signatures_csv(public_id: str, viewer: ReadScope, territory: CurrentTerritory, db: WriteSession) -> Response:
    petition, _total, rows = _export_rows(db, viewer, territory.id, public_id)
    _record_export(db, viewer, petition, "csv", len(rows))
    return Response(
        _csv(petition, rows),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="signatures-{petition.public_id}.csv"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


# ---------------------------------------------------------------- writing


@router.post(
    "/petitions",
    status_code=201,
    response_model=PetitionDetail,
    summary="Start a civic petition or a legal request, saved as a draft (scope: write)",
    description=IDEMPOTENCY_NOTE,
)
def create(
    request: Request, body: PetitionCreate, viewer: WriteScope, territory: CurrentTerritory, db: WriteSession,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    def action() -> tuple[int, BaseModel]:
        petition = petitions.start(db, viewer, territory.id, petition_input(db, territory.id, body))
        return 201, petition_detail(db, viewer, territory, petition.public_id)

    return _once(request, db, viewer, territory, idempotency_key, body, action)


@router.post(
    "/petitions/{public_id}/submit",
    response_model=PetitionDetail,
    summary="Its author submits a draft to the town (scope: write)",
    description=IDEMPOTENCY_NOTE,
)
def submit(
    request: Request, public_id: str, viewer: WriteScope, territory: CurrentTerritory, db: WriteSession,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    def action() -> tuple[int, BaseModel]:
        petitions.submit(db, viewer, territory.id, public_id)
        return 200, petition_detail(db, viewer, territory, public_id)

    return _once(request, db, viewer, territory, idempotency_key, None, action)


@router.post(
    "/petitions/{public_id}/publish",
    response_model=PetitionDetail,
    summary="An agent publishes a submitted petition: it opens to signatures (scope: write)",
    description=IDEMPOTENCY_NOTE,
)
def publish(
    request: Request, public_id: str, viewer: WriteScope, territory: CurrentTerritory, db: WriteSession,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    def action() -> tuple[int, BaseModel]:
        petitions.publish(db, viewer, territory, public_id)
        return 200, petition_detail(db, viewer, territory, public_id)

    return _once(request, db, viewer, territory, idempotency_key, None, action)


@router.post(
    "/petitions/{public_id}/reject",
    response_model=PetitionDetail,
    summary="An agent refuses a submitted petition, with a reason of the charter (scope: write)",
    description=IDEMPOTENCY_NOTE,
)
def reject(
    request: Request, public_id: str, body: RejectBody, viewer: WriteScope, territory: CurrentTerritory,
    db: WriteSession, idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    def action() -> tuple[int, BaseModel]:
        petitions.reject(db, viewer, territory, public_id, body.reason, body.comment)
        return 200, petition_detail(db, viewer, territory, public_id)

    return _once(request, db, viewer, territory, idempotency_key, body, action)


def _sign_message(outcome: Outcome) -> str:
    if outcome == Outcome.ALREADY:
        return _("Signature enregistrée : vous aviez déjà signé cette pétition.")
    return _("Signature enregistrée. Merci !")


@router.post(
    "/petitions/{public_id}/signature",
    response_model=SignOut,
    summary="The token's person signs (scope: write)",
    description="The same rules as the page: one signature per person (signing again changes nothing "
    "and answers as a success), a legal request needs the `elector` details and takes the elector's one "
    "signature of the quarter (409 if already given), a closed petition answers 409. " + IDEMPOTENCY_NOTE,
)
def sign(
    request: Request, public_id: str, body: PetitionSignBody, viewer: WriteScope, territory: CurrentTerritory,
    db: WriteSession, idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    request.app.state.rate_limiter.hit("sign:ip", client_ip(request))
    petition = signing.get_petition(db, territory.id, public_id)
    elector = None
    if petition.kind == PetitionKind.LEGAL and body.elector is not None:
        e = body.elector
        elector = ElectorDetails(e.surname, e.first_names, e.address, e.birth_date)
    elif body.elector is not None:
        raise Invalid(_("Seules les demandes de consultation demandent l'identité de l'électeur."), field="elector")
    choices = Choices(body.relation, body.show_name, body.notify, body.invite_if_project)

    def action() -> tuple[int, BaseModel]:
        outcome, _signature = signing.sign(
            db, viewer, territory, petition, choices, elector=elector, source_hash=source_hash(request)
        )
        box = signing.sign_box(db, viewer, territory, petition)
        return 200, SignOut(outcome=outcome.value, message=_sign_message(outcome), my_signature=_my_signature(box))

    return _once(request, db, viewer, territory, idempotency_key, body, action)


@router.delete(
    "/petitions/{public_id}/signature",
    response_model=WithdrawOut,
    summary="The token's person withdraws their signature while the petition is open (scope: write)",
    description=IDEMPOTENCY_NOTE,
)
def withdraw_signature(
    request: Request, public_id: str, viewer: WriteScope, territory: CurrentTerritory, db: WriteSession,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    petition = signing.get_petition(db, territory.id, public_id)

    def action() -> tuple[int, BaseModel]:
        withdrawn = signing.withdraw(db, viewer, territory, petition)
        message = _("Votre signature est retirée.") if withdrawn else _("Vous n'aviez pas signé cette pétition.")
        box = signing.sign_box(db, viewer, territory, petition)
        return 200, WithdrawOut(withdrawn=withdrawn, message=message, my_signature=_my_signature(box))

    return _once(request, db, viewer, territory, idempotency_key, None, action)
