"""Storing images, and the photos of an initiative (add, describe, remove, list).

``store_image`` is the generic entry point (any domain that takes an image, a scanned
signature for instance): check and re-encode (``app.media.images``), write the file, then add
its ``StoredFile`` row. The caller records the audit entry of its own action. The photo
functions check the territory and the actor's rights, keep to the quota, and write one audit
entry per change. Pages get plain dataclasses.

Decoding an image takes time: ``prepare_image`` / ``prepare_photos`` do it with no database
work, so that routes run them before their write transaction starts (on SQLite the write
transaction holds the database's single write lock).
"""

from __future__ import annotations

import datetime as dt
import logging
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from app.accounts.models import Person
from app.audit import service as audit
from app.core.actor import Actor
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.initiatives import permissions as perm
from app.initiatives import service as initiatives
from app.initiatives import workflow as wf
from app.initiatives.models import Initiative, InitiativeMember
from app.media import images
from app.media import permissions as media_perm
from app.media.models import InitiativePhoto, StoredFile
from app.media.storage import MediaStore, delete_after_commit, new_key, write_in_transaction
from app.moderation.models import SubjectType
from app.moderation.visibility import hidden_clause, is_hidden
from app.privacy.export import register_section
from app.web.i18n import _

log = logging.getLogger("cailloux.media")

MAX_PHOTOS = 8
ORIGINAL_NAME_MAX = 200
# Characters that could hide or reorder a file name on screen (RTL override "gpj.exe"), or break a header.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


@dataclass(frozen=True)
class Upload:
    """An uploaded file as the service sees it: the name the browser gave, and the bytes."""

    filename: str
    stream: BinaryIO


@dataclass(frozen=True)
class PreparedImage:
    """An upload checked and re-encoded, not stored yet."""

    filename: str
    processed: images.ProcessedImage


def clean_file_name(raw: str, limit: int = ORIGINAL_NAME_MAX) -> str:
    """The uploaded name for display only: last path segment, no control or direction characters, bounded."""
    name = unicodedata.normalize("NFC", raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _HIDDEN_CATEGORIES).strip()
    if len(name) > limit:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 8:
            name = stem[: limit - len(extension) - 2] + "…." + extension
        else:
            name = name[: limit - 1] + "…"
    return name


# ---------------------------------------------------------------- stored files


def _store_encoded(
    db: Session, actor: Actor, territory_id: int, image: images.EncodedImage, *, store: MediaStore, original_name: str
) -> StoredFile:
    key = new_key(f"t{territory_id}", "jpg")
    # The file first: a row never points at bytes that are not safely on disk.
    write_in_transaction(db, store, key, image.data)
    row = StoredFile(
        territory_id=territory_id,
        storage_key=key,
        content_type=image.content_type,
        byte_size=len(image.data),
        width=image.width,
        height=image.height,
        sha256=image.sha256,
        original_name=clean_file_name(original_name),
        uploaded_by_person_id=actor.person_id if actor.territory_id == territory_id else None,
    )
    db.add(row)
    db.flush()
    return row


def prepare_image(
    upload: Upload, *, max_side: int = images.MAX_SIDE, thumbnail_side: int | None = None, field: str | None = None
) -> PreparedImage:
    """Checks and re-encodes an upload (no database work); raises ``Invalid`` on ``field``."""
    try:
        processed = images.process_stream(upload.stream, max_side=max_side, thumbnail_side=thumbnail_side)
    except Invalid as exc:
        raise Invalid(exc.message, field=field) from None
    return PreparedImage(upload.filename, processed)


def store_image(
    db: Session,
    actor: Actor,
    territory_id: int,
    upload: Upload | PreparedImage,
    *,
    store: MediaStore,
    max_side: int = images.MAX_SIDE,
    field: str | None = None,
) -> StoredFile:
    """Stores one image (prepared first if given as a raw upload); raises ``Invalid`` (on ``field``) when refused.

    The caller checks who may upload and records the audit entry of its own action. Passing a
    ``PreparedImage`` made before the transaction keeps the decoding out of the write lock.
    """
    prepared = upload if isinstance(upload, PreparedImage) else prepare_image(upload, max_side=max_side, field=field)
    return _store_encoded(
        db, actor, territory_id, prepared.processed.image, store=store, original_name=prepared.filename
    )


def get_stored_file(db: Session, territory_id: int, file_id: int) -> StoredFile:
    row = db.scalar(select(StoredFile).where(StoredFile.id == file_id, StoredFile.territory_id == territory_id))
    if row is None:
        raise NotFound(_("Ce fichier n'existe pas."))
    return row


def delete_stored_file(db: Session, store: MediaStore, row: StoredFile) -> None:
    """Deletes the row now and the file once the transaction has committed."""
    key = row.storage_key
    db.delete(row)
    db.flush()
    delete_after_commit(db, store, key)


# ---------------------------------------------------------------- initiative photos


def _photos(db: Session, initiative_id: int) -> list[InitiativePhoto]:
    return list(
        db.scalars(
            select(InitiativePhoto)
            .where(InitiativePhoto.initiative_id == initiative_id)
            .order_by(InitiativePhoto.position, InitiativePhoto.id)
        )
    )


def default_alt_text(title: str, number: int) -> str:
    text = _("Photo %(n)s de l'initiative « %(title)s »") % {"n": number, "title": title}
    return text[:300]


def _require_acting(actor: Actor, initiative: Initiative, members: Sequence[InitiativeMember]) -> None:
    if not media_perm.acts_for(actor, initiative, members):
        raise Forbidden(_("Seul·es les porteur·ses du projet et les agent·es peuvent changer ses photos."))


def _require_manage(actor: Actor, initiative: Initiative, members: Sequence[InitiativeMember]) -> None:
    _require_acting(actor, initiative, members)
    if not media_perm.can_manage_photos(actor, initiative, members):
        raise Conflict(
            _("Les photos de cette initiative ne changent plus : elle est « %(state)s ».")
            % {"state": wf.state_label(initiative.state)}
        )


def check_quota(existing: int, adding: int) -> None:
    """Refuses a batch that would take the initiative past ``MAX_PHOTOS``."""
    if existing + adding <= MAX_PHOTOS:
        return
    left = MAX_PHOTOS - existing
    if left <= 0:
        raise Invalid(
            _("Cette initiative a déjà %(max)s photos : retirez-en une avant d'en ajouter.") % {"max": MAX_PHOTOS},
            field="photos",
        )
    raise Invalid(
        _("Une initiative compte au plus %(max)s photos : vous pouvez encore en ajouter %(left)s.")
        % {"max": MAX_PHOTOS, "left": left},
        field="photos",
    )


def prepare_photos(uploads: Sequence[Upload], *, existing: int = 0) -> list[PreparedImage]:
    """Every file checked and re-encoded (with its thumbnail) before anything is written; one
    refused file refuses the batch. ``existing``: photos the initiative has, for the quota."""
    check_quota(existing, len(uploads))
    done: list[PreparedImage] = []
    for upload in uploads:
        try:
            done.append(prepare_image(upload, thumbnail_side=images.THUMBNAIL_SIDE, field="photos"))
        except Invalid as exc:
            name = clean_file_name(upload.filename, 80)
            message = _("« %(name)s » : %(problem)s") % {"name": name, "problem": exc.message} if name else exc.message
            raise Invalid(message, field="photos") from None
    return done


def check_can_add(db: Session, actor: Actor, territory_id: int, public_id: str) -> int:
    """Refuses early (404, 403, 409) what ``add_photos`` would refuse; returns the photo count."""
    initiative, members = initiatives.get_visible(db, actor, territory_id, public_id)
    _require_manage(actor, initiative, members)
    return len(_photos(db, initiative.id))


def add_photos(
    db: Session,
    actor: Actor,
    territory_id: int,
    public_id: str,
    photos: Sequence[PreparedImage],
    *,
    store: MediaStore,
    alt_text: str = "",
) -> list[InitiativePhoto]:
    """Adds prepared photos to an initiative (``alt_text`` for each, or a numbered default to improve later)."""
    initiative, members = initiatives.get_visible(db, actor, territory_id, public_id, for_update=True)
    _require_manage(actor, initiative, members)
    if not photos:
        raise Invalid(_("Choisissez au moins une photo à ajouter."), field="photos")
    existing = _photos(db, initiative.id)
    # Checked again under the lock: a parallel upload may have used up the quota meanwhile.
    check_quota(len(existing), len(photos))
    position = max((p.position for p in existing), default=0)
    added: list[InitiativePhoto] = []
    for prepared in photos:
        result = prepared.processed
        if result.thumbnail is None:
            raise ValueError("a photo is prepared with its thumbnail (prepare_photos)")
        name = prepared.filename
        full = _store_encoded(db, actor, territory_id, result.image, store=store, original_name=name)
        thumb = _store_encoded(db, actor, territory_id, result.thumbnail, store=store, original_name=name)
        position += 1
        photo = InitiativePhoto(
            territory_id=territory_id,
            initiative_id=initiative.id,
            file_id=full.id,
            thumbnail_file_id=thumb.id,
            alt_text=alt_text or default_alt_text(initiative.title, len(existing) + len(added) + 1),
            position=position,
        )
        db.add(photo)
        db.flush()
        audit.record(
            db, actor, "initiative.photo.add", "initiative", initiative.public_id, territory_id=territory_id,
            data={"photo": photo.public_id, "file": full.public_id, "source_format": result.source_format,
                  "bytes": full.byte_size},
        )  # fmt: skip
        added.append(photo)
    return added


def _photo(db: Session, initiative: Initiative, photo_public_id: str) -> InitiativePhoto:
    photo = db.scalar(
        select(InitiativePhoto).where(
            InitiativePhoto.public_id == photo_public_id,
            InitiativePhoto.initiative_id == initiative.id,
            InitiativePhoto.territory_id == initiative.territory_id,
        )
    )
    if photo is None:
        raise NotFound(_("Cette photo n'existe pas."))
    return photo


def describe_photo(
    db: Session, actor: Actor, territory_id: int, public_id: str, photo_public_id: str, alt_text: str
) -> InitiativePhoto:
    """Changes a photo's text alternative."""
    initiative, members = initiatives.get_visible(db, actor, territory_id, public_id, for_update=True)
    photo = _photo(db, initiative, photo_public_id)
    _require_acting(actor, initiative, members)
    if not media_perm.can_describe_photos(actor, initiative, members):
        raise Conflict(
            _("Les photos de cette initiative ne changent plus : elle est « %(state)s ».")
            % {"state": wf.state_label(initiative.state)}
        )
    if not alt_text.strip():
        raise Invalid(_("Ce champ est obligatoire."), field="alt_text")
    if photo.alt_text == alt_text:
        return photo
    photo.alt_text = alt_text[:300]
    db.flush()
    audit.record(
        db, actor, "initiative.photo.describe", "initiative", initiative.public_id, territory_id=territory_id,
        data={"photo": photo.public_id},
    )  # fmt: skip
    return photo


def remove_photo(
    db: Session, actor: Actor, territory_id: int, public_id: str, photo_public_id: str, *, store: MediaStore
) -> None:
    """Removes a photo; its files go once the transaction has committed."""
    initiative, members = initiatives.get_visible(db, actor, territory_id, public_id, for_update=True)
    photo = _photo(db, initiative, photo_public_id)
    _require_manage(actor, initiative, members)
    files = [
        get_stored_file(db, territory_id, photo.file_id),
        get_stored_file(db, territory_id, photo.thumbnail_file_id),
    ]
    db.delete(photo)
    db.flush()
    for row in files:
        delete_stored_file(db, store, row)
    audit.record(
        db, actor, "initiative.photo.remove", "initiative", initiative.public_id, territory_id=territory_id,
        data={"photo": photo_public_id},
    )  # fmt: skip


# ---------------------------------------------------------------- pages and serving


@dataclass(frozen=True)
class PhotoView:
    public_id: str
    number: int
    alt_text: str
    width: int | None
    height: int | None
    thumbnail_width: int | None
    thumbnail_height: int | None
    # The uploaded file name, shown (escaped) to those who may change the photos only.
    original_name: str


@dataclass(frozen=True)
class PhotoPolicy:
    """What upload forms tell residents before they choose files."""

    max_photos: int = MAX_PHOTOS
    max_megabytes: int = images.MAX_FILE_BYTES // (1024 * 1024)
    accept: str = images.ACCEPT


PHOTO_POLICY = PhotoPolicy()


@dataclass(frozen=True)
class Gallery:
    initiative_public_id: str
    initiative_title: str
    photos: list[PhotoView]
    can_manage: bool
    can_describe: bool
    policy: PhotoPolicy = PHOTO_POLICY

    @property
    def remaining(self) -> int:
        return max(0, self.policy.max_photos - len(self.photos))


def gallery_for(
    db: Session, actor: Actor | None, initiative: Initiative, members: Sequence[InitiativeMember] | None = None
) -> Gallery:
    """The photos of an initiative already known to be visible to the actor, in one query."""
    if members is None:
        members = list(db.scalars(select(InitiativeMember).where(InitiativeMember.initiative_id == initiative.id)))
    if not perm.can_view(actor, initiative, members):
        raise NotFound(_("Cette initiative n'existe pas."))
    can_describe = media_perm.can_describe_photos(actor, initiative, members)
    full = aliased(StoredFile)
    thumb = aliased(StoredFile)
    stmt = (
        select(
            InitiativePhoto.public_id,
            InitiativePhoto.alt_text,
            full.width,
            full.height,
            thumb.width,
            thumb.height,
            full.original_name,
        )
        .join(full, full.id == InitiativePhoto.file_id)
        .join(thumb, thumb.id == InitiativePhoto.thumbnail_file_id)
        .where(InitiativePhoto.initiative_id == initiative.id, InitiativePhoto.territory_id == initiative.territory_id)
        .order_by(InitiativePhoto.position, InitiativePhoto.id)
    )
    if not media_perm.sees_hidden_photos(actor, initiative, members):
        stmt = stmt.where(~hidden_clause(SubjectType.PHOTO, InitiativePhoto.public_id))
    rows = db.execute(stmt).all()
    photos = [
        PhotoView(
            public_id=r[0],
            number=n,
            alt_text=r[1],
            width=r[2],
            height=r[3],
            thumbnail_width=r[4],
            thumbnail_height=r[5],
            original_name=r[6] if can_describe else "",
        )
        for n, r in enumerate(rows, start=1)
    ]
    return Gallery(
        initiative_public_id=initiative.public_id,
        initiative_title=initiative.title,
        photos=photos,
        can_manage=media_perm.can_manage_photos(actor, initiative, members),
        can_describe=can_describe,
    )


def gallery(db: Session, actor: Actor | None, territory_id: int, public_id: str) -> Gallery:
    initiative, members = initiatives.get_visible(db, actor, territory_id, public_id)
    return gallery_for(db, actor, initiative, members)


@dataclass(frozen=True)
class ServedFile:
    file: StoredFile
    public: bool  # seen by anyone: may be cached by shared caches


def photo_file(
    db: Session, actor: Actor | None, territory_id: int, public_id: str, photo_public_id: str, *, thumbnail: bool
) -> ServedFile:
    """The stored file of a photo (or its thumbnail), for those who may see the initiative; else 404."""
    initiative, members = initiatives.get_visible(db, actor, territory_id, public_id)
    photo = _photo(db, initiative, photo_public_id)
    hidden = is_hidden(db, SubjectType.PHOTO, photo.public_id)
    if hidden and not media_perm.sees_hidden_photos(actor, initiative, members):
        raise NotFound(_("Cette photo n'existe pas."))
    row = get_stored_file(db, territory_id, photo.thumbnail_file_id if thumbnail else photo.file_id)
    return ServedFile(file=row, public=not hidden and perm.is_public(initiative))


# ---------------------------------------------------------------- personal data


def _value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


# Columns that point at thumbnails: copies made by Cailloux, not uploads of their own. A domain
# that keeps thumbnails (progress updates...) adds its column with ``register_thumbnail_column``.
_thumbnail_columns: list[Any] = [InitiativePhoto.thumbnail_file_id]


def register_thumbnail_column(column: Any) -> None:
    if not any(column is known for known in _thumbnail_columns):
        _thumbnail_columns.append(column)


@register_section("uploaded_files")
def _uploaded_files(db: Session, person: Person) -> list[dict[str, Any]]:
    """What the person uploaded (metadata only; the images are on the pages they belong to)."""
    rows = db.scalars(
        select(StoredFile)
        .where(
            StoredFile.uploaded_by_person_id == person.id,
            StoredFile.territory_id == person.territory_id,
            *(StoredFile.id.not_in(select(column).where(column.is_not(None))) for column in _thumbnail_columns),
        )
        .order_by(StoredFile.id)
    )
    names = ("public_id", "original_name", "content_type", "byte_size", "width", "height", "sha256", "created_at")
    return [{name: _value(getattr(row, name)) for name in names} for row in rows]
