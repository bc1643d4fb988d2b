"""A legal request's procedure (art. L1112-16 CGCT): submitted to the mayor with an acknowledgement,
each signature checked against the roll, verification finished against the frozen threshold, the
council informed at the first sitting after receipt, its decision recorded; steps out of order are
409 and change nothing, the wrong role 403, another town 404. Signers are never notified; the
extract holds names and commune only and each generation is audited; public pages show the stages
and never a signer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.accounts.models import Account
from app.audit.models import AuditEntry
from app.config import Settings
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.db.base import utcnow
from app.db.session import read_only, unit_of_work
from app.mail.models import OutboxEmail
from app.notifications.models import Notification
from app.petitions import counting, legal
from app.petitions.models import LegalStage, Petition, PetitionSignature, PetitionState, RollStatus
from app.territories.models import CouncilSitting, Territory
from tests.factories import Factory, form_fields, post_form
from tests.petitions import helpers as h

SIGNERS = (
    ("Dupont", "Marie Anne", "12 rue Pasteur, 62750 Loos-en-Gohelle", dt.date(1970, 5, 2)),
    ("Lefebvre", "Jean", "3 cité des Castors, 62750 Loos-en-Gohelle", dt.date(1985, 11, 20)),
    ("Martin", "Sophie", "8 rue Hoche, 62750 Loos-en-Gohelle", dt.date(1992, 1, 9)),
    ("Zola", "Émile", "1 place de la République, 62750 Loos-en-Gohelle", dt.date(1960, 7, 14)),
)


@dataclass
class World:
    tid: int
    author_account: Account
    agent_account: Account
    mayor_account: Account
    resident_account: Account
    author: h.Viewer
    agent: h.Viewer
    mayor: h.Viewer
    resident: h.Viewer
    signer_person_ids: list[int]


@pytest.fixture
def world(factory: Factory) -> World:
    tid = factory.territory()
    with unit_of_work(factory.database) as db:
        db.get_one(Territory, tid).registered_electors = 30  # the threshold: one tenth, 3 signatures
    factory.app.state.territory_resolver.invalidate()
    accounts = {
        "author": factory.account("auteur@example.org", display_name="Claire Bernard"),
        "agent": factory.account("agent@example.org", roles=("agent",)),
        "mayor": factory.account("maire@example.org", roles=("executive",)),
        "resident": factory.account("habitant@example.org", display_name="Bob"),
    }
    signers = [factory.account(f"electeur{i}@example.org", display_name=f"Électeur {i}") for i in range(4)]
    return World(
        tid=tid,
        author_account=accounts["author"],
        agent_account=accounts["agent"],
        mayor_account=accounts["mayor"],
        resident_account=accounts["resident"],
        author=h.viewer(accounts["author"]),
        agent=h.viewer(accounts["agent"], "agent"),
        mayor=h.viewer(accounts["mayor"], "executive"),
        resident=h.viewer(accounts["resident"]),
        signer_person_ids=[a.person_id for a in signers if a.person_id is not None],
    )


def _request(factory: Factory, w: World) -> str:
    public_id = h.opened(
        factory.database, w.author, w.agent, w.tid, kind="legal", legal_purpose="consultation",
        title="Consultation sur le terril 11/19",
    )  # fmt: skip
    p = h.petition(factory.database, public_id)
    assert (p.legal_stage, p.electors_frozen, p.answer_threshold) == (LegalStage.COLLECTING, 30, 3)
    return public_id


def _sign(factory: Factory, w: World, public_id: str, n: int = 4) -> list[str]:
    """Legal signatures of signed-in electors, counted one minute apart (rows inserted directly)."""
    start = utcnow() - dt.timedelta(hours=2)
    ids = []
    with unit_of_work(factory.database) as db:
        p = db.scalars(select(Petition).where(Petition.public_id == public_id)).one()
        for i, (surname, first_names, address, born) in enumerate(SIGNERS[:n]):
            row = PetitionSignature(
                territory_id=p.territory_id,
                petition_id=p.id,
                method="account",
                person_id=w.signer_person_ids[i],
                display_name=f"Électeur {i}",
                surname=surname,
                first_names=first_names,
                address=address,
                birth_date=born,
                roll_status=RollStatus.PENDING.value,
                counted_at=start + dt.timedelta(minutes=i),
            )
            db.add(row)
            db.flush()
            ids.append(row.public_id)
    return ids


def _recount(factory: Factory, settings: Settings) -> None:
    with unit_of_work(factory.database) as db:
        counting.recount(db, settings=settings)


def _audits(factory: Factory, action: str) -> list[AuditEntry]:
    with read_only(factory.database) as db:
        rows = list(db.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))
        for r in rows:
            db.expunge(r)
        return rows


def _sitting(factory: Factory, tid: int, day: dt.date, title: str = "Séance") -> str:
    with unit_of_work(factory.database) as db:
        row = CouncilSitting(territory_id=tid, sitting_date=day, title=title)
        db.add(row)
        db.flush()
        return row.public_id


def _signer_messages(factory: Factory, w: World) -> tuple[int, int]:
    with read_only(factory.database) as db:
        notes = db.scalar(
            select(func.count()).select_from(Notification).where(Notification.person_id.in_(w.signer_person_ids))
        )
        mails = db.scalar(
            select(func.count())
            .select_from(OutboxEmail)
            .where(OutboxEmail.to_address.like("electeur%"), OutboxEmail.subject.not_like("%onfirm%"))
        )
        return notes or 0, mails or 0


def _snapshot(factory: Factory, public_id: str) -> tuple[object, ...]:
    p = h.petition(factory.database, public_id)
    return (p.state, p.legal_stage, p.received_at, p.council_sitting_id, p.council_decision)


def test_the_whole_procedure_through_the_services(factory: Factory, world: World, settings: Settings) -> None:
    w = world
    territory = h.context(factory.database, w.tid)
    public_id = _request(factory, w)
    baseline = _signer_messages(factory, w)

    # Before the provisional threshold: refused, nothing changes.
    before = _snapshot(factory, public_id)
    with pytest.raises(Conflict), unit_of_work(factory.database) as db:
        legal.submit_to_mayor(db, w.author, territory, public_id, settings=settings)
    assert _snapshot(factory, public_id) == before

    ids = _sign(factory, w, public_id)
    _recount(factory, settings)
    stamp = h.petition(factory.database, public_id).answer_threshold_reached_at
    assert stamp is not None

    # Another resident may not hand it in; steps out of order are conflicts.
    with pytest.raises(Forbidden), unit_of_work(factory.database) as db:
        legal.submit_to_mayor(db, w.resident, territory, public_id, settings=settings)
    with pytest.raises(Conflict), unit_of_work(factory.database) as db:
        legal.check_signatures(db, w.agent, w.tid, public_id, ids[:1], RollStatus.VALID)
    assert _snapshot(factory, public_id) == before

    with unit_of_work(factory.database) as db:
        legal.submit_to_mayor(db, w.author, territory, public_id, settings=settings)
    p = h.petition(factory.database, public_id)
    assert p.legal_stage == LegalStage.SUBMITTED_TO_MAYOR
    assert p.state == PetitionState.CLOSED
    assert p.received_at is not None
    assert p.closed_at == p.received_at
    with pytest.raises(Conflict), unit_of_work(factory.database) as db:
        legal.submit_to_mayor(db, w.agent, territory, public_id, settings=settings)
    # The acknowledgement of receipt goes to the author, with the date.
    with read_only(factory.database) as db:
        acks = [
            (n.subject, n.body)
            for n in db.scalars(select(Notification).where(Notification.person_id == w.author_account.person_id))
        ]
        receipt = legal.receipt(db, w.author, territory, public_id)
        received_at, signatures = receipt.received_at, receipt.signatures
        with pytest.raises(NotFound):
            legal.receipt(db, w.resident, territory, public_id)
    assert len(acks) == 1
    assert "Accusé de réception" in acks[0][0]
    assert str(received_at.year) in acks[0][1]
    assert signatures == 4

    # Roll check: a resident may not; steps out of order are refused.
    with pytest.raises(Forbidden), unit_of_work(factory.database) as db:
        legal.check_signatures(db, w.resident, w.tid, public_id, ids, RollStatus.VALID)
    with pytest.raises(Conflict), unit_of_work(factory.database) as db:
        legal.finish_verification(db, w.agent, w.tid, public_id)
    sitting_id = _sitting(factory, w.tid, dt.date.today() + dt.timedelta(days=10))
    with pytest.raises(Conflict), unit_of_work(factory.database) as db:
        legal.inform_council(db, w.agent, territory, public_id, sitting_id)
    with pytest.raises(Conflict), unit_of_work(factory.database) as db:
        legal.record_decision(db, w.mayor, territory, public_id, legal.DecisionInput(text="Accepté."))

    with unit_of_work(factory.database) as db:
        assert legal.check_signatures(db, w.agent, w.tid, public_id, ids[:3], RollStatus.VALID) == 3
    with pytest.raises(Invalid), unit_of_work(factory.database) as db:
        legal.check_signatures(db, w.agent, w.tid, public_id, ids[3:], RollStatus.INVALID)  # no reason
    with unit_of_work(factory.database) as db:
        legal.check_signature(db, w.agent, w.tid, public_id, ids[3], RollStatus.INVALID, "Absent de la liste")
    # Corrected: the second one is not on the roll either.
    with unit_of_work(factory.database) as db:
        legal.check_signature(db, w.agent, w.tid, public_id, ids[1], RollStatus.INVALID, "Inscrit à Lens")
    with read_only(factory.database) as db:
        figures = legal.roll_figures(db, h.petition(factory.database, public_id))
    assert (figures.valid, figures.invalid, figures.pending, figures.retained) == (2, 2, 0, 2)
    assert not figures.reached
    with unit_of_work(factory.database) as db:
        legal.check_signature(db, w.agent, w.tid, public_id, ids[1], RollStatus.VALID)
    _recount(factory, settings)
    assert h.petition(factory.database, public_id).answer_threshold_reached_at == stamp  # never moves

    with unit_of_work(factory.database) as db:
        figures = legal.finish_verification(db, w.agent, w.tid, public_id)
    assert (figures.valid, figures.invalid, figures.threshold, figures.reached) == (3, 1, 3, True)
    assert h.petition(factory.database, public_id).legal_stage == LegalStage.VERIFIED
    with pytest.raises(Conflict), unit_of_work(factory.database) as db:
        legal.check_signature(db, w.agent, w.tid, public_id, ids[3], RollStatus.VALID)

    # The council: never a sitting before receipt; the first after it is proposed.
    past = _sitting(factory, w.tid, dt.date.today() - dt.timedelta(days=30), "Séance passée")
    later = _sitting(factory, w.tid, dt.date.today() + dt.timedelta(days=40), "Séance suivante")
    with read_only(factory.database) as db:
        view = legal.timeline(db, w.agent, territory, public_id)
    assert view.proposed_sitting == sitting_id
    assert [s[0] for s in view.sittings] == [sitting_id, later]
    verified = h.petition(factory.database, public_id)
    with pytest.raises(Conflict), unit_of_work(factory.database) as db:
        legal.inform_council(db, w.agent, territory, public_id, past)
    with pytest.raises(Invalid), unit_of_work(factory.database) as db:
        legal.inform_council(db, w.agent, territory, public_id, later)  # not the first: a reason is needed
    with pytest.raises(Forbidden), unit_of_work(factory.database) as db:
        legal.inform_council(db, w.resident, territory, public_id, sitting_id)
    assert h.petition(factory.database, public_id).council_sitting_id == verified.council_sitting_id is None
    with unit_of_work(factory.database) as db:
        legal.inform_council(db, w.agent, territory, public_id, sitting_id)
    p = h.petition(factory.database, public_id)
    assert p.legal_stage == LegalStage.COUNCIL_INFORMED
    assert p.council_sitting_id is not None

    decision = legal.DecisionInput(
        text="Le conseil organise une consultation le 14 juin.",
        deliberation_number="2027-014",
        deliberation_date=dt.date.today() + dt.timedelta(days=10),
    )
    with pytest.raises(Forbidden), unit_of_work(factory.database) as db:
        legal.record_decision(db, w.agent, territory, public_id, decision)
    with unit_of_work(factory.database) as db:
        legal.record_decision(db, w.mayor, territory, public_id, decision)
    p = h.petition(factory.database, public_id)
    assert p.legal_stage == LegalStage.DECIDED
    assert p.council_decision == decision.text
    with pytest.raises(Conflict), unit_of_work(factory.database) as db:
        legal.record_decision(db, w.mayor, territory, public_id, decision)

    # One audit entry per step; the provisional stamp never moved.
    for action, n in (
        (legal.ACTION_SUBMIT, 1), (legal.ACTION_CHECK, 4), (legal.ACTION_VERIFIED, 1),
        (legal.ACTION_INFORMED, 1), (legal.ACTION_DECIDED, 1),
    ):  # fmt: skip
        assert len(_audits(factory, action)) == n, action
    assert _audits(factory, legal.ACTION_DECIDED)[0].data["deliberation_number"] == "2027-014"
    assert p.answer_threshold_reached_at == stamp
    # Signers were never told anything, at any step.
    assert _signer_messages(factory, w) == baseline == (0, 0)
    with read_only(factory.database) as db:
        steps = legal.timeline(db, None, territory, public_id).steps
    assert all(s.done and s.on is not None for s in steps)


def test_another_town_is_not_found(factory: Factory, world: World, settings: Settings) -> None:
    w = world
    public_id = _request(factory, w)
    _sign(factory, w, public_id)
    _recount(factory, settings)
    factory.territory(slug="autre", name="Autreville", host="autre.test", insee="59350")
    other_tid = factory.territories["autre"]
    other_agent = h.viewer(factory.account("agent@autre.org", territory="autre", roles=("agent",)), "agent")
    other = h.context(factory.database, other_tid)
    with pytest.raises(NotFound), unit_of_work(factory.database) as db:
        legal.submit_to_mayor(db, other_agent, other, public_id, settings=settings)
    with pytest.raises(NotFound), unit_of_work(factory.database) as db:
        legal.check_signatures(db, other_agent, other_tid, public_id, [], RollStatus.VALID)
    with pytest.raises(NotFound), unit_of_work(factory.database) as db:
        legal.extract(db, other_agent, other, public_id, "consultation demandée")
    # An agent of this town acting with another town's territory is refused too.
    with pytest.raises(NotFound), unit_of_work(factory.database) as db:
        legal.timeline(db, w.agent, other, public_id)
    assert h.petition(factory.database, public_id).legal_stage == LegalStage.COLLECTING


def _verified(factory: Factory, w: World, settings: Settings) -> tuple[str, list[str]]:
    territory = h.context(factory.database, w.tid)
    public_id = _request(factory, w)
    ids = _sign(factory, w, public_id)
    _recount(factory, settings)
    with unit_of_work(factory.database) as db:
        legal.submit_to_mayor(db, w.agent, territory, public_id, settings=settings)
        legal.check_signatures(db, w.agent, w.tid, public_id, ids[:3], RollStatus.VALID)
        legal.check_signatures(db, w.agent, w.tid, public_id, ids[3:], RollStatus.INVALID, "Absent de la liste")
        legal.finish_verification(db, w.agent, w.tid, public_id)
    return public_id, ids


def test_extract_holds_names_and_commune_only_and_is_audited(
    factory: Factory, world: World, settings: Settings
) -> None:
    w = world
    territory = h.context(factory.database, w.tid)
    public_id = _request(factory, w)
    with pytest.raises(Conflict), unit_of_work(factory.database) as db:
        legal.extract(db, w.agent, territory, public_id, "consultation demandée par M. Durand")  # not verified
    assert _audits(factory, legal.ACTION_EXTRACT) == []

    public_id, _ids = _verified(factory, w, settings)
    with pytest.raises(Forbidden), unit_of_work(factory.database) as db:
        legal.extract(db, w.resident, territory, public_id, "curiosité")
    with pytest.raises(Invalid), unit_of_work(factory.database) as db:
        legal.extract(db, w.agent, territory, public_id, "  ")
    with unit_of_work(factory.database) as db:
        made = legal.extract(db, w.agent, territory, public_id, "Consultation demandée par M. Durand en mairie")
    assert made.rows == [
        ("Dupont", "Marie Anne", "Loos-en-Gohelle"),
        ("Lefebvre", "Jean", "Loos-en-Gohelle"),
        ("Martin", "Sophie", "Loos-en-Gohelle"),
    ]  # the invalid signer (Zola) is not listed
    data = legal.extract_csv(made).decode("utf-8-sig")
    assert data.splitlines()[0] == "Nom;Prénoms;Commune"
    assert "rue Pasteur" not in data
    assert "1970" not in data
    assert "Zola" not in data
    (entry,) = _audits(factory, legal.ACTION_EXTRACT)
    assert entry.actor_person_id == w.agent_account.person_id
    assert entry.reason == "Consultation demandée par M. Durand en mairie"
    assert entry.data == {"rows": 3}


def test_pages_through_the_whole_procedure(
    client: TestClient, other_client: TestClient, factory: Factory, world: World, settings: Settings
) -> None:
    w = world
    public_id = _request(factory, w)
    ids = _sign(factory, w, public_id)
    _recount(factory, settings)
    show = f"/petitions/{public_id}"
    procedure = f"{show}/procedure"

    # The author hands it in from the procedure page and gets the printable acknowledgement.
    factory.login(client, w.author_account)
    page = client.get(show)
    assert page.status_code == 200
    assert 'id="legal-stages"' in page.text
    assert procedure in page.text
    response = post_form(client, procedure, f"{show}/remettre-au-maire")
    assert response.status_code == 303, response.text[:300]
    assert response.headers["location"].endswith("/accuse-de-reception")
    receipt = client.get(f"{show}/accuse-de-reception")
    assert receipt.status_code == 200
    assert "Accusé de réception" in receipt.text
    assert "Loos-en-Gohelle" in receipt.text

    # A resident: no verification page, no receipt, no extract.
    factory.login(client, w.resident_account)
    assert client.get(f"{show}/verification").status_code == 403
    assert client.get(f"{show}/accuse-de-reception").status_code == 404
    assert client.get(f"{show}/extrait").status_code == 403
    csrf = form_fields(client.get(procedure).text)
    forbidden = client.post(
        f"{show}/verification/{ids[0]}", data={**csrf, "status": "valid"}, headers={"HX-Request": "false"}
    )
    assert forbidden.status_code == 403

    # The agent checks the signatures: in bulk, then one with a reason; filters.
    factory.login(client, w.agent_account)
    listing = client.get(f"{show}/verification")
    assert listing.status_code == 200
    assert "12 rue Pasteur" in listing.text
    assert "Dupont" in listing.text
    response = post_form(client, f"{show}/verification", data={"ids": ids[:3], "status": "valid"})
    assert response.status_code == 303, response.text[:500]
    refused = post_form(client, f"{show}/verification/{ids[3]}", data={"status": "invalid", "reason": ""})
    assert refused.status_code == 422
    response = post_form(
        client, f"{show}/verification/{ids[3]}", data={"status": "invalid", "reason": "Absent de la liste"}
    )
    assert response.status_code == 303
    pending = client.get(f"{show}/verification?statut=pending")
    assert "Dupont" not in pending.text
    invalid = client.get(f"{show}/verification?statut=invalid")
    assert "Zola" in invalid.text
    assert "Absent de la liste" in invalid.text
    assert "Dupont" not in invalid.text
    response = post_form(client, f"{show}/verification", f"{show}/verification/terminer")
    assert response.status_code == 303
    assert h.petition(factory.database, public_id).legal_stage == LegalStage.VERIFIED

    # The council: the first sitting after receipt is proposed; an earlier one is refused.
    early = _sitting(factory, w.tid, dt.date.today() - dt.timedelta(days=3), "Séance de rentrée")
    first = _sitting(factory, w.tid, dt.date.today() + dt.timedelta(days=8), "Séance d'automne")
    page = client.get(procedure)
    assert f'<option value="{first}" selected>' in page.text
    assert early not in page.text
    refused = post_form(client, procedure, f"{show}/conseil-informe", data={"sitting": early})
    assert refused.status_code == 409
    response = post_form(client, procedure, f"{show}/conseil-informe", data={"sitting": first})
    assert response.status_code == 303

    # The mayor records the decision.
    factory.login(client, w.mayor_account)
    refused = post_form(client, procedure, f"{show}/decision-du-conseil", data={"text": ""})
    assert refused.status_code == 422
    response = post_form(
        client, procedure, f"{show}/decision-du-conseil",
        data={"text": "Le conseil organise la consultation.", "deliberation_number": "2027-031"},
    )  # fmt: skip
    assert response.status_code == 303

    # The agent generates an extract (printable, then CSV): audited each time, names and commune only.
    factory.login(client, w.agent_account)
    html = post_form(client, f"{show}/extrait", data={"reason": "Consultation demandée par Mme Roux", "format": "html"})
    assert html.status_code == 200
    assert "Dupont" in html.text
    assert "Marie Anne" in html.text
    assert "Loos-en-Gohelle" in html.text
    assert "rue Pasteur" not in html.text
    assert "Zola" not in html.text
    assert "02/05/1970" not in html.text
    assert html.headers["cache-control"] == "no-store"
    data = post_form(client, f"{show}/extrait", data={"reason": "Consultation demandée par M. Petit", "format": "csv"})
    assert data.status_code == 200
    assert data.headers["content-type"].startswith("text/csv")
    assert data.content.decode("utf-8-sig").splitlines() == [
        "Nom;Prénoms;Commune",
        "Dupont;Marie Anne;Loos-en-Gohelle",
        "Lefebvre;Jean;Loos-en-Gohelle",
        "Martin;Sophie;Loos-en-Gohelle",
    ]
    assert [e.reason for e in _audits(factory, legal.ACTION_EXTRACT)] == [
        "Consultation demandée par Mme Roux",
        "Consultation demandée par M. Petit",
    ]

    # The public sees every stage with its date, never a signer nor a link to the extract.
    client.cookies.clear()
    for url in (show, procedure):
        public = client.get(url)
        assert public.status_code == 200
        for surname, first_names, address, _born in SIGNERS:
            assert surname not in public.text
            assert first_names not in public.text
            assert address not in public.text
        assert "/extrait" not in public.text
        assert "/verification" not in public.text
    public = client.get(procedure)
    for label in ("Recueil des signatures", "Seuil atteint (provisoire)", "Remise au maire", "Signatures vérifiées",
                  "Conseil municipal informé", "Décision du conseil municipal"):  # fmt: skip
        assert label in public.text
    assert "Le conseil organise la consultation." in public.text
    assert "2027-031" in public.text
    assert "3 signatures valides pour un seuil de 3 : seuil atteint." in public.text
    fragment = client.get(procedure, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert 'id="legal-stages"' in fragment.text

    # Another town's host does not know the request.
    assert other_client.get(procedure).status_code == 404
    other_agent = factory.account("agent@autre.org", territory="autre", roles=("agent", "executive"))
    factory.login(other_client, other_agent)
    assert other_client.get(f"{show}/verification").status_code == 404
    assert other_client.get(f"{show}/extrait").status_code == 404
    assert other_client.get(f"{show}/accuse-de-reception").status_code == 404
    # Signers were never told anything.
    assert _signer_messages(factory, w) == (0, 0)


def test_the_decision_form_takes_an_empty_optional_date() -> None:
    # A browser always sends the optional date field, empty when not filled in.
    from app.petitions.legal import DecisionInput

    assert (
        DecisionInput.model_validate(
            {"text": "Le conseil organise la consultation.", "deliberation_date": ""}
        ).deliberation_date
        is None
    )
    assert DecisionInput.model_validate({"deliberation_date": "2026-12-03"}).deliberation_date == dt.date(2026, 12, 3)
