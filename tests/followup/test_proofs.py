"""Proofs: PDFs kept as sent and images re-encoded, served as downloads only, private to the promoters and
the town's staff (404 for a resident of another initiative, another town, and anonymous visitors)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

import pytest
import time_machine
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from app.core.errors import Invalid
from app.db.session import unit_of_work
from app.followup import proofs
from app.followup.models import Attachment
from app.initiatives.models import InitiativeState, MemberRole
from app.ledger import realisations
from app.ledger.models import CommitmentLine, Side
from app.media.models import StoredFile
from app.media.service import Upload
from tests.conventions.conftest import add_member
from tests.factories import Factory
from tests.followup.conftest import PDF_BYTES, audit_count, jpeg_with_exif, line_of, login, signed
from tests.review.conftest import World

S = InitiativeState
TODAY = dt.datetime(2027, 4, 12, 9, 0, tzinfo=dt.UTC)


def send(client: TestClient, headers: dict[str, str], public_id: str, content: bytes, name: str = "facture.pdf",
         **data: str) -> Any:  # fmt: skip
    return client.post(
        f"/initiatives/{public_id}/justificatifs",
        data={"kind": "invoice", **data},
        files={"file": (name, content, "application/octet-stream")},
        headers=headers,
    )


def stored(world: World) -> list[tuple[Attachment, StoredFile]]:
    with unit_of_work(world.database) as db:
        rows = db.execute(
            select(Attachment, StoredFile).join(StoredFile, StoredFile.id == Attachment.stored_file_id)
        ).all()
        for a, f in rows:
            db.expunge(a)
            db.expunge(f)
        return [(a, f) for a, f in rows]


def test_a_pdf_is_kept_as_sent_and_served_as_a_download_only(
    app: FastAPI, client: TestClient, factory: Factory, world: World
) -> None:
    initiative = signed(world, state=S.IN_PROGRESS)
    headers = login(client, factory, app, world.promoter)
    sent = send(client, headers, initiative.public_id, PDF_BYTES, name="../../etc/passwd\u202egpj.pdf",
                title="Facture du terreau")  # fmt: skip
    assert sent.status_code == 303, sent.text[:300]
    [(attachment, file)] = stored(world)
    assert (attachment.kind, attachment.title, file.content_type) == (
        "invoice",
        "Facture du terreau",
        "application/pdf",
    )
    assert file.byte_size == len(PDF_BYTES)
    assert "/" not in file.original_name
    assert "\u202e" not in file.original_name
    assert audit_count(world, "initiative.proof.add") == 1
    response = client.get(f"/initiatives/{initiative.public_id}/justificatifs/{attachment.public_id}")
    assert response.status_code == 200
    assert response.content == PDF_BYTES
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'attachment; filename="{file.public_id}.pdf"'
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert "no-store" in response.headers["cache-control"]
    # The initiative page lists it for the promoter, with the uploaded name escaped.
    page = client.get(f"/initiatives/{initiative.public_id}")
    assert "Facture du terreau" in page.text
    assert "\u202e" not in page.text


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"<html><script>alert(1)</script></html>", "facture.pdf"),
        (b"MZ\x90\x00" + b"\x00" * 64, "facture.pdf"),
        (b"", "vide.pdf"),
        (PDF_BYTES[:60], "tronque.pdf"),  # the end marker is missing
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "plan.svg"),
    ],
)
def test_fake_or_broken_files_are_refused_and_nothing_is_kept(
    app: FastAPI, client: TestClient, factory: Factory, world: World, content: bytes, name: str
) -> None:
    initiative = signed(world, state=S.IN_PROGRESS)
    headers = login(client, factory, app, world.promoter)
    refused = send(client, headers, initiative.public_id, content, name=name)
    assert refused.status_code == 422
    assert 'aria-invalid="true"' in refused.text
    assert stored(world) == []
    with unit_of_work(world.database) as db:
        assert db.scalar(select(func.count()).select_from(StoredFile)) == 0


def test_a_zip_named_pdf_is_refused(app: FastAPI, client: TestClient, factory: Factory, world: World) -> None:
    initiative = signed(world, state=S.IN_PROGRESS)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("a.txt", "x")
    headers = login(client, factory, app, world.promoter)
    assert send(client, headers, initiative.public_id, out.getvalue()).status_code == 422
    assert stored(world) == []


def test_too_big_a_file_is_refused(world: World) -> None:
    big = io.BytesIO(b"%PDF-1.4\n" + b"0" * proofs.MAX_FILE_BYTES + b"%%EOF")
    with pytest.raises(Invalid) as refused:
        proofs.prepare_proof(Upload("gros.pdf", big))
    assert refused.value.field == "file"


def test_an_image_is_re_encoded_without_its_metadata(
    app: FastAPI, client: TestClient, factory: Factory, world: World
) -> None:
    initiative = signed(world, state=S.IN_PROGRESS)
    headers = login(client, factory, app, world.agent)
    assert (
        send(client, headers, initiative.public_id, jpeg_with_exif(), name="recu.jpg", kind="receipt").status_code
        == 303
    )
    [(attachment, file)] = stored(world)
    assert file.content_type == "image/jpeg"
    response = client.get(f"/initiatives/{initiative.public_id}/justificatifs/{attachment.public_id}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in response.headers["content-security-policy"]
    with Image.open(io.BytesIO(response.content)) as image:
        assert not image.getexif()
    assert b"Appareil espion" not in response.content


def test_who_may_download_a_proof(app: FastAPI, client: TestClient, factory: Factory, world: World) -> None:
    initiative = signed(world, state=S.IN_PROGRESS)  # public: anyone sees the initiative itself
    other = signed(world, state=S.IN_PROGRESS, title="Autre projet", promoter=factory.account("autre@example.org"))
    headers = login(client, factory, app, world.promoter)
    assert send(client, headers, initiative.public_id, PDF_BYTES).status_code == 303
    [(attachment, _file)] = stored(world)
    path = f"/initiatives/{initiative.public_id}/justificatifs/{attachment.public_id}"
    co_promoter = factory.account("co@example.org")
    add_member(world, initiative.id, co_promoter, MemberRole.CO_PROMOTER)
    invited = factory.account("invite@example.org")
    add_member(world, initiative.id, invited, MemberRole.CO_PROMOTER, accepted=False)
    council = factory.account("elu@example.org", roles=("council_member",))
    seen = {"promoter": world.promoter, "co-promoter": co_promoter, "agent": world.agent, "executive": world.executive}
    for label, account in seen.items():
        factory.login(client, account)
        assert client.get(path).status_code == 200, label
    hidden = {"other initiative's promoter": other_promoter(world, other.id), "pending invitation": invited,
              "council member": council, "neighbour": factory.account("voisin@example.org")}  # fmt: skip
    for label, account in hidden.items():
        factory.login(client, account)
        assert client.get(path).status_code == 404, label
        assert client.get(f"/initiatives/{other.public_id}/justificatifs/{attachment.public_id}").status_code == 404
    client.cookies.clear()
    assert client.get(path).status_code == 404  # anonymous, on a public initiative
    page = client.get(f"/initiatives/{initiative.public_id}")
    assert page.status_code == 200
    assert "justificatifs/" not in page.text


def other_promoter(world: World, initiative_id: int) -> Any:
    from app.accounts.models import Account
    from app.initiatives.models import InitiativeMember

    with unit_of_work(world.database) as db:
        person_id = db.scalar(select(InitiativeMember.person_id).where(InitiativeMember.initiative_id == initiative_id))
        account = db.scalars(select(Account).where(Account.person_id == person_id)).one()
        db.expunge(account)
        return account


def test_another_territory_gets_404(
    app: FastAPI, client: TestClient, other_client: TestClient, factory: Factory, world: World
) -> None:
    initiative = signed(world, state=S.IN_PROGRESS)
    headers = login(client, factory, app, world.promoter)
    assert send(client, headers, initiative.public_id, PDF_BYTES).status_code == 303
    [(attachment, _file)] = stored(world)
    stranger = factory.account("agent-autre@example.org", territory="autre", roles=("agent", "executive", "admin"))
    other_headers = login(other_client, factory, app, stranger)
    path = f"/initiatives/{initiative.public_id}/justificatifs/{attachment.public_id}"
    assert other_client.get(path).status_code == 404
    assert other_client.post(path + "/retirer", headers=other_headers).status_code == 404
    assert send(other_client, other_headers, initiative.public_id, PDF_BYTES).status_code == 404
    assert len(stored(world)) == 1


def test_a_realisation_carries_its_proofs_and_removal_rules(
    app: FastAPI, client: TestClient, factory: Factory, world: World
) -> None:
    with time_machine.travel(TODAY, tick=False):
        initiative = signed(world, state=S.IN_PROGRESS)
        hours = line_of(world, initiative.id, Side.RESIDENTS)
        with unit_of_work(world.database) as db:
            row = realisations.record_realisation(
                db, world.promoter_actor, db.get_one(CommitmentLine, hours.id), 120, dt.date(2027, 4, 10)
            )
            realisation_id = row.public_id
    headers = login(client, factory, app, world.promoter)
    assert send(client, headers, initiative.public_id, PDF_BYTES, realisation=realisation_id).status_code == 303
    [(attachment, _file)] = stored(world)
    page = client.get(f"/initiatives/{initiative.public_id}")
    assert f"justificatifs/{attachment.public_id}" in page.text
    # Once the line is verified, only the town removes its proofs.
    with unit_of_work(world.database) as db:
        from app.initiatives.models import Initiative

        realisations.verify_realisation(db, world.agent_actor, db.get_one(Initiative, initiative.id), realisation_id)
    refused = client.post(f"/initiatives/{initiative.public_id}/justificatifs/{attachment.public_id}/retirer",
                          headers=headers)  # fmt: skip
    assert refused.status_code == 403
    agent_headers = login(client, factory, app, world.agent)
    removed = client.post(f"/initiatives/{initiative.public_id}/justificatifs/{attachment.public_id}/retirer",
                          headers=agent_headers)  # fmt: skip
    assert removed.status_code == 303
    assert stored(world) == []
    assert audit_count(world, "initiative.proof.remove") == 1


def test_proofs_are_refused_outside_the_follow_up(
    app: FastAPI, client: TestClient, factory: Factory, world: World
) -> None:
    initiative = signed(world, state=S.EVALUATED)
    headers = login(client, factory, app, world.promoter)
    assert send(client, headers, initiative.public_id, PDF_BYTES).status_code == 409
    assert stored(world) == []


def test_uploading_without_the_csrf_token_is_refused(client: TestClient, factory: Factory, world: World) -> None:
    initiative = signed(world, state=S.IN_PROGRESS)
    factory.login(client, world.promoter)
    assert send(client, {}, initiative.public_id, PDF_BYTES).status_code == 403
    assert stored(world) == []
