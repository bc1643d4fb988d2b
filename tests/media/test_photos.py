"""Photos of an initiative: upload through the page and the proposal form, quota, rights, serving."""

from __future__ import annotations

import io
import re
import sqlite3
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from fsspec.implementations.local import LocalFileSystem  # type: ignore[import-untyped]
from limits import parse
from PIL import Image
from sqlalchemy import func, select

from app.config import Settings
from app.db.session import Database, read_only
from app.initiatives.models import Initiative
from app.media import images
from app.media.storage import media_store
from app.privacy.export import build_export
from tests.factories import Factory, form_fields, post_form
from tests.initiatives import helpers as h
from tests.media import helpers as m


def _draft(factory: Factory, database: Database, client: TestClient, title: str = "Fresque de l'école") -> str:
    alice = factory.account()
    public_id = h.propose(database, h.actor(alice), factory.territory(), title=title)
    factory.login(client, alice)
    return public_id


def test_promoter_adds_a_photo_whose_stored_copy_has_no_exif(
    client: TestClient, factory: Factory, database: Database, settings: Settings
) -> None:
    public_id = _draft(factory, database, client)
    page = client.get(f"/initiatives/{public_id}")
    assert 'enctype="multipart/form-data"' in page.text
    assert 'accept="image/jpeg,image/png,image/webp"' in page.text
    assert 'name="csrf_token"' in page.text

    response = m.upload(client, public_id, [("IMG_0001.jpg", m.jpeg_with_gps(orientation=6))])
    assert response.status_code == 303, response.text[:500]
    assert response.headers["location"] == f"/initiatives/{public_id}"

    [photo] = m.photos(database)
    assert photo.alt_text == "Photo 1 de l'initiative « Fresque de l'école »"
    full, thumb = m.stored_files(database)
    assert (photo.file_id, photo.thumbnail_file_id) == (full.id, thumb.id)
    assert full.content_type == "image/jpeg"
    assert full.original_name == "IMG_0001.jpg"
    assert (full.width, full.height) == (30, 60)  # turned upright
    assert "IMG_0001" not in full.storage_key

    data = media_store(settings).read(full.storage_key)
    assert len(data) == full.byte_size
    stored = Image.open(io.BytesIO(data))
    assert stored.format == "JPEG"
    assert dict(stored.getexif()) == {}
    assert b"SN-123456" not in data
    assert h.audit_actions(database, public_id) == ["initiative.propose", "initiative.photo.add"]

    page = client.get(f"/initiatives/{public_id}")
    thumb_url = f"/initiatives/{public_id}/photos/{photo.public_id}/miniature"
    assert f'src="{thumb_url}" alt="Photo 1 de l&#39;initiative « Fresque de l&#39;école »"' in page.text
    assert f'href="/initiatives/{public_id}/photos/{photo.public_id}"' in page.text
    served = client.get(f"/initiatives/{public_id}/photos/{photo.public_id}")
    assert served.status_code == 200
    assert served.content == data


def test_served_files_carry_safe_headers(client: TestClient, factory: Factory, database: Database) -> None:
    public_id = _draft(factory, database, client)
    assert m.upload(client, public_id, [("poly.jpg", m.polyglot())]).status_code == 303
    [photo] = m.photos(database)
    for path in (
        f"/initiatives/{public_id}/photos/{photo.public_id}",
        f"/initiatives/{public_id}/photos/{photo.public_id}/miniature",
    ):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/jpeg"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-security-policy"].startswith("sandbox")
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert re.fullmatch(r'inline; filename="[A-Za-z0-9_-]+\.jpg"', response.headers["content-disposition"])
        # A draft is private: never kept by a shared cache.
        assert "public" not in response.headers["cache-control"]
        assert "private" in response.headers["cache-control"] or "no-store" in response.headers["cache-control"]
        assert m.SCRIPT not in response.content
        assert b"<html" not in response.content
        again = client.get(path, headers={"If-None-Match": response.headers["etag"]})
        assert again.status_code == 304


def test_public_initiative_photos_are_seen_by_anyone(
    app: FastAPI, client: TestClient, factory: Factory, database: Database
) -> None:
    public_id = _draft(factory, database, client)
    assert m.upload(client, public_id, [("a.jpg", m.jpeg())], alt_text="Le mur gris de l'école").status_code == 303
    [photo] = m.photos(database)
    assert photo.alt_text == "Le mur gris de l'école"
    h.set_state(database, public_id, "approved")

    with TestClient(app, base_url="http://loos.test", follow_redirects=False) as anonymous:
        page = anonymous.get(f"/initiatives/{public_id}")
        assert page.status_code == 200
        assert 'alt="Le mur gris de l&#39;école"' in page.text
        assert "Ajouter des photos" not in page.text
        assert "Retirer la photo" not in page.text
        assert "a.jpg" not in page.text  # the uploaded name is for the team only
        response = anonymous.get(f"/initiatives/{public_id}/photos/{photo.public_id}/miniature")
        assert response.status_code == 200
        assert response.headers["cache-control"].startswith("public")
        assert response.headers["content-type"] == "image/jpeg"


def test_private_draft_photos_answer_404_to_others(
    app: FastAPI, client: TestClient, other_client: TestClient, factory: Factory, database: Database
) -> None:
    public_id = _draft(factory, database, client)
    assert m.upload(client, public_id, [("a.jpg", m.jpeg())]).status_code == 303
    [photo] = m.photos(database)
    paths = [
        f"/initiatives/{public_id}/photos/{photo.public_id}",
        f"/initiatives/{public_id}/photos/{photo.public_id}/miniature",
    ]

    with TestClient(app, base_url="http://loos.test", follow_redirects=False) as anonymous:
        for path in paths:
            assert anonymous.get(path).status_code == 404

    factory.login(client, factory.account("bob@example.org", display_name="Bob Durand"))
    for path in paths:
        assert client.get(path).status_code == 404
    assert m.upload_refused(client, public_id) == 404

    # The staff of another town, on their own host, with every role.
    boss = factory.account("boss@autre.example.org", territory="autre", roles=("admin", "agent", "executive"))
    factory.login(other_client, boss)
    for path in paths:
        assert other_client.get(path).status_code == 404

    # The town's agents see the draft and its photos.
    factory.login(client, factory.account("agent@example.org", roles=("agent",)))
    for path in paths:
        assert client.get(path).status_code == 200


def test_photo_of_another_initiative_is_not_served(client: TestClient, factory: Factory, database: Database) -> None:
    first = _draft(factory, database, client)
    second = h.propose(database, h.actor(factory.account("bob@example.org")), factory.territory(), title="Autre")
    h.set_state(database, second, "approved")
    assert m.upload(client, first, [("a.jpg", m.jpeg())]).status_code == 303
    [photo] = m.photos(database)
    assert client.get(f"/initiatives/{second}/photos/{photo.public_id}").status_code == 404


def test_quota_of_eight_photos(client: TestClient, factory: Factory, database: Database) -> None:
    public_id = _draft(factory, database, client)
    nine = [(f"p{i}.jpg", m.jpeg()) for i in range(9)]
    refused = m.upload(client, public_id, nine)
    assert refused.status_code == 422
    assert "au plus 8 photos" in refused.text
    assert m.counts(database) == (0, 0)

    assert m.upload(client, public_id, nine[:6]).status_code == 303
    too_many = m.upload(client, public_id, nine[:3])
    assert too_many.status_code == 422
    assert "encore en ajouter 2" in too_many.text
    assert m.upload(client, public_id, nine[:2]).status_code == 303
    assert m.counts(database) == (16, 8)
    assert [p.position for p in m.photos(database)] == list(range(1, 9))

    full = m.upload(client, public_id, nine[:1])
    assert full.status_code == 422
    assert "déjà 8 photos" in full.text
    page = client.get(f"/initiatives/{public_id}")
    assert "le nombre maximal de photos" in page.text


def test_refused_files_store_nothing(
    client: TestClient, factory: Factory, database: Database, settings: Settings
) -> None:
    public_id = _draft(factory, database, client)
    cases = [
        ("huge.jpg", m.jpeg() + b"\x00" * images.MAX_FILE_BYTES, "dépasse 10 Mo"),
        ("anim.gif", m.gif(), "JPEG, PNG ou WebP"),
        ("image.jpg", m.SVG, "JPEG, PNG ou WebP"),
        ("notes.jpg", b"hello", "JPEG, PNG ou WebP"),
        ("bomb.png", m.png_declaring(50_000, 50_000), "millions de pixels"),
        ("cut.jpg", m.jpeg()[:300], "illisible"),
    ]
    for name, data, message in cases:
        # One good photo in the batch: a refused file refuses the whole batch.
        response = m.upload(client, public_id, [("ok.jpg", m.jpeg()), (name, data)])
        assert response.status_code == 422, name
        assert message in response.text, name
        assert f"« {name} »" in response.text
        assert 'aria-invalid="true"' in response.text
        assert m.counts(database) == (0, 0), name
        assert m.files_on_disk(settings.media_dir) == [], name
    assert h.audit_actions(database, public_id) == ["initiative.propose"]


def test_too_large_body_is_refused_while_streaming(client: TestClient, factory: Factory, database: Database) -> None:
    public_id = _draft(factory, database, client)
    page = client.get(f"/initiatives/{public_id}")
    blob = b"\xff\xd8\xff" + b"\x00" * (12 * 1024 * 1024)
    response = client.post(
        f"/initiatives/{public_id}/photos",
        data=form_fields(page.text),
        files=[("photos", (f"p{i}.jpg", blob, "image/jpeg")) for i in range(8)],
    )
    assert response.status_code == 413
    assert m.counts(database) == (0, 0)


def test_hostile_file_names_are_cleaned_and_escaped(client: TestClient, factory: Factory, database: Database) -> None:
    public_id = _draft(factory, database, client)
    name = "../../etc/<script>alert(1)</script>\u202egpj.exe"
    assert m.upload(client, public_id, [(name, m.jpeg())]).status_code == 303
    full = m.stored_files(database)[0]
    assert full.original_name == "script>gpj.exe"  # last path segment, direction override removed
    assert ".." not in full.storage_key
    page = client.get(f"/initiatives/{public_id}")
    assert "<script>alert(1)" not in page.text
    assert "fichier envoyé" in page.text


def test_alt_text_is_required_and_can_be_changed(client: TestClient, factory: Factory, database: Database) -> None:
    public_id = _draft(factory, database, client)
    assert m.upload(client, public_id, [("a.jpg", m.jpeg())]).status_code == 303
    [photo] = m.photos(database)
    url = f"/initiatives/{public_id}/photos/{photo.public_id}/description"

    empty = post_form(client, f"/initiatives/{public_id}", action=url, data={"alt_text": "  \u200b "})
    assert empty.status_code == 422
    assert "Ce champ est obligatoire." in empty.text
    assert f'id="f-alt-{photo.public_id}"' in empty.text
    assert 'aria-invalid="true"' in empty.text
    assert m.photos(database)[0].alt_text == photo.alt_text

    done = post_form(client, f"/initiatives/{public_id}", action=url, data={"alt_text": "Le préau vu de la cour"})
    assert done.status_code == 303
    assert m.photos(database)[0].alt_text == "Le préau vu de la cour"
    assert h.audit_actions(database, public_id)[-1] == "initiative.photo.describe"

    # Once submitted the photo set is frozen, its descriptions may still be improved.
    h.set_state(database, public_id, "submitted")
    again = post_form(client, f"/initiatives/{public_id}", action=url, data={"alt_text": "Le préau, côté cour"})
    assert again.status_code == 303
    assert m.upload(client, public_id, [("b.jpg", m.jpeg())]).status_code == 409
    removed = post_form(
        client, f"/initiatives/{public_id}", action=f"/initiatives/{public_id}/photos/{photo.public_id}/retirer"
    )
    assert removed.status_code == 409


def test_remove_a_photo_deletes_its_files(
    client: TestClient, factory: Factory, database: Database, settings: Settings
) -> None:
    public_id = _draft(factory, database, client)
    assert m.upload(client, public_id, [("a.jpg", m.jpeg()), ("b.jpg", m.jpeg(color="blue"))]).status_code == 303
    first, second = m.photos(database)
    assert len(m.files_on_disk(settings.media_dir)) == 4
    response = post_form(
        client, f"/initiatives/{public_id}", action=f"/initiatives/{public_id}/photos/{first.public_id}/retirer"
    )
    assert response.status_code == 303
    assert [p.public_id for p in m.photos(database)] == [second.public_id]
    assert m.counts(database) == (2, 1)
    assert len(m.files_on_disk(settings.media_dir)) == 2
    assert client.get(f"/initiatives/{public_id}/photos/{first.public_id}").status_code == 404
    assert h.audit_actions(database, public_id)[-1] == "initiative.photo.remove"


def test_outsiders_cannot_change_photos_of_a_public_initiative(
    client: TestClient, factory: Factory, database: Database
) -> None:
    public_id = _draft(factory, database, client)
    assert m.upload(client, public_id, [("a.jpg", m.jpeg())]).status_code == 303
    [photo] = m.photos(database)
    h.set_state(database, public_id, "approved")
    factory.login(client, factory.account("bob@example.org", display_name="Bob Durand"))
    assert m.upload_refused(client, public_id) == 403
    base = f"/initiatives/{public_id}/photos/{photo.public_id}"
    assert post_form(client, f"/initiatives/{public_id}", action=f"{base}/retirer").status_code == 403
    assert (
        post_form(client, f"/initiatives/{public_id}", action=f"{base}/description", data={"alt_text": "x"}).status_code
        == 403
    )
    assert m.counts(database) == (2, 1)


def test_csrf_is_required(client: TestClient, factory: Factory, database: Database) -> None:
    public_id = _draft(factory, database, client)
    response = client.post(f"/initiatives/{public_id}/photos", files=[("photos", ("a.jpg", m.jpeg(), "image/jpeg"))])
    assert response.status_code == 403
    assert m.counts(database) == (0, 0)


def test_htmx_upload_swaps_the_panel(client: TestClient, factory: Factory, database: Database) -> None:
    public_id = _draft(factory, database, client)
    page = client.get(f"/initiatives/{public_id}")
    assert 'hx-encoding="multipart/form-data"' in page.text
    token = form_fields(page.text)["csrf_token"]
    response = client.post(
        f"/initiatives/{public_id}/photos",
        files=[("photos", ("a.jpg", m.jpeg(), "image/jpeg"))],
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="photos-panel"')
    assert 'hx-swap-oob="beforeend:#toasts"' in response.text
    assert "La photo est ajoutée." in response.text

    refused = client.post(
        f"/initiatives/{public_id}/photos",
        files=[("photos", ("a.gif", m.gif(), "image/gif"))],
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert refused.status_code == 422
    assert 'id="photos-panel"' in refused.text
    assert 'role="alert"' in refused.text


def test_uploads_are_rate_limited(app: FastAPI, client: TestClient, factory: Factory, database: Database) -> None:
    app.state.rate_limiter.items["upload:account"] = parse("3/hour")
    public_id = _draft(factory, database, client)
    assert m.upload(client, public_id, [("a.jpg", m.jpeg()), ("b.jpg", m.jpeg())]).status_code == 303
    assert m.upload(client, public_id, [("c.jpg", m.jpeg()), ("d.jpg", m.jpeg())]).status_code == 429
    assert m.counts(database) == (4, 2)


def test_full_disk_keeps_nothing(
    client: TestClient, factory: Factory, database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    public_id = _draft(factory, database, client)
    original = LocalFileSystem.mv
    moves: list[str] = []

    def full_on_third_file(self: LocalFileSystem, path1: str, path2: str, **kwargs: object) -> None:
        moves.append(path2)
        if len(moves) == 3:  # the second photo's full copy, once its partial file is written
            raise OSError(28, "No space left on device")
        original(self, path1, path2, **kwargs)

    monkeypatch.setattr(LocalFileSystem, "mv", full_on_third_file)
    response = m.upload(client, public_id, [("a.jpg", m.jpeg()), ("b.jpg", m.jpeg())])
    assert response.status_code == 503
    assert "Réessayez" in response.text
    assert len(moves) == 3
    assert m.counts(database) == (0, 0)
    assert m.files_on_disk(settings.media_dir) == []  # neither the partial file nor the first photo's


def test_proposal_form_takes_photos(client: TestClient, factory: Factory, database: Database) -> None:
    factory.login(client, factory.account())
    page = client.get("/initiatives/proposer")
    assert 'enctype="multipart/form-data"' in page.text
    assert 'id="f-photos"' in page.text
    assert 'for="f-photos"' in page.text
    response = client.post(
        "/initiatives/proposer",
        data={**form_fields(page.text), "title": "Bancs du square"},
        files=[("photos", ("a.jpg", m.jpeg(), "image/jpeg")), ("photos", ("b.png", m.png_with_text(), "image/png"))],
    )
    assert response.status_code == 303, response.text[:500]
    public_id = response.headers["location"].rsplit("/", 1)[1]
    assert [p.alt_text for p in m.photos(database)] == [
        "Photo 1 de l'initiative « Bancs du square »",
        "Photo 2 de l'initiative « Bancs du square »",
    ]
    assert h.audit_actions(database, public_id) == [
        "initiative.propose",
        "initiative.photo.add",
        "initiative.photo.add",
    ]


def test_proposal_form_without_photos_still_works(client: TestClient, factory: Factory, database: Database) -> None:
    factory.login(client, factory.account())
    page = client.get("/initiatives/proposer")
    # A browser sends an empty file part when no photo was chosen.
    response = client.post(
        "/initiatives/proposer",
        data={**form_fields(page.text), "title": "Bancs du square"},
        files=[("photos", ("", b"", "application/octet-stream"))],
    )
    assert response.status_code == 303
    assert m.counts(database) == (0, 0)


def test_invalid_photo_on_the_proposal_form_creates_nothing(
    client: TestClient, factory: Factory, database: Database, settings: Settings
) -> None:
    factory.login(client, factory.account())
    page = client.get("/initiatives/proposer")
    response = client.post(
        "/initiatives/proposer",
        data={**form_fields(page.text), "title": "Bancs du square"},
        files=[("photos", ("a.jpg", m.jpeg(), "image/jpeg")), ("photos", ("plan.svg", m.SVG, "image/svg+xml"))],
    )
    assert response.status_code == 422
    assert "« plan.svg »" in response.text
    assert re.search(r'<input id="f-photos"[^>]*aria-invalid="true"', response.text)
    assert 'href="#f-photos"' in response.text
    assert 'value="Bancs du square"' in response.text
    assert m.counts(database) == (0, 0)
    assert m.files_on_disk(settings.media_dir) == []
    with read_only(database) as db:
        assert db.scalar(select(func.count()).select_from(Initiative)) == 0

    # The same form, corrected, goes through (the refused attempt did not use up its nonce).
    fixed = client.post(
        "/initiatives/proposer",
        data={**form_fields(page.text), "title": "Bancs du square"},
        files=[("photos", ("a.jpg", m.jpeg(), "image/jpeg"))],
    )
    assert fixed.status_code == 303
    assert m.counts(database) == (2, 1)


def test_export_lists_uploaded_files(client: TestClient, factory: Factory, database: Database) -> None:
    alice = factory.account()
    public_id = h.propose(database, h.actor(alice), factory.territory(), title="Jardin")
    factory.login(client, alice)
    assert m.upload(client, public_id, [("jardin.jpg", m.jpeg())]).status_code == 303
    bob = factory.account("bob@example.org")
    with read_only(database) as db:
        files = build_export(db, h.actor(alice))["uploaded_files"]
        assert [(f["original_name"], f["content_type"]) for f in files] == [("jardin.jpg", "image/jpeg")]
        assert "storage_key" not in files[0]
        assert build_export(db, h.actor(bob))["uploaded_files"] == []


def test_images_are_decoded_outside_the_write_lock(
    client: TestClient, factory: Factory, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decoding takes time: it must not hold SQLite's single write lock (signatures would wait)."""
    if not database.is_sqlite:
        pytest.skip("about SQLite's database-wide write lock")
    path = database.write_engine.url.database
    assert path
    original = images.process
    probes: list[bool] = []

    def probing(data: bytes, **kwargs: Any) -> images.ProcessedImage:
        other = sqlite3.connect(path, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")  # fails at once if a write transaction is open
            other.rollback()
            probes.append(True)
        except sqlite3.OperationalError:
            probes.append(False)
        finally:
            other.close()
        return original(data, **kwargs)

    monkeypatch.setattr(images, "process", probing)
    public_id = _draft(factory, database, client)
    assert m.upload(client, public_id, [("a.jpg", m.jpeg())]).status_code == 303
    page = client.get("/initiatives/proposer")
    created = client.post(
        "/initiatives/proposer",
        data={**form_fields(page.text), "title": "Bancs"},
        files=[("photos", ("b.jpg", m.jpeg(), "image/jpeg"))],
    )
    assert created.status_code == 303
    assert probes == [True, True]


def test_other_errors_on_the_proposal_form_ask_for_the_photos_again(
    client: TestClient, factory: Factory, database: Database
) -> None:
    factory.login(client, factory.account())
    page = client.get("/initiatives/proposer")
    response = client.post(
        "/initiatives/proposer",
        data={**form_fields(page.text), "title": "  "},
        files=[("photos", ("a.jpg", m.jpeg(), "image/jpeg"))],
    )
    assert response.status_code == 422
    assert "Choisissez à nouveau vos photos" in response.text
    assert m.counts(database) == (0, 0)
