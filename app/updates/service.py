"""Progress updates: news of the work with a progress % and photos, after the convention is signed.

Every photo carries two answers: whether recognisable people appear, and if so whether they
all agreed (their parents for minors). A photo with recognisable people who did not all agree
stays private: it is listed and served to the promoters and the town's staff only, never on a
page the public sees (image rights, art. 9 of the Civil Code; GDPR for minors).

The initiative's progress is the % of its latest update that gives one. Posting tells the
followers (``app.follows``); every change is audited under the initiative. Images are decoded
by ``prepare_photos`` before the write transaction, as ``app.media`` does.

Anyone may report an update or one of its public photos (``app.updates.subjects``); an update or
a photo an agent hid is gone for the public (pages, API, files, progress) and stays visible,
marked with the reason, to the promoters and the staff.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from app.accounts.display import public_name
from app.accounts.models import Person
from app.audit import service as audit
from app.config import Settings
from app.core.actor import Actor
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.db.base import utcnow
from app.follows import service as follows
from app.initiatives import permissions as perm
from app.initiatives import service as initiatives
from app.initiatives import workflow as wf
from app.initiatives.models import Initiative, InitiativeMember
from app.media import images
from app.media import service as media
from app.media.models import StoredFile
from app.media.storage import MediaStore
from app.moderation import permissions as mod_perm
from app.moderation.models import HiddenContent
from app.moderation.visibility import hidden_clause, is_hidden
from app.privacy.export import register_section
from app.updates import permissions as update_perm
from app.updates.forms import ALT_TEXT_MAX, BODY_MAX, PHOTO_SLOTS, PhotoChange, PhotoSlot
from app.updates.models import ProgressUpdate, ProgressUpdatePhoto
from app.updates.subjects import UPDATE, UPDATE_PHOTO
from app.web.forms import clean_text
from app.web.i18n import _

MAX_PHOTOS = PHOTO_SLOTS
media.register_thumbnail_column(ProgressUpdatePhoto.thumbnail_file_id)
# How much of the update's text a notification carries (the page has the rest).
EXCERPT = 600


@dataclass(frozen=True)
class NewPhoto:
    """A photo of a new update, decoded and re-encoded (with its thumbnail), not stored yet."""

    prepared: media.PreparedImage
    alt_text: str
    identifiable: bool
    agreed: bool | None

    @property
    def is_public(self) -> bool:
        return not self.identifiable or self.agreed is True


# ---------------------------------------------------------------- checks


def _not_open(initiative: Initiative) -> Conflict:
    return Conflict(
        _("On publie des nouvelles une fois la convention signée : l'initiative est « %(state)s ».")
        % {"state": wf.state_label(initiative.state)}
    )


def _require_post(actor: Actor, initiative: Initiative, members: Sequence[InitiativeMember]) -> None:
    if not update_perm.acts_for(actor, initiative, members):
        raise Forbidden(_("Seul·es les porteur·ses du projet et les agent·es publient ses nouvelles."))
    if not update_perm.is_open(initiative):
        raise _not_open(initiative)


def _body(text: str) -> str:
    value = clean_text(text or "")
    if not value:
        raise Invalid(_("Ce champ est obligatoire."), field="body")
    if len(value) > BODY_MAX:
        raise Invalid(_("Saisissez au plus %(n)s caractères.") % {"n": BODY_MAX}, field="body")
    return value


def _progress(value: int | None) -> int | None:
    if value is not None and not 0 <= value <= 100:
        raise Invalid(_("Indiquez un pourcentage entre 0 et 100."), field="progress")
    return value


def _answers(identifiable: bool | None, agreed: bool | None, field: str) -> tuple[bool, bool | None]:
    """The two answers, checked: the agreement is asked only when people can be recognised."""
    if identifiable is None:
        raise Invalid(_("Dites si des personnes reconnaissables apparaissent sur la photo."), field=field)
    if identifiable and agreed is None:
        raise Invalid(_("Dites si les personnes visibles ont toutes donné leur accord."), field=field)
    return identifiable, agreed if identifiable else None


def check_can_post(db: Session, actor: Actor, territory_id: int, public_id: str) -> None:
    """Refuses early (404, 403, 409) what ``post_update`` would refuse, before images are decoded."""
    initiative, members = initiatives.get_visible(db, actor, territory_id, public_id)
    _require_post(actor, initiative, members)


def prepare_photos(slots: Sequence[PhotoSlot]) -> list[NewPhoto]:
    """Every chosen photo checked and re-encoded with its thumbnail; one refused file refuses the update."""
    if len(slots) > MAX_PHOTOS:
        raise Invalid(_("Une nouvelle compte au plus %(max)s photos.") % {"max": MAX_PHOTOS}, field="photo-1")
    done: list[NewPhoto] = []
    for slot in slots:
        field = f"photo-{slot.number}"
        prepared = media.prepare_image(slot.upload, thumbnail_side=images.THUMBNAIL_SIDE, field=field)
        done.append(NewPhoto(prepared, slot.alt_text, slot.identifiable, slot.agreed))
    return done


# ---------------------------------------------------------------- posting


def default_alt_text(title: str, number: int) -> str:
    text = _("Photo %(n)s des nouvelles de l'initiative « %(title)s »") % {"n": number, "title": title}
    return text[:ALT_TEXT_MAX]


def _store_photo(
    db: Session, actor: Actor, initiative: Initiative, update: ProgressUpdate, photo: NewPhoto, position: int,
    *, store: MediaStore,
) -> ProgressUpdatePhoto:  # fmt: skip
    processed = photo.prepared.processed
    if processed.thumbnail is None:
        raise ValueError("an update photo is prepared with its thumbnail (prepare_photos)")
    full = media.store_image(db, actor, initiative.territory_id, photo.prepared, store=store)
    thumbnail = media.PreparedImage(
        photo.prepared.filename, images.ProcessedImage(processed.thumbnail, None, processed.source_format)
    )
    thumb = media.store_image(db, actor, initiative.territory_id, thumbnail, store=store)
    identifiable, agreed = _answers(photo.identifiable, photo.agreed, f"identifiable-{position}")
    row = ProgressUpdatePhoto(
        territory_id=initiative.territory_id,
        update_id=update.id,
        file_id=full.id,
        thumbnail_file_id=thumb.id,
        alt_text=(clean_text(photo.alt_text)[:ALT_TEXT_MAX] or default_alt_text(initiative.title, position)),
        position=position,
        identifiable_people=identifiable,
        people_agreed=agreed,
    )
    db.add(row)
    db.flush()
    return row


def _photo_audit(photo: ProgressUpdatePhoto) -> dict[str, Any]:
    return {
        "photo": photo.public_id,
        "identifiable": photo.identifiable_people,
        "agreed": photo.people_agreed,
        "public": photo.is_public,
    }


def post_update(
    db: Session,
    actor: Actor,
    territory_id: int,
    public_id: str,
    body: str,
    progress: int | None,
    photos: Sequence[NewPhoto] = (),
    *,
    store: MediaStore,
    settings: Settings | None = None,
) -> ProgressUpdate:
    """Publishes an update with its prepared photos, then tells the initiative's followers."""
    initiative, members = initiatives.get_visible(db, actor, territory_id, public_id, for_update=True)
    _require_post(actor, initiative, members)
    text = _body(body)
    percent = _progress(progress)
    if len(photos) > MAX_PHOTOS:
        raise Invalid(_("Une nouvelle compte au plus %(max)s photos.") % {"max": MAX_PHOTOS}, field="photo-1")
    update = ProgressUpdate(
        territory_id=territory_id,
        initiative_id=initiative.id,
        author_person_id=actor.person_id if actor.territory_id == territory_id else None,
        body=text,
        progress_percent=percent,
    )
    db.add(update)
    db.flush()
    stored = [
        _store_photo(db, actor, initiative, update, photo, n, store=store) for n, photo in enumerate(photos, start=1)
    ]
    audit.record(
        db, actor, "progress_update.post", "initiative", initiative.public_id, territory_id=territory_id,
        data={"update": update.public_id, "progress_percent": percent, "photos": [_photo_audit(p) for p in stored]},
    )  # fmt: skip
    if perm.is_public(initiative):
        _tell_followers(db, actor, initiative, update, settings)
    return update


def _tell_followers(
    db: Session, actor: Actor, initiative: Initiative, update: ProgressUpdate, settings: Settings | None
) -> None:
    text = update.body if len(update.body) <= EXCERPT else update.body[: EXCERPT - 1].rstrip() + "…"
    if update.progress_percent is not None:
        text += "\n\n" + _("Avancement : %(n)s %%") % {"n": update.progress_percent}
    follows.tell_followers(
        db,
        actor,
        initiative,
        _("Nouvelles de « %(title)s »") % {"title": initiative.title},
        text,
        link=f"/initiatives/{initiative.public_id}#nouvelles-{update.public_id}",
        settings=settings,
    )


# ---------------------------------------------------------------- changing


def _update(db: Session, initiative: Initiative, update_public_id: str) -> ProgressUpdate:
    row = db.scalar(
        select(ProgressUpdate).where(
            ProgressUpdate.public_id == update_public_id,
            ProgressUpdate.initiative_id == initiative.id,
            ProgressUpdate.territory_id == initiative.territory_id,
        )
    )
    if row is None:
        raise NotFound(_("Ces nouvelles n'existent pas."))
    return row


def _photos_of(db: Session, update: ProgressUpdate) -> list[ProgressUpdatePhoto]:
    return list(
        db.scalars(
            select(ProgressUpdatePhoto)
            .where(ProgressUpdatePhoto.update_id == update.id, ProgressUpdatePhoto.territory_id == update.territory_id)
            .order_by(ProgressUpdatePhoto.position, ProgressUpdatePhoto.id)
        )
    )


def _changeable(
    db: Session, actor: Actor, territory_id: int, public_id: str, update_public_id: str, *, for_update: bool = False
) -> tuple[Initiative, ProgressUpdate]:
    initiative, _members = initiatives.get_visible(db, actor, territory_id, public_id, for_update=for_update)
    update = _update(db, initiative, update_public_id)
    if not update_perm.can_change(actor, initiative, update):
        raise Forbidden(_("Seul·es l'auteur·e de ces nouvelles et le personnel de la commune peuvent les changer."))
    return initiative, update


def _remove_photo(db: Session, photo: ProgressUpdatePhoto, *, store: MediaStore) -> None:
    files = [
        media.get_stored_file(db, photo.territory_id, photo.file_id),
        media.get_stored_file(db, photo.territory_id, photo.thumbnail_file_id),
    ]
    db.delete(photo)
    db.flush()
    for row in files:
        media.delete_stored_file(db, store, row)


def edit_update(
    db: Session,
    actor: Actor,
    territory_id: int,
    public_id: str,
    update_public_id: str,
    body: str,
    progress: int | None,
    changes: Sequence[PhotoChange] = (),
    *,
    store: MediaStore,
) -> ProgressUpdate:
    """Changes an update's text, progress and photos (descriptions, answers, removal); audited."""
    initiative, update = _changeable(db, actor, territory_id, public_id, update_public_id, for_update=True)
    text = _body(body)
    percent = _progress(progress)
    photos = {p.public_id: p for p in _photos_of(db, update)}
    by_id = {c.public_id: c for c in changes}
    photo_log: list[dict[str, Any]] = []
    for photo_id, photo in photos.items():
        change = by_id.get(photo_id)
        if change is None:
            continue
        if change.remove:
            _remove_photo(db, photo, store=store)
            photo_log.append({"photo": photo_id, "removed": True})
            continue
        alt_text = clean_text(change.alt_text)
        if not alt_text:
            raise Invalid(_("Ce champ est obligatoire."), field=f"alt-{photo_id}")
        if len(alt_text) > ALT_TEXT_MAX:
            raise Invalid(_("Saisissez au plus %(n)s caractères.") % {"n": ALT_TEXT_MAX}, field=f"alt-{photo_id}")
        identifiable, agreed = _answers(change.identifiable, change.agreed, f"identifiable-{photo_id}")
        answers_changed = (identifiable, agreed) != (photo.identifiable_people, photo.people_agreed)
        described = alt_text != photo.alt_text
        if not answers_changed and not described:
            continue
        photo.alt_text = alt_text
        photo.identifiable_people = identifiable
        photo.people_agreed = agreed
        if answers_changed:
            # Logged as they now stand: who made a photo public or private, and when.
            photo_log.append({**_photo_audit(photo), "described": described})
        else:
            photo_log.append({"photo": photo_id, "described": True})
    changed: list[str] = []
    if text != update.body:
        update.body = text
        changed.append("body")
    if percent != update.progress_percent:
        update.progress_percent = percent
        changed.append("progress_percent")
    if not changed and not photo_log:
        return update
    update.edited_at = utcnow()
    db.flush()
    audit.record(
        db, actor, "progress_update.edit", "initiative", initiative.public_id, territory_id=territory_id,
        data={"update": update.public_id, "changed": changed, "progress_percent": update.progress_percent,
              "photos": photo_log},
    )  # fmt: skip
    return update


def delete_update(
    db: Session, actor: Actor, territory_id: int, public_id: str, update_public_id: str, *, store: MediaStore
) -> None:
    """Deletes an update and its photos (their files go once the transaction has committed); audited."""
    initiative, update = _changeable(db, actor, territory_id, public_id, update_public_id, for_update=True)
    photos = _photos_of(db, update)
    for photo in photos:
        _remove_photo(db, photo, store=store)
    update_id = update.public_id
    db.delete(update)
    db.flush()
    audit.record(
        db, actor, "progress_update.delete", "initiative", initiative.public_id, territory_id=territory_id,
        data={"update": update_id, "photos": [p.public_id for p in photos]},
    )  # fmt: skip


# ---------------------------------------------------------------- what pages show


@dataclass(frozen=True)
class HiddenNote:
    """Why and since when an agent hid an update or a photo (shown to the team and the staff only)."""

    reason: str
    since: dt.datetime


@dataclass(frozen=True)
class UpdatePhotoView:
    public_id: str
    number: int
    alt_text: str
    thumbnail_width: int | None
    thumbnail_height: int | None
    identifiable: bool
    agreed: bool | None
    private: bool  # recognisable people without everyone's agreement: promoters and staff only
    hidden: HiddenNote | None  # hidden by an agent: promoters and staff only
    can_report: bool


@dataclass(frozen=True)
class UpdateView:
    public_id: str
    body: str
    progress_percent: int | None
    created_at: dt.datetime
    edited_at: dt.datetime | None
    author_name: str
    photos: list[UpdatePhotoView]
    can_change: bool
    hidden: HiddenNote | None  # hidden by an agent: promoters and staff only
    can_report: bool


@dataclass(frozen=True)
class UpdatePhotoPolicy:
    max_photos: int = MAX_PHOTOS
    max_megabytes: int = images.MAX_FILE_BYTES // (1024 * 1024)
    accept: str = images.ACCEPT


@dataclass(frozen=True)
class UpdatesPanel:
    initiative_public_id: str
    initiative_title: str
    updates: list[UpdateView]
    progress: int | None
    can_post: bool
    sees_private: bool
    can_moderate: bool = False  # the town's staff: a « Modérer » link on each update and photo
    policy: UpdatePhotoPolicy = field(default_factory=UpdatePhotoPolicy)
    # How app.moderation names an update and a photo (report and moderation links).
    update_subject: ClassVar[str] = UPDATE
    photo_subject: ClassVar[str] = UPDATE_PHOTO

    @property
    def slots(self) -> range:
        return range(1, self.policy.max_photos + 1)


def _author_name(person: Person | None, private: bool) -> str:
    if person is None:
        return _("compte supprimé")
    if private and person.anonymised_at is None:
        return person.display_name
    return public_name(person)


def _note(reason: str | None, since: dt.datetime | None) -> HiddenNote | None:
    return HiddenNote(reason, since) if reason is not None and since is not None else None


def _views(
    db: Session, actor: Actor | None, initiative: Initiative, *, private: bool, sees_hidden: bool, reportable: bool
) -> list[UpdateView]:
    """``private``: private photos and real names; ``sees_hidden``: what an agent hid, marked;
    ``reportable``: « Signaler » is offered on what the public sees."""
    update_hidden = aliased(HiddenContent)
    stmt = (
        select(ProgressUpdate, Person, update_hidden.reason, update_hidden.created_at)
        .outerjoin(Person, Person.id == ProgressUpdate.author_person_id)
        .outerjoin(
            update_hidden,
            (update_hidden.subject_type == UPDATE) & (update_hidden.subject_id == ProgressUpdate.public_id),
        )
        .where(ProgressUpdate.initiative_id == initiative.id, ProgressUpdate.territory_id == initiative.territory_id)
        .order_by(ProgressUpdate.created_at.desc(), ProgressUpdate.id.desc())
    )
    if not sees_hidden:
        stmt = stmt.where(update_hidden.id.is_(None))
    rows = db.execute(stmt).all()
    if not rows:
        return []
    thumb = aliased(StoredFile)
    photo_hidden = aliased(HiddenContent)
    photo_query = (
        select(ProgressUpdatePhoto, thumb.width, thumb.height, photo_hidden.reason, photo_hidden.created_at)
        .join(thumb, thumb.id == ProgressUpdatePhoto.thumbnail_file_id)
        .outerjoin(
            photo_hidden,
            (photo_hidden.subject_type == UPDATE_PHOTO) & (photo_hidden.subject_id == ProgressUpdatePhoto.public_id),
        )
        .where(
            ProgressUpdatePhoto.update_id.in_([u.id for u, *_rest in rows]),
            ProgressUpdatePhoto.territory_id == initiative.territory_id,
        )
        .order_by(ProgressUpdatePhoto.update_id, ProgressUpdatePhoto.position, ProgressUpdatePhoto.id)
    )
    if not sees_hidden:
        photo_query = photo_query.where(photo_hidden.id.is_(None))
    by_update: dict[int, list[UpdatePhotoView]] = {}
    for photo, width, height, hidden_reason, hidden_since in db.execute(photo_query):
        if not photo.is_public and not private:
            continue  # never listed on a page the public sees
        shown = by_update.setdefault(photo.update_id, [])
        shown.append(
            UpdatePhotoView(
                public_id=photo.public_id,
                number=len(shown) + 1,
                alt_text=photo.alt_text,
                thumbnail_width=width,
                thumbnail_height=height,
                identifiable=photo.identifiable_people,
                agreed=photo.people_agreed,
                private=not photo.is_public,
                hidden=_note(hidden_reason, hidden_since),
                # Only what the public sees: a private photo cannot be reported.
                can_report=reportable and photo.is_public,
            )
        )
    return [
        UpdateView(
            public_id=update.public_id,
            body=update.body,
            progress_percent=update.progress_percent,
            created_at=update.created_at,
            edited_at=update.edited_at,
            author_name=_author_name(person, private),
            photos=by_update.get(update.id, []),
            can_change=update_perm.can_change(actor, initiative, update),
            hidden=_note(hidden_reason, hidden_since),
            can_report=reportable,
        )
        for update, person, hidden_reason, hidden_since in rows
    ]


def _latest_progress(views: Sequence[UpdateView]) -> int | None:
    # A hidden update does not move the bar, for its team either: they see what the public sees.
    return next((v.progress_percent for v in views if v.progress_percent is not None and v.hidden is None), None)


def _build_panel(
    db: Session, actor: Actor | None, initiative: Initiative, members: Sequence[InitiativeMember]
) -> UpdatesPanel:
    private = update_perm.sees_private_photos(actor, initiative, members)
    views = _views(
        db, actor, initiative, private=private, sees_hidden=update_perm.sees_hidden(actor, initiative, members),
        reportable=update_perm.offers_report(actor, initiative, members),
    )  # fmt: skip
    return UpdatesPanel(
        initiative_public_id=initiative.public_id,
        initiative_title=initiative.title,
        updates=views,
        progress=_latest_progress(views),
        can_post=update_perm.can_post(actor, initiative, members),
        sees_private=private,
        can_moderate=mod_perm.can_moderate(actor, initiative.territory_id),
    )


def panel_for(
    db: Session, actor: Actor | None, initiative: Initiative, members: Sequence[InitiativeMember] | None = None
) -> UpdatesPanel | None:
    """The updates of an initiative already known to be visible to the actor, newest first; None
    before the signature when there is nothing to show."""
    if members is None:
        members = list(db.scalars(select(InitiativeMember).where(InitiativeMember.initiative_id == initiative.id)))
    if not perm.can_view(actor, initiative, members):
        raise NotFound(_("Cette initiative n'existe pas."))
    found = _build_panel(db, actor, initiative, members)
    if not found.updates and not found.can_post and not update_perm.is_open(initiative):
        return None
    return found


def panel(db: Session, actor: Actor | None, territory_id: int, public_id: str) -> UpdatesPanel:
    """The updates panel on its own page (404 if the actor may not see the initiative)."""
    initiative, members = initiatives.get_visible(db, actor, territory_id, public_id)
    return _build_panel(db, actor, initiative, members)


def current_progress(db: Session, initiative: Initiative) -> int | None:
    """The % of the initiative's latest update that gives one (None without any)."""
    return db.scalar(
        select(ProgressUpdate.progress_percent)
        .where(
            ProgressUpdate.initiative_id == initiative.id,
            ProgressUpdate.territory_id == initiative.territory_id,
            ProgressUpdate.progress_percent.is_not(None),
            ~hidden_clause(UPDATE, ProgressUpdate.public_id),
        )
        .order_by(ProgressUpdate.created_at.desc(), ProgressUpdate.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class EditPhoto:
    public_id: str
    number: int
    alt_text: str
    identifiable: bool
    agreed: bool | None
    original_name: str


@dataclass(frozen=True)
class EditView:
    initiative_public_id: str
    initiative_title: str
    update_public_id: str
    created_at: dt.datetime
    body: str
    progress_percent: int | None
    photos: list[EditPhoto]

    def values(self) -> dict[str, Any]:
        """The form's values as stored."""
        values: dict[str, Any] = {
            "body": self.body,
            "progress": "" if self.progress_percent is None else str(self.progress_percent),
        }
        for p in self.photos:
            values[f"alt-{p.public_id}"] = p.alt_text
            values[f"identifiable-{p.public_id}"] = "yes" if p.identifiable else "no"
            if p.agreed is not None:
                values[f"agreed-{p.public_id}"] = "yes" if p.agreed else "no"
        return values


def edit_view(db: Session, actor: Actor, territory_id: int, public_id: str, update_public_id: str) -> EditView:
    initiative, update = _changeable(db, actor, territory_id, public_id, update_public_id)
    full = aliased(StoredFile)
    rows = db.execute(
        select(ProgressUpdatePhoto, full.original_name)
        .join(full, full.id == ProgressUpdatePhoto.file_id)
        .where(ProgressUpdatePhoto.update_id == update.id, ProgressUpdatePhoto.territory_id == territory_id)
        .order_by(ProgressUpdatePhoto.position, ProgressUpdatePhoto.id)
    ).all()
    return EditView(
        initiative_public_id=initiative.public_id,
        initiative_title=initiative.title,
        update_public_id=update.public_id,
        created_at=update.created_at,
        body=update.body,
        progress_percent=update.progress_percent,
        photos=[
            EditPhoto(p.public_id, n, p.alt_text, p.identifiable_people, p.people_agreed, name)
            for n, (p, name) in enumerate(rows, start=1)
        ],
    )


def photo_file(
    db: Session, actor: Actor | None, territory_id: int, public_id: str, update_public_id: str, photo_public_id: str,
    *, thumbnail: bool,
) -> media.ServedFile:  # fmt: skip
    """A photo of an update (or its thumbnail) for those who may see it; 404 otherwise. A photo
    without the agreement of the people it shows, or hidden by an agent (itself or its update),
    is served to the promoters and staff only."""
    initiative, members = initiatives.get_visible(db, actor, territory_id, public_id)
    update = _update(db, initiative, update_public_id)
    photo = db.scalar(
        select(ProgressUpdatePhoto).where(
            ProgressUpdatePhoto.public_id == photo_public_id,
            ProgressUpdatePhoto.update_id == update.id,
            ProgressUpdatePhoto.territory_id == territory_id,
        )
    )
    if photo is None:
        raise NotFound(_("Cette photo n'existe pas."))
    if not photo.is_public and not update_perm.sees_private_photos(actor, initiative, members):
        raise NotFound(_("Cette photo n'existe pas."))
    hidden = is_hidden(db, UPDATE, update.public_id) or is_hidden(db, UPDATE_PHOTO, photo.public_id)
    if hidden and not update_perm.sees_hidden(actor, initiative, members):
        raise NotFound(_("Cette photo n'existe pas."))
    row = media.get_stored_file(db, territory_id, photo.thumbnail_file_id if thumbnail else photo.file_id)
    return media.ServedFile(file=row, public=perm.is_public(initiative) and photo.is_public and not hidden)


# ---------------------------------------------------------------- personal data


@register_section("progress_updates")
def _my_updates(db: Session, person: Person) -> list[dict[str, Any]]:
    """The updates the person posted, with their photos' descriptions and answers (the images are on the pages)."""
    updates = db.execute(
        select(ProgressUpdate, Initiative.public_id)
        .join(Initiative, Initiative.id == ProgressUpdate.initiative_id)
        .where(ProgressUpdate.author_person_id == person.id, ProgressUpdate.territory_id == person.territory_id)
        .order_by(ProgressUpdate.id)
    ).all()
    if not updates:
        return []
    photos: dict[int, list[dict[str, Any]]] = {}
    for photo in db.scalars(
        select(ProgressUpdatePhoto)
        .where(ProgressUpdatePhoto.update_id.in_([u.id for u, _p in updates]))
        .order_by(ProgressUpdatePhoto.update_id, ProgressUpdatePhoto.position)
    ):
        photos.setdefault(photo.update_id, []).append(
            {
                "public_id": photo.public_id,
                "alt_text": photo.alt_text,
                "identifiable_people": photo.identifiable_people,
                "people_agreed": photo.people_agreed,
                "public": photo.is_public,
            }
        )
    return [
        {
            "public_id": update.public_id,
            "initiative": initiative_public_id,
            "body": update.body,
            "progress_percent": update.progress_percent,
            "created_at": update.created_at.isoformat(),
            "edited_at": update.edited_at.isoformat() if update.edited_at else None,
            "photos": photos.get(update.id, []),
        }
        for update, initiative_public_id in updates
    ]
