"""Conventions through the service: generation, frozen values, signatures, amendments, the release job."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.accounts.models import AgeBracket
from app.conventions import clauses
from app.conventions import service as conventions
from app.conventions.models import (
    Convention,
    ConventionAmendment,
    ConventionKind,
    ConventionSignature,
    ConventionTemplate,
)
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.db.session import unit_of_work
from app.funds import service as funds
from app.funds.forms import FundForm
from app.funds.models import Fund, FundEnvelope, Rate
from app.initiatives.models import Initiative, InitiativeState, MemberRole
from app.ledger.models import CommitmentLine, LineKind, Side, Unit
from app.media.storage import media_store
from app.notifications.models import Notification
from tests.conventions.conftest import (
    add_member,
    approved,
    audit_count,
    convention_of,
    propose,
    scan_upload,
    sign,
    signatures,
)
from tests.factories import Factory
from tests.review.conftest import World, actor, state_of

S = InitiativeState


def add_line(world: World, initiative_id: int, **values: object) -> None:
    with unit_of_work(world.database) as db:
        db.add(CommitmentLine(territory_id=world.territory_id, initiative_id=initiative_id, **values))


# ---------------------------------------------------------------- generation


def test_generated_text_has_both_sides_upkeep_insurance_and_the_republican_clause(world: World) -> None:
    initiative = approved(world, subsidy=True, town_cash_cents=120_000, title="Jardin partagé de la rue Lavoisier")
    add_line(
        world, initiative.id, side=Side.PARTNERS, kind=LineKind.PARTNER_IN_KIND, label="Terreau offert", quantity=1,
        unit=Unit.UNITS, unit_value_cents=8_000, value_cents=8_000, partner_name="Jardinerie du Centre",
        due_on=dt.date(2027, 4, 1),
    )  # fmt: skip
    convention = propose(world, initiative.id, upkeep_by="Les Jardins de Loos", months=24)
    text = convention.text
    assert convention.kind == ConventionKind.CONVENTION
    assert convention.number == f"{dt.date.today().year}-001"
    assert convention.text_sha256 == conventions.texts.sha256(text)
    for expected in (
        "Article 1 — Les parties",
        "Loos-en-Gohelle",
        "Les Jardins de Loos",  # the beneficiary (association)
        "RNA W623000001",
        "Paula Porteuse",  # the promoter, named in full: the convention is private
        "Jardin partagé de la rue Lavoisier",
        "Les engagements des habitant·es",
        "Heures de bénévolat",  # the residents' line
        "Les engagements de la commune",
        "Bacs et terreau",  # the town's line
        "Terreau offert",  # the partner's line, with its due date
        "1 avril 2027",
        "L'entretien et la pérennité",
        "pendant 24 mois",
        "Assurances et sécurité",
        "collaborateur·rices occasionnel·les du service public",
        "contrat d'engagement républicain",
        "loi n° 2021-1109 du 24 août 2021",
        "décret n° 2021-1947",
        "Signatures",
    ):
        assert expected in text, expected
    assert "{" not in text  # every placeholder was filled
    with unit_of_work(world.database) as db:
        template = db.get_one(ConventionTemplate, convention.template_id)
        assert template.version == 1  # written lazily for a fund created without one
    snapshot = convention.snapshot
    assert snapshot["balance"]["town_cash_cents"] == 120_000
    assert {line["label"] for line in snapshot["lines"]} == {"Heures de bénévolat", "Bacs et terreau", "Terreau offert"}
    assert snapshot["upkeep"] == {"by": "Les Jardins de Loos", "months": 24}
    assert state_of(world.database, initiative.id) == S.CONVENTION_PROPOSED
    assert audit_count(world, "initiative.propose_convention") == 1


def test_republican_clause_only_for_an_association_receiving_aid(world: World) -> None:
    person_led = approved(world, title="Bancs de la place")
    text = propose(world, person_led.id, upkeep_by="Paula Porteuse").text
    assert "engagement républicain" not in text
    # An association that receives nothing from the town signs no republican commitment.
    association = world.initiative(S.APPROVED, subsidy=True, town_cash_cents=0, title="Fête des voisins")
    text = propose(world, association.id).text
    assert "engagement républicain" not in text


def test_values_are_frozen_when_generated(world: World) -> None:
    initiative = approved(world)
    convention = propose(world, initiative.id)
    with unit_of_work(world.database) as db:
        fund = db.get_one(Fund, world.fund_id)
        fund.match_physical_percent = 250
        fund.small_project_threshold_cents = 10_000_000
        for line in db.scalars(select(CommitmentLine).where(CommitmentLine.initiative_id == initiative.id)):
            line.value_cents *= 3
            line.label += " (modifié)"
        db.add(Rate(territory_id=world.territory_id, kind="volunteer_hour", value_cents=9_999,
                    effective_from=dt.date(2020, 1, 1), source="test"))  # fmt: skip
    again = convention_of(world, initiative.id)
    assert again.text == convention.text
    assert again.text_sha256 == convention.text_sha256
    assert again.snapshot == convention.snapshot
    assert again.snapshot["fund"]["match_physical_percent"] == 100
    assert "(modifié)" not in again.text
    with unit_of_work(world.database) as db:
        page = conventions.convention_page(db, world.agent_actor, db.get_one(Initiative, initiative.id))
        assert page.convention.text == convention.text


def test_only_an_agent_proposes_and_only_once(world: World, factory: Factory) -> None:
    initiative = approved(world)
    with unit_of_work(world.database) as db:
        row = db.get_one(Initiative, initiative.id)
        with pytest.raises(Forbidden):
            conventions.propose(db, world.promoter_actor, row, "Paula", 12)
        with pytest.raises(Invalid) as exc:
            conventions.propose(db, world.agent_actor, row, "  ", 12)
        assert exc.value.field == "upkeep_by"
    propose(world, initiative.id)
    with unit_of_work(world.database) as db, pytest.raises(Conflict):
        conventions.propose(db, world.agent_actor, db.get_one(Initiative, initiative.id), "Paula", 12)
    outsider = factory.account("voisin@example.org", display_name="Victor Voisin")
    with unit_of_work(world.database) as db, pytest.raises(NotFound):
        conventions.convention_page(db, actor(outsider), db.get_one(Initiative, initiative.id))


# ---------------------------------------------------------------- signing online


def test_wrong_password_stores_nothing(world: World) -> None:
    initiative = approved(world)
    propose(world, initiative.id)
    with pytest.raises(Invalid) as exc:
        sign(world, world.promoter, initiative.id, password="pas le bon mot de passe")
    assert exc.value.field == "password"
    assert signatures(world, initiative.id) == []
    assert audit_count(world, "convention.sign") == 0


def test_stale_hash_is_refused(world: World) -> None:
    initiative = approved(world)
    propose(world, initiative.id)
    with pytest.raises(Conflict):
        sign(world, world.promoter, initiative.id, sha="0" * 64)
    assert signatures(world, initiative.id) == []


def test_non_parties_may_not_sign(world: World, factory: Factory) -> None:
    initiative = approved(world)
    propose(world, initiative.id)
    with pytest.raises(Forbidden):
        sign(world, world.agent, initiative.id, "agent")  # an agent does not sign for the town
    outsider = factory.account("voisin@example.org", display_name="Victor Voisin")
    with pytest.raises(NotFound):
        sign(world, outsider, initiative.id)
    assert signatures(world, initiative.id) == []


def test_conflicted_executive_may_not_sign(world: World, factory: Factory) -> None:
    initiative = approved(world)
    propose(world, initiative.id)
    deputy = factory.account("adjointe@example.org", roles=("executive",), display_name="Adèle Adjointe")
    add_member(world, initiative.id, deputy, MemberRole.CO_PROMOTER, accepted=False)  # tied by an invitation
    with pytest.raises(Forbidden):
        sign(world, deputy, initiative.id, "executive")
    assert signatures(world, initiative.id) == []


def test_minor_led_only_the_guardian_signs_for_the_promoters(world: World, factory: Factory) -> None:
    minor = factory.account("ado@example.org", display_name="Léa Ado", age_bracket=AgeBracket.FROM_15_TO_17)
    guardian = factory.account("parent@example.org", display_name="Gérard Garant")
    initiative = approved(world, promoter=minor)
    add_member(world, initiative.id, guardian, MemberRole.GUARDIAN)
    convention = propose(world, initiative.id, upkeep_by="Le conseil des jeunes")
    assert "Gérard Garant" in convention.text
    assert "(mineur·e)" in convention.text
    with pytest.raises(Forbidden):
        sign(world, minor, initiative.id)
    signature = sign(world, guardian, initiative.id)
    assert signature.party == "promoters"
    assert signature.signatory_name == "Gérard Garant"
    assert signature.signatory_capacity == "Adulte garant·e"


def test_last_signature_signs_the_convention(world: World) -> None:
    initiative = approved(world)
    convention = propose(world, initiative.id)
    first = sign(world, world.promoter, initiative.id)
    assert first.text_sha256 == convention.text_sha256
    assert first.revision == 1
    assert first.signatory_name == "Paula Porteuse"
    assert state_of(world.database, initiative.id) == S.CONVENTION_PROPOSED
    # Signing twice is harmless: the same signature comes back.
    assert sign(world, world.promoter, initiative.id).public_id == first.public_id
    town = sign(world, world.executive, initiative.id, "executive")
    assert town.party == "town"
    assert state_of(world.database, initiative.id) == S.CONVENTION_SIGNED
    assert convention_of(world, initiative.id).signed_at is not None
    assert len(signatures(world, initiative.id)) == 2
    assert audit_count(world, "convention.sign") == 2
    assert audit_count(world, "initiative.sign_convention") == 1
    with unit_of_work(world.database) as db:
        notified = set(db.scalars(select(Notification.person_id).where(Notification.subject.like("%est signée%"))))
    assert {world.promoter.person_id, world.agent.person_id} <= notified


def test_signed_convention_is_immutable(world: World) -> None:
    initiative = approved(world)
    convention = propose(world, initiative.id)
    sign(world, world.promoter, initiative.id)
    sign(world, world.executive, initiative.id, "executive")
    with unit_of_work(world.database) as db, pytest.raises(Conflict):
        conventions.regenerate(db, world.agent_actor, db.get_one(Initiative, initiative.id))
    assert convention_of(world, initiative.id).text == convention.text
    assert convention_of(world, initiative.id).revision == 1


def test_regenerating_voids_earlier_signatures(world: World) -> None:
    initiative = approved(world)
    convention = propose(world, initiative.id)
    sign(world, world.promoter, initiative.id)
    with unit_of_work(world.database) as db:
        updated = conventions.regenerate(
            db, world.agent_actor, db.get_one(Initiative, initiative.id), "La maison de quartier", 12,
            settings=world.settings,
        )  # fmt: skip
        assert updated.revision == 2
        assert "La maison de quartier" in updated.text
        assert updated.text_sha256 != convention.text_sha256
    [old] = signatures(world, initiative.id)
    assert old.voided
    with pytest.raises(Conflict):  # the old text can no longer be signed
        sign(world, world.executive, initiative.id, "executive", sha=convention.text_sha256)
    sign(world, world.promoter, initiative.id)
    sign(world, world.executive, initiative.id, "executive")
    assert state_of(world.database, initiative.id) == S.CONVENTION_SIGNED
    assert audit_count(world, "convention.regenerate") == 1


# ---------------------------------------------------------------- small projects, paper, amendments


def test_small_project_is_a_commitment_signed_by_the_promoters_only(world: World) -> None:
    initiative = approved(world, town_cash_cents=20_000)
    convention = propose(world, initiative.id)
    assert convention.kind == ConventionKind.COMMITMENT
    assert "Engagement n°" in convention.text
    with pytest.raises(Forbidden):
        sign(world, world.executive, initiative.id, "executive")
    sign(world, world.promoter, initiative.id)
    assert state_of(world.database, initiative.id) == S.CONVENTION_SIGNED


def test_paper_signature_with_its_scan(world: World) -> None:
    initiative = approved(world)
    convention = propose(world, initiative.id)
    store = media_store(world.settings)
    with unit_of_work(world.database) as db:
        row = db.get_one(Convention, convention.id)
        with pytest.raises(Invalid) as exc:
            conventions.record_paper_signature(
                db, world.agent_actor, row, "town", "Marc Maire", "Maire", dt.date.today(), None, store=store
            )
        assert exc.value.field == "scan"
        with pytest.raises(Forbidden):
            conventions.record_paper_signature(
                db, world.promoter_actor, row, "town", "Marc Maire", "Maire", dt.date.today(), scan_upload(),
                store=store,
            )  # fmt: skip
        signature = conventions.record_paper_signature(
            db, world.agent_actor, row, "town", "Marc Maire", "Maire", dt.date.today(), scan_upload(),
            store=store, settings=world.settings,
        )  # fmt: skip
        assert signature.method == "paper"
        assert signature.scan_file_id is not None
        assert signature.signed_on == dt.date.today()
        key = conventions.media.get_stored_file(db, world.territory_id, signature.scan_file_id).storage_key
    assert store.exists(key)
    sign(world, world.promoter, initiative.id)
    assert state_of(world.database, initiative.id) == S.CONVENTION_SIGNED


def test_amendment_flow(world: World) -> None:
    initiative = approved(world)
    convention = propose(world, initiative.id)
    with unit_of_work(world.database) as db, pytest.raises(Conflict):  # not signed yet
        conventions.propose_amendment(db, world.agent_actor, db.get_one(Convention, convention.id), "R", "C")
    sign(world, world.promoter, initiative.id)
    sign(world, world.executive, initiative.id, "executive")
    with unit_of_work(world.database) as db:
        row = db.get_one(Convention, convention.id)
        first = conventions.propose_amendment(
            db, world.agent_actor, row, "Le printemps est pluvieux.", "La livraison passe au 15 avril.",
            settings=world.settings,
        )  # fmt: skip
        assert first.number == 1
        assert f"Avenant n° 1 à la convention n° {convention.number}" in first.text
        assert "restent inchangées" in first.text
        with pytest.raises(Conflict):  # one open amendment at a time
            conventions.propose_amendment(db, world.agent_actor, row, "Autre", "Autre chose")
        conventions.cancel_amendment(db, world.agent_actor, first, settings=world.settings)
        second = conventions.propose_amendment(db, world.agent_actor, row, "Pluie", "Livraison au 20 avril.")
        assert second.number == 2
        second_id, sha = second.id, second.text_sha256
    for account, roles in ((world.promoter, ()), (world.executive, ("executive",))):
        with unit_of_work(world.database) as db:
            second_row = db.get_one(ConventionAmendment, second_id)
            conventions.sign_online(
                db, actor(account, *roles), db.get_one(Convention, second_row.convention_id),
                "une phrase de passe solide", sha, amendment=second_row, settings=world.settings,
            )  # fmt: skip
    with unit_of_work(world.database) as db:
        assert db.get_one(ConventionAmendment, second_id).signed_at is not None
        amendment_signatures = db.scalars(
            select(ConventionSignature).where(ConventionSignature.amendment_id == second_id)
        ).all()
        assert len(amendment_signatures) == 2
    assert convention_of(world, initiative.id).text == convention.text  # the convention itself never changes
    assert audit_count(world, "convention.amendment_signed") == 1
    assert audit_count(world, "convention.amendment_cancel") == 1


# ---------------------------------------------------------------- unsigned conventions release the envelope


def test_unsigned_convention_releases_the_envelope_and_the_waiting_list_moves(world: World) -> None:
    world.set_envelope(60_000)
    first = approved(world, town_cash_cents=50_000, title="Premier projet")
    waiting = approved(world, town_cash_cents=40_000, title="Projet en attente", waiting_list=True)
    assert waiting.state == S.AWAITING_ENVELOPE
    convention = propose(world, first.id)
    proposed_at = convention.proposed_at
    with unit_of_work(world.database) as db:
        report = conventions.release_unsigned(db, now=proposed_at + dt.timedelta(days=10), settings=world.settings)
    assert report.reminded == []
    assert report.abandoned == []
    with unit_of_work(world.database) as db:
        report = conventions.release_unsigned(db, now=proposed_at + dt.timedelta(days=54), settings=world.settings)
    assert report.reminded == [first.public_id]
    with unit_of_work(world.database) as db:
        report = conventions.release_unsigned(db, now=proposed_at + dt.timedelta(days=55), settings=world.settings)
    assert report.reminded == []  # reminded once only
    assert audit_count(world, "convention.remind") == 1
    with unit_of_work(world.database) as db:
        report = conventions.release_unsigned(db, now=proposed_at + dt.timedelta(days=61), settings=world.settings)
    assert report.abandoned == [first.public_id]
    assert report.released_cents == 50_000
    assert report.committed_from_waiting_list == [waiting.public_id]
    abandoned = world.reload(first.id)
    assert abandoned.state == S.ABANDONED
    assert abandoned.committed_cents == 0
    assert world.reload(waiting.id).state == S.APPROVED
    assert world.envelope().committed_cents == 40_000
    with unit_of_work(world.database) as db:
        from app.audit.models import AuditEntry

        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "initiative.abandon"))
        assert entry is not None
        assert entry.reason == "convention non signée dans les 60 jours"
        assert entry.actor_label == "system"
    with unit_of_work(world.database) as db:  # running again changes nothing
        report = conventions.release_unsigned(db, now=proposed_at + dt.timedelta(days=62), settings=world.settings)
    assert report.abandoned == []
    assert world.envelope().committed_cents == 40_000


def test_release_job_is_registered_daily() -> None:
    from app.jobs.registry import handler_for, recurring_jobs

    assert handler_for("conventions_unsigned") is not None
    spec = {r.kind: r for r in recurring_jobs()}["conventions_unsigned"]
    assert spec.every == dt.timedelta(days=1)


# ---------------------------------------------------------------- templates


def test_template_versions_and_unknown_placeholders(world: World, factory: Factory) -> None:
    admin = factory.account("admin@example.org", roles=("admin",), display_name="Ada Admin")
    initiative = approved(world)
    convention = propose(world, initiative.id)
    form = clauses.TemplateForm(
        title="Convention {dispositif}", preamble="Pour {commune}.", upkeep_clause="{entretien_par}",
        insurance_clause="Assurance.", general_clauses="Général.", rules_page="Règles de {commune}.",
        default_upkeep_months=12,
    )  # fmt: skip
    with unit_of_work(world.database) as db:
        fund_public_id = db.get_one(Fund, world.fund_id).public_id
        with pytest.raises(Forbidden):
            clauses.save_template(db, world.agent_actor, world.territory_id, fund_public_id, form)
        bad = form.model_copy(update={"insurance_clause": "Contactez {assureur} ou {__class__}."})
        with pytest.raises(Invalid) as exc:
            clauses.save_template(db, actor(admin, "admin"), world.territory_id, fund_public_id, bad)
        assert exc.value.field == "insurance_clause"
        assert "{assureur}" in exc.value.message
        with pytest.raises(Invalid):  # the rules page is not about one initiative
            clauses.save_template(db, actor(admin, "admin"), world.territory_id, fund_public_id,
                                  form.model_copy(update={"rules_page": "{initiative}"}))  # fmt: skip
        saved = clauses.save_template(db, actor(admin, "admin"), world.territory_id, fund_public_id, form)
        assert saved.version == 2
        versions = clauses.versions(db, db.get_one(Fund, world.fund_id))
        assert [v.version for v in versions] == [2, 1]
    # The convention proposed earlier keeps the version it used.
    assert convention_of(world, initiative.id).template_id == convention.template_id
    other = approved(world, title="Autre projet")
    assert "Convention Fonds des quartiers" in propose(world, other.id).text


def test_fill_is_one_pass_plain_substitution() -> None:
    assert (
        clauses.fill("{commune} et {initiative}", {"commune": "{initiative}", "initiative": "X"}) == "{initiative} et X"
    )
    assert clauses.unknown_placeholders("{commune} {{7*7}} {x.y}") == ["7*7", "x.y"]


def test_new_funds_get_the_default_template(world: World, factory: Factory) -> None:
    with unit_of_work(world.database) as db:
        default = db.scalar(select(Fund).where(Fund.territory_id == world.territory_id, Fund.name == "Fifty-fifty"))
        assert default is not None
        template = clauses.current_template(db, default.id)
        assert template is not None
        assert template.version == 1
        assert "{entretien_par}" in template.upkeep_clause
        assert db.scalar(select(FundEnvelope.id).where(FundEnvelope.fund_id == default.id)) is not None
    admin = factory.account("admin@example.org", roles=("admin",), display_name="Ada Admin")
    form = FundForm(name="Petits projets jeunes", match_physical_percent=100, match_activity_percent=50)
    with unit_of_work(world.database) as db:
        fund = funds.create_fund(db, actor(admin, "admin"), world.territory_id, form)
        created = clauses.current_template(db, fund.id)
        assert created is not None
        assert created.version == 1


def test_online_signatures_are_in_the_signers_data_export(world: World) -> None:
    from app.privacy.export import build_export

    initiative = approved(world)
    convention = propose(world, initiative.id)
    sign(world, world.promoter, initiative.id)
    with unit_of_work(world.database) as db:
        document = build_export(db, world.promoter_actor)
    [entry] = document["convention_signatures"]
    assert entry["convention_number"] == convention.number
    assert entry["text_sha256"] == convention.text_sha256
    assert entry["party"] == "promoters"
