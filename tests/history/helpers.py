"""The historical import through its pages: CSV files built in memory, uploaded as a browser would."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.db.session import Database, read_only
from app.funds.models import FundEnvelope
from app.history.models import HistoricalImport, HistoricalRecord
from app.initiatives.models import Beneficiary, Initiative
from app.ledger.models import CommitmentLine, RealisationLine
from app.mail.models import OutboxEmail
from app.notifications.models import Notification
from tests.factories import Factory, form_fields

HEADER = [
    "titre",
    "description",
    "année",
    "date de dépôt",
    "quartier",
    "thématique",
    "type de projet",
    "nom du collectif ou de l'association",
    "type de porteur",
    "état final",
    "apport de la commune (€)",
    "apport des habitant·es (€ ou heures)",
    "heures de bénévolat",
    "partenaires (€)",
    "adresse",
    "latitude",
    "longitude",
    "référence",
]


def row(**values: str) -> dict[str, str]:
    """A line by column header; unnamed columns stay empty."""
    return values


GARDEN = {
    "titre": "Jardin partagé de la Cité 5",
    "description": "Six bacs potagers.",
    "année": "2022",
    "quartier": "cité 5",  # case and accents folded
    "thématique": "PLAN PAYSAGER",
    "type de projet": "travaux",
    "nom du collectif ou de l'association": "Les Jardiniers de la Cité",
    "type de porteur": "collectif",
    "état final": "réalisée",
    "apport de la commune (€)": "1 200,50",
    "apport des habitant·es (€ ou heures)": "150",
    "heures de bénévolat": "180",
    "partenaires (€)": "250",
    "adresse": "Rue Hoche",
    "latitude": "50,4578",
    "longitude": "2,7931",
    "référence": "FF-2022-01",
}
PARTY = {
    "titre": "Fête des voisins",
    "date de dépôt": "14/05/2023",
    "type de projet": "activité",
    "état final": "abandonnée",
    "apport de la commune (€)": "300",
    "apport des habitant·es (€ ou heures)": "40 h",
    "référence": "FF-2023-02",
}
SHELTER = {
    "titre": "Abri à vélos",
    "année": "2024",
    "nom du collectif ou de l'association": "Association Vélo pour tous",
    "état final": "refusée",
    "apport de la commune (€)": "1800",
    "référence": "FF-2024-03",
}


def csv_bytes(
    rows: list[dict[str, str]],
    *,
    separator: str = ";",
    bom: bool = True,
    header: list[str] | None = None,
    newline: str = "\r\n",
) -> bytes:
    columns = header or HEADER
    out = io.StringIO()
    writer = csv.writer(out, delimiter=separator, lineterminator=newline)
    writer.writerow(columns)
    for values in rows:
        writer.writerow([values.get(c, "") for c in columns])
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


def login_admin(client: TestClient, factory: Factory, email: str = "admin@loos.fr", territory: str = "loos") -> None:
    factory.login(client, factory.account(email, territory=territory, roles=("admin",)))


def upload(client: TestClient, data: bytes, filename: str = "historique.csv") -> Any:
    """Sends the file with the import page's form, as a browser without JavaScript would."""
    page = client.get("/admin/import")
    assert page.status_code == 200, page.text[:300]
    return client.post("/admin/import", data=form_fields(page.text), files={"file": (filename, data, "text/csv")})


def confirm(client: TestClient, preview_url: str) -> Any:
    page = client.get(preview_url)
    assert page.status_code == 200, page.text[:500]
    import_id = preview_url.rstrip("/").rsplit("/", 1)[-1]
    return client.post(f"/admin/import/{import_id}/confirmer", data=form_fields(page.text))


def import_file(client: TestClient, data: bytes) -> str:
    """Upload, preview, confirm: the preview page's address (which then shows the result)."""
    response = upload(client, data)
    assert response.status_code == 303, response.text[:2000]
    location = response.headers["location"]
    done = confirm(client, location)
    assert done.status_code == 303, done.text[:2000]
    return str(location)


def counts(database: Database) -> dict[str, int]:
    models: list[type[Any]] = [
        Initiative, Beneficiary, CommitmentLine, RealisationLine, HistoricalRecord, HistoricalImport,
        Notification, OutboxEmail,
    ]  # fmt: skip
    with read_only(database) as db:
        return {m.__name__: db.scalar(select(func.count()).select_from(m)) or 0 for m in models}


def envelopes(database: Database) -> list[tuple[int, int]]:
    with read_only(database) as db:
        return [(e.id, e.committed_cents) for e in db.scalars(select(FundEnvelope).order_by(FundEnvelope.id))]


def audit(database: Database, action: str) -> list[AuditEntry]:
    with read_only(database) as db:
        rows = list(db.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))
        for r in rows:
            db.expunge(r)
        return rows
