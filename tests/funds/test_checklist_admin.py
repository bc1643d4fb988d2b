"""The fund's review checklist on its administration page: admins only, audited, territory-checked,
and a change reaches only the initiatives whose checklist is created afterwards."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.db.session import Database, unit_of_work
from app.funds.models import Fund
from app.initiatives.models import Initiative, InitiativeState
from app.review import checklist
from app.review.models import FundChecklistItem, ReviewItem
from tests.factories import Factory, form_fields, post_form
from tests.ledger.helpers import agent, csrf_for, make_initiative


def _admin(client: TestClient, factory: Factory) -> str:
    return factory.login(client, factory.account("admin@loos.fr", roles=("admin",)))


def _fund(database: Database, name: str = "Fifty-fifty") -> Fund:
    with unit_of_work(database) as db:
        fund = db.scalar(select(Fund).where(Fund.name == name))
        assert fund is not None
        db.expunge(fund)
        return fund


def _points(database: Database, fund_id: int) -> list[tuple[str, str]]:
    with unit_of_work(database) as db:
        rows = db.execute(
            select(FundChecklistItem.public_id, FundChecklistItem.label)
            .where(FundChecklistItem.fund_id == fund_id)
            .order_by(FundChecklistItem.position)
        )
        return [(p, label) for p, label in rows]


def _actions(database: Database) -> list[str]:
    with unit_of_work(database) as db:
        return list(
            db.scalars(
                select(AuditEntry.action).where(AuditEntry.action.like("fund_checklist.%")).order_by(AuditEntry.id)
            )
        )


def _start_review_checklist(database: Database, territory_id: int, title: str) -> list[str]:
    """An initiative in review of the default fund whose checklist an agent starts: its labels."""
    public_id = make_initiative(database, territory_id, state=InitiativeState.IN_REVIEW, title=title)
    with unit_of_work(database) as db:
        initiative = db.scalars(select(Initiative).where(Initiative.public_id == public_id)).one()
        checklist.start(db, agent(territory_id), initiative)
        return list(
            db.scalars(
                select(ReviewItem.label).where(ReviewItem.initiative_id == initiative.id).order_by(ReviewItem.position)
            )
        )


def test_only_admins_open_and_change_the_checklist(client: TestClient, factory: Factory, database: Database) -> None:
    factory.territory()
    fund = _fund(database)
    page = f"/admin/dispositifs/{fund.public_id}/points-de-controle"
    for email, roles in (("agent@loos.fr", ("agent",)), ("maire@loos.fr", ("executive",)), ("rita@loos.fr", ())):
        token = factory.login(client, factory.account(email, roles=roles))
        assert client.get(page).status_code == 403
        headers = {"X-CSRF-Token": csrf_for(factory.app, token)}
        assert client.post(page, data={"label": "Intrus"}, headers=headers).status_code == 403
    assert _points(database, fund.id) == []
    assert _actions(database) == []


def test_admin_customises_adds_renames_reorders_and_removes(
    client: TestClient, factory: Factory, database: Database
) -> None:
    _admin(client, factory)
    fund = _fund(database)
    page = f"/admin/dispositifs/{fund.public_id}/points-de-controle"
    shown = client.get(page)
    assert shown.status_code == 200
    assert "Accord du propriétaire du terrain" in shown.text  # the usual points, not yet the fund's own
    assert "créée ensuite" in shown.text  # the page says changes only reach later checklists
    assert client.get(f"/admin/dispositifs/{fund.public_id}").text.count("points-de-controle") >= 1

    response = post_form(client, page, data={"step": "personnaliser"})
    assert response.status_code == 303
    points = _points(database, fund.id)
    assert [label for _p, label in points] == list(checklist.DEFAULT_ITEMS)

    response = post_form(client, page, data={"label": "  Avis du conseil de quartier  "})
    assert response.status_code == 303
    points = _points(database, fund.id)
    assert points[-1][1] == "Avis du conseil de quartier"
    new_id = points[-1][0]

    base = f"{page}/{new_id}"
    assert post_form(client, page, f"{base}/renommer", {"label": "Avis du conseil citoyen"}).status_code == 303
    assert post_form(client, page, f"{base}/monter").status_code == 303
    labels = [label for _p, label in _points(database, fund.id)]
    assert labels[-2:] == ["Avis du conseil citoyen", checklist.DEFAULT_ITEMS[-1]]
    first_id = _points(database, fund.id)[0][0]
    assert post_form(client, page, f"{page}/{first_id}/descendre").status_code == 303
    labels = [label for _p, label in _points(database, fund.id)]
    assert labels[:2] == [checklist.DEFAULT_ITEMS[1], checklist.DEFAULT_ITEMS[0]]
    assert post_form(client, page, f"{page}/{first_id}/supprimer").status_code == 303
    labels = [label for _p, label in _points(database, fund.id)]
    assert checklist.DEFAULT_ITEMS[0] not in labels
    assert len(labels) == len(checklist.DEFAULT_ITEMS)

    assert _actions(database) == [
        "fund_checklist.customise",
        "fund_checklist.add",
        "fund_checklist.rename",
        "fund_checklist.move",
        "fund_checklist.move",
        "fund_checklist.remove",
    ]
    with unit_of_work(database) as db:
        rename = db.scalars(select(AuditEntry).where(AuditEntry.action == "fund_checklist.rename")).one()
        assert rename.data["previous"] == "Avis du conseil de quartier"
        assert rename.data["label"] == "Avis du conseil citoyen"


def test_moving_past_an_end_or_a_blank_label_changes_nothing(
    client: TestClient, factory: Factory, database: Database
) -> None:
    _admin(client, factory)
    fund = _fund(database)
    page = f"/admin/dispositifs/{fund.public_id}/points-de-controle"
    post_form(client, page, data={"step": "personnaliser"})
    before = _points(database, fund.id)
    assert post_form(client, page, f"{page}/{before[0][0]}/monter").status_code == 409
    blank = post_form(client, page, data={"label": "   "})
    assert blank.status_code == 422
    assert 'aria-invalid="true"' in blank.text
    assert post_form(client, page, data={"label": before[1][1]}).status_code == 422  # already listed
    assert _points(database, fund.id) == before
    assert _actions(database) == ["fund_checklist.customise"]


def test_the_default_fund_keeps_at_least_one_point(client: TestClient, factory: Factory, database: Database) -> None:
    _admin(client, factory)
    fund = _fund(database)
    page = f"/admin/dispositifs/{fund.public_id}/points-de-controle"
    post_form(client, page, data={"step": "personnaliser"})
    points = _points(database, fund.id)
    for public_id, _label in points[:-1]:
        assert post_form(client, page, f"{page}/{public_id}/supprimer").status_code == 303
    last = points[-1][0]
    assert post_form(client, page, f"{page}/{last}/supprimer").status_code == 409
    assert [p for p, _label in _points(database, fund.id)] == [last]


def test_a_change_reaches_only_checklists_created_afterwards(
    client: TestClient, factory: Factory, database: Database
) -> None:
    tid = factory.territory()
    before = _start_review_checklist(database, tid, "Haie du Cité 5")
    assert before == list(checklist.DEFAULT_ITEMS)
    _admin(client, factory)
    fund = _fund(database)
    page = f"/admin/dispositifs/{fund.public_id}/points-de-controle"
    assert post_form(client, page, data={"label": "Avis du conseil citoyen"}).status_code == 303
    first = _points(database, fund.id)[0][0]
    assert post_form(client, page, f"{page}/{first}/supprimer").status_code == 303

    after = _start_review_checklist(database, tid, "Bancs de la place")
    assert after == [*checklist.DEFAULT_ITEMS[1:], "Avis du conseil citoyen"]
    with unit_of_work(database) as db:  # the initiative started before keeps its own list
        labels = db.scalars(
            select(ReviewItem.label)
            .join(Initiative, Initiative.id == ReviewItem.initiative_id)
            .where(Initiative.title == "Haie du Cité 5")
            .order_by(ReviewItem.position)
        ).all()
        assert list(labels) == list(checklist.DEFAULT_ITEMS)


def test_a_double_submit_adds_once(client: TestClient, factory: Factory, database: Database) -> None:
    _admin(client, factory)
    fund = _fund(database)
    page = f"/admin/dispositifs/{fund.public_id}/points-de-controle"
    hidden = form_fields(client.get(page).text)
    data = {**hidden, "step": "personnaliser"}
    assert client.post(page, data=data).status_code == 303
    assert client.post(page, data=data).status_code == 303  # replayed: nothing done twice
    assert _actions(database) == ["fund_checklist.customise"]


def test_another_territory_s_fund_is_not_found(
    client: TestClient, factory: Factory, database: Database, other_client: TestClient
) -> None:
    token = _admin(client, factory)
    other = factory.account("admin@autre.fr", territory="autre", roles=("admin",))
    factory.login(other_client, other)
    with unit_of_work(database) as db:
        foreign = db.scalars(
            select(Fund).where(Fund.territory_id == factory.territories["autre"], Fund.name == "Fifty-fifty")
        ).one()
        foreign_id = foreign.public_id
    page = f"/admin/dispositifs/{foreign_id}/points-de-controle"
    assert client.get(page).status_code == 404
    headers = {"X-CSRF-Token": csrf_for(factory.app, token)}
    assert client.post(page, data={"label": "Intrus"}, headers=headers).status_code == 404
    assert other_client.get(page).status_code == 200
