"""Proofs of the work: receipts, invoices, quotes, insurance certificates, landowner permissions,
signed scans. Private to the initiative's promoters and the town's staff (404 for anyone else,
anonymous visitors of a public initiative included).

Images go through ``app.media`` (checked and re-encoded, metadata stripped). A PDF cannot be
re-encoded: it is accepted on its magic bytes (``%PDF-``) and its end marker, 10 Mo at most, stored
as sent under a generated key, and only ever served as a download that cannot run in the site's
origin (``Content-Disposition: attachment``, ``nosniff``, a sandboxing CSP).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.display import public_name
from app.accounts.models import Person
from app.audit import service as audit
from app.core.actor import Actor
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.followup import permissions as fperm
from app.followup.models import Attachment, ProofKind
from app.initiatives.models import Initiative
from app.ledger.models import CommitmentLine, RealisationLine, RealisationState
from app.ledger.realisations import ProofLink
from app.media import images
from app.media import service as media
from app.media.models import StoredFile
from app.media.storage import MediaStore, new_key, write_in_transaction
from app.review import service as review
from app.review.permissions import Involvement
from app.web.forms import clean_text
from app.web.i18n import N_, _, date

PDF_CONTENT_TYPE = "application/pdf"
PDF_MAGIC = b"%PDF-"
PDF_END = b"%%EOF"
# Writers add a few bytes (line ends, padding) after the end marker; look for it in the file's tail.
PDF_TAIL_BYTES = 2048
MAX_FILE_BYTES = 10 * 1024 * 1024
READ_CHUNK = 64 * 1024
TITLE_MAX_LENGTH = 300
ACCEPT = "application/pdf,image/jpeg,image/png,image/webp"

KIND_LABELS: dict[str, str] = {
    ProofKind.RECEIPT: N_("ticket de caisse, reçu"),
    ProofKind.INVOICE: N_("facture"),
    ProofKind.QUOTE: N_("devis"),
    ProofKind.INSURANCE: N_("attestation d'assurance"),
    ProofKind.LANDOWNER_PERMISSION: N_("autorisation du propriétaire"),
    ProofKind.SIGNED_SCAN: N_("document signé (scan)"),
    ProofKind.PHOTO: N_("photo"),
    ProofKind.OTHER: N_("autre justificatif"),
}


@dataclass(frozen=True)
class ProofPolicy:
    """What the upload forms tell people before they choose a file."""

    max_megabytes: int = MAX_FILE_BYTES // (1024 * 1024)
    accept: str = ACCEPT


POLICY = ProofPolicy()


@dataclass(frozen=True)
class PreparedProof:
    """An upload checked (and, for an image, re-encoded), not stored yet."""

    filename: str
    pdf: bytes | None = None
    image: media.PreparedImage | None = None


def _too_big() -> Invalid:
    return Invalid(
        _("Ce fichier dépasse %(size)s Mo : envoyez un fichier plus léger (un scan en noir et blanc, par exemple).")
        % {"size": POLICY.max_megabytes},
        field="file",
    )


def _read_limited(stream: BinaryIO) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while chunk := stream.read(READ_CHUNK):
        total += len(chunk)
        if total > MAX_FILE_BYTES:
            raise _too_big()
        chunks.append(chunk)
    return b"".join(chunks)


def prepare_proof(upload: media.Upload) -> PreparedProof:
    """Checks an upload (no database work, so routes run it before their write transaction):
    a PDF by its magic bytes and end marker, an image through ``app.media``; ``Invalid`` on ``file``."""
    data = _read_limited(upload.stream)
    if not data:
        raise Invalid(_("Choisissez un fichier à envoyer."), field="file")
    if data.startswith(PDF_MAGIC):
        if PDF_END not in data[-PDF_TAIL_BYTES:]:
            raise Invalid(_("Ce PDF est incomplet ou abîmé : enregistrez-le à nouveau et réessayez."), field="file")
        return PreparedProof(filename=upload.filename, pdf=data)
    if images.sniff(data[:16]) is None:
        raise Invalid(
            _("Ce type de fichier n'est pas accepté : envoyez un PDF, ou une image JPEG, PNG ou WebP."), field="file"
        )
    prepared = media.prepare_image(media.Upload(upload.filename, io.BytesIO(data)), field="file")
    return PreparedProof(filename=upload.filename, image=prepared)


def _store_pdf(
    db: Session, actor: Actor, territory_id: int, data: bytes, *, store: MediaStore, name: str
) -> StoredFile:
    key = new_key(f"t{territory_id}", "pdf")
    # The file first: a row never points at bytes that are not safely on disk.
    write_in_transaction(db, store, key, data)
    row = StoredFile(
        territory_id=territory_id,
        storage_key=key,
        content_type=PDF_CONTENT_TYPE,
        byte_size=len(data),
        width=None,
        height=None,
        sha256=hashlib.sha256(data).hexdigest(),
        original_name=media.clean_file_name(name),
        uploaded_by_person_id=actor.person_id,
    )
    db.add(row)
    db.flush()
    return row


# ---------------------------------------------------------------- who may see and add


def _involvement(db: Session, actor: Actor | None, initiative: Initiative) -> Involvement:
    """404 unless the actor is one of the promoters or the town's staff of this initiative."""
    if actor is None or actor.territory_id != initiative.territory_id:
        raise NotFound(_("Ce justificatif n'existe pas."))
    involvement = review.involvement_of(db, actor, initiative)
    if not fperm.is_party(actor, initiative, involvement):
        raise NotFound(_("Ce justificatif n'existe pas."))
    return involvement


def can_add(actor: Actor | None, initiative: Initiative, involvement: Involvement) -> bool:
    return fperm.is_open(initiative) and (
        fperm.acts_for_town(actor, initiative, involvement) or fperm.acts_for_residents(actor, initiative, involvement)
    )


def _realisation_for(
    db: Session, actor: Actor, initiative: Initiative, involvement: Involvement, public_id: str
) -> RealisationLine:
    row = db.scalar(
        select(RealisationLine).where(
            RealisationLine.public_id == public_id,
            RealisationLine.initiative_id == initiative.id,
            RealisationLine.territory_id == initiative.territory_id,
        )
    )
    if row is None or row.state == RealisationState.CANCELLED:
        raise Invalid(_("Choisissez une réalisation de la liste."), field="realisation")
    side = db.scalar(select(CommitmentLine.side).where(CommitmentLine.id == row.commitment_line_id)) or ""
    if not fperm.may_write_side(actor, initiative, involvement, side):
        raise Forbidden(_("Vous ne pouvez pas joindre de justificatif à cette réalisation."))
    return row


def check_can_add(db: Session, actor: Actor, initiative: Initiative) -> None:
    """Refuses early (404, 403, 409) what ``add_proof`` would refuse, before the file is read."""
    involvement = _involvement(db, actor, initiative)
    if not (
        fperm.acts_for_town(actor, initiative, involvement) or fperm.acts_for_residents(actor, initiative, involvement)
    ):
        raise Forbidden(_("Seul·es les porteur·ses du projet et les agent·es ajoutent des justificatifs."))
    if not fperm.is_open(initiative):
        raise Conflict(_("Les justificatifs s'ajoutent entre la signature de la convention et l'évaluation."))


def add_proof(
    db: Session,
    actor: Actor,
    initiative: Initiative,
    prepared: PreparedProof,
    kind: str,
    title: str = "",
    realisation_public_id: str = "",
    *,
    store: MediaStore,
) -> Attachment:
    """Stores a checked proof for the initiative (optionally carried by one of its realisations)."""
    check_can_add(db, actor, initiative)
    involvement = review.involvement_of(db, actor, initiative)
    if kind not in {k.value for k in ProofKind}:
        raise Invalid(_("Choisissez une des valeurs proposées."), field="kind")
    text = clean_text(title or "") or media.clean_file_name(prepared.filename, 120) or _(KIND_LABELS[kind])
    if len(text) > TITLE_MAX_LENGTH:
        raise Invalid(_("Saisissez au plus %(n)s caractères.") % {"n": TITLE_MAX_LENGTH}, field="title")
    realisation = (
        _realisation_for(db, actor, initiative, involvement, realisation_public_id) if realisation_public_id else None
    )
    review.lock_initiative(db, initiative)
    if prepared.pdf is not None:
        stored = _store_pdf(db, actor, initiative.territory_id, prepared.pdf, store=store, name=prepared.filename)
    elif prepared.image is not None:
        stored = media.store_image(db, actor, initiative.territory_id, prepared.image, store=store, field="file")
    else:  # a PreparedProof always carries one or the other
        raise Invalid(_("Choisissez un fichier à envoyer."), field="file")
    row = Attachment(
        territory_id=initiative.territory_id,
        initiative_id=initiative.id,
        stored_file_id=stored.id,
        kind=kind,
        title=text,
        realisation_line_id=realisation.id if realisation else None,
        uploaded_by_person_id=actor.person_id,
    )
    db.add(row)
    db.flush()
    audit.record(
        db, actor, "initiative.proof.add", "initiative", initiative.public_id, territory_id=initiative.territory_id,
        data={"proof": row.public_id, "kind": kind, "file": stored.public_id, "content_type": stored.content_type,
              "bytes": stored.byte_size, "realisation": realisation.public_id if realisation else None},
    )  # fmt: skip
    return row


def _attachment(db: Session, initiative: Initiative, public_id: str) -> Attachment:
    row = db.scalar(
        select(Attachment).where(
            Attachment.public_id == public_id,
            Attachment.initiative_id == initiative.id,
            Attachment.territory_id == initiative.territory_id,
        )
    )
    if row is None:
        raise NotFound(_("Ce justificatif n'existe pas."))
    return row


def proof_file(db: Session, actor: Actor | None, initiative: Initiative, public_id: str) -> StoredFile:
    """The stored file of a proof, for the promoters and the town's staff; 404 for anyone else."""
    _involvement(db, actor, initiative)
    row = _attachment(db, initiative, public_id)
    return media.get_stored_file(db, initiative.territory_id, row.stored_file_id)


def _verified(db: Session, row: Attachment) -> bool:
    if row.realisation_line_id is None:
        return False
    state = db.scalar(select(RealisationLine.state).where(RealisationLine.id == row.realisation_line_id))
    return state == RealisationState.VERIFIED


def can_remove(
    actor: Actor | None, initiative: Initiative, involvement: Involvement, row: Attachment, *, verified: bool
) -> bool:
    """The town's staff remove any proof; the person who added one removes it until its line is verified."""
    if not fperm.is_open(initiative):
        return False
    if fperm.acts_for_town(actor, initiative, involvement):
        return True
    return (
        actor is not None
        and not verified
        and row.uploaded_by_person_id is not None
        and row.uploaded_by_person_id == actor.person_id
        and fperm.acts_for_residents(actor, initiative, involvement)
    )


def remove_proof(db: Session, actor: Actor, initiative: Initiative, public_id: str, *, store: MediaStore) -> None:
    involvement = _involvement(db, actor, initiative)
    row = _attachment(db, initiative, public_id)
    review.lock_initiative(db, initiative)
    if not can_remove(actor, initiative, involvement, row, verified=_verified(db, row)):
        raise Forbidden(_("Vous ne pouvez pas retirer ce justificatif."))
    stored = media.get_stored_file(db, initiative.territory_id, row.stored_file_id)
    data = {"proof": row.public_id, "kind": row.kind, "file": stored.public_id}
    db.delete(row)
    db.flush()
    media.delete_stored_file(db, store, stored)
    audit.record(
        db, actor, "initiative.proof.remove", "initiative", initiative.public_id,
        territory_id=initiative.territory_id, data=data,
    )  # fmt: skip


# ---------------------------------------------------------------- what the page shows


@dataclass(frozen=True)
class ProofView:
    public_id: str
    title: str
    kind_label: str
    is_pdf: bool
    byte_size: int
    original_name: str
    uploaded_by: str
    created_at: dt.datetime
    realisation_public_id: str
    can_remove: bool


@dataclass(frozen=True)
class ProofsPanel:
    proofs: list[ProofView]
    # (public id, label) of the realisations a new proof may be attached to.
    realisation_choices: list[tuple[str, str]]
    kind_choices: list[tuple[str, str]]
    can_add: bool
    policy: ProofPolicy = POLICY

    def by_realisation(self) -> dict[str, list[ProofView]]:
        found: dict[str, list[ProofView]] = {}
        for proof in self.proofs:
            if proof.realisation_public_id:
                found.setdefault(proof.realisation_public_id, []).append(proof)
        return found


def kind_choices() -> list[tuple[str, str]]:
    return [(k.value, _(KIND_LABELS[k])) for k in ProofKind]


def proofs_panel(
    db: Session, actor: Actor | None, initiative: Initiative, *, involvement: Involvement | None = None
) -> ProofsPanel | None:
    """The proofs of an initiative for its promoters and the town's staff (None for anyone else)."""
    if involvement is None:
        try:
            involvement = _involvement(db, actor, initiative)
        except NotFound:
            return None
    if not fperm.is_party(actor, initiative, involvement):
        return None
    rows = db.execute(
        select(Attachment, StoredFile, RealisationLine, Person)
        .join(StoredFile, StoredFile.id == Attachment.stored_file_id)
        .outerjoin(RealisationLine, RealisationLine.id == Attachment.realisation_line_id)
        .outerjoin(Person, Person.id == Attachment.uploaded_by_person_id)
        .where(Attachment.initiative_id == initiative.id, Attachment.territory_id == initiative.territory_id)
        .order_by(Attachment.created_at, Attachment.id)
    ).all()
    proofs = [
        ProofView(
            public_id=a.public_id,
            title=a.title,
            kind_label=_(KIND_LABELS[a.kind]) if a.kind in KIND_LABELS else a.kind,
            is_pdf=f.content_type == PDF_CONTENT_TYPE,
            byte_size=f.byte_size,
            original_name=f.original_name,
            uploaded_by=(p.display_name if p.anonymised_at is None else public_name(p)) if p is not None else "",
            created_at=a.created_at,
            realisation_public_id=r.public_id if r is not None else "",
            can_remove=can_remove(
                actor, initiative, involvement, a, verified=r is not None and r.state == RealisationState.VERIFIED
            ),
        )
        for a, f, r, p in rows
    ]
    choices: list[tuple[str, str]] = []
    addable = can_add(actor, initiative, involvement)
    if addable:
        writable = fperm.writable_sides(actor, initiative, involvement)
        lines = db.execute(
            select(RealisationLine.public_id, RealisationLine.delivered_on, CommitmentLine.label)
            .join(CommitmentLine, CommitmentLine.id == RealisationLine.commitment_line_id)
            .where(
                RealisationLine.initiative_id == initiative.id,
                RealisationLine.territory_id == initiative.territory_id,
                RealisationLine.state != RealisationState.CANCELLED,
                CommitmentLine.side.in_(writable),
            )
            .order_by(RealisationLine.delivered_on, RealisationLine.id)
        )
        choices = [(public_id, f"{label} ({date(day)})") for public_id, day, label in lines]
    return ProofsPanel(proofs=proofs, realisation_choices=choices, kind_choices=kind_choices(), can_add=addable)


def proof_links(panel: ProofsPanel | None, db: Session, initiative: Initiative) -> dict[int, list[ProofLink]]:
    """The proofs each realisation carries, by realisation id (for the realisations' table)."""
    if panel is None or not panel.proofs:
        return {}
    ids: dict[str, int] = {
        public_id: row_id
        for public_id, row_id in db.execute(
            select(RealisationLine.public_id, RealisationLine.id).where(
                RealisationLine.initiative_id == initiative.id,
                RealisationLine.public_id.in_(sorted(panel.by_realisation())),
            )
        )
    }
    return {
        ids[public_id]: [ProofLink(p.public_id, p.title, p.is_pdf) for p in proofs]
        for public_id, proofs in panel.by_realisation().items()
        if public_id in ids
    }
