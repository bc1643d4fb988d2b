"""The initiative's timeline, read from the audit log: every transition, ledger change, agenda step and
signature, in order. Promoters and staff see who did what and why; the public sees the steps only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.display import public_name
from app.accounts.models import Person
from app.audit.models import AuditEntry
from app.core.actor import Actor
from app.initiatives.models import Initiative
from app.ledger.models import CommitmentLine
from app.web.i18n import N_, _, date

# What each audited action means on the timeline. Actions absent here (a photo's description edited,
# a thread message, which the thread shows) stay in the audit log only.
LABELS: dict[str, str] = {
    "initiative.propose": N_("Proposition enregistrée"),
    "initiative.update": N_("Proposition modifiée"),
    "initiative.submit": N_("Projet déposé auprès de la commune"),
    "initiative.withdraw": N_("Projet retiré par ses porteur·ses"),
    "initiative.rework": N_("Projet remis en brouillon pour être retravaillé"),
    "initiative.assign": N_("Instruction confiée à un·e agent·e"),
    "initiative.start_review": N_("Instruction commencée"),
    "initiative.request_changes": N_("Modifications demandées"),
    "initiative.resubmit": N_("Projet renvoyé à la commune après modifications"),
    "initiative.put_on_hold": N_("Instruction mise en pause"),
    "initiative.resume": N_("Instruction reprise"),
    "initiative.approve": N_("Initiative acceptée"),
    "initiative.approve_waiting": N_("Initiative acceptée, en attente de crédits"),
    "initiative.envelope_released": N_("Crédits libérés : l'initiative est financée"),
    "initiative.decline": N_("Initiative refusée"),
    "initiative.propose_convention": N_("Convention proposée aux signataires"),
    "initiative.sign_convention": N_("Convention signée par toutes les parties"),
    "initiative.abandon": N_("Projet abandonné"),
    "initiative.member.invite": N_("Invitation envoyée à un·e co-porteur·se"),
    "initiative.member.accept": N_("Invitation acceptée"),
    "initiative.member.add_contact": N_("Contact ajouté à l'équipe"),
    "initiative.member.remove": N_("Membre retiré de l'équipe"),
    "initiative.photo.add": N_("Photo ajoutée"),
    "initiative.photo.remove": N_("Photo retirée"),
    "ledger.add_line": N_("Apport inscrit au registre"),
    "ledger.secure_line": N_("Apport confirmé"),
    "ledger.cancel_line": N_("Apport annulé"),
    "council_agenda.schedule": N_("Inscrite à l'ordre du jour d'une séance du conseil municipal"),
    "council_agenda.postpone": N_("Examen reporté à une autre séance du conseil"),
    "council_agenda.take_off": N_("Retirée de l'ordre du jour du conseil"),
    "convention.regenerate": N_("Texte de la convention mis à jour (signatures à recueillir à nouveau)"),
    "convention.sign": N_("Signature de la convention"),
    "convention.remind": N_("Rappel : la convention attend ses signatures"),
    "convention.amendment_propose": N_("Avenant proposé"),
    "convention.amendment_signed": N_("Avenant signé par toutes les parties"),
    "convention.amendment_cancel": N_("Avenant annulé"),
    "interest.withdraw": N_("Déport d'un membre du personnel"),
    "initiative.start_work": N_("Travaux commencés"),
    "initiative.deliver": N_("Projet réalisé : bilan de réalisation enregistré"),
    "milestone.add": N_("Étape ajoutée"),
    "milestone.update": N_("Étape modifiée"),
    "milestone.done": N_("Étape franchie"),
    "milestone.reopen": N_("Étape rouverte"),
    "milestone.remove": N_("Étape retirée"),
    "milestone.overdue": N_("Étape en retard signalée aux deux parties"),
    "ledger.realisation.record": N_("Réalisation inscrite"),
    "ledger.realisation.verify": N_("Réalisation vérifiée par la commune"),
    "ledger.realisation.cancel": N_("Réalisation annulée"),
    "ledger.commitment_overdue": N_("Apport en retard signalé aux deux parties"),
    "initiative.proof.add": N_("Justificatif ajouté"),
    "initiative.proof.remove": N_("Justificatif retiré"),
    "progress_update.post": N_("Nouvelles du projet publiées"),
    "progress_update.edit": N_("Nouvelles du projet modifiées"),
    "progress_update.delete": N_("Nouvelles du projet supprimées"),
    "work_day.plan": N_("Chantier participatif programmé"),
    "work_day.update": N_("Chantier participatif modifié"),
    "work_day.cancel": N_("Chantier participatif annulé"),
    "work_day.register_enter": N_("Feuille d'heures d'un chantier remplie"),
    "work_day.register_check": N_("Feuille d'heures vérifiée : les heures sont inscrites au registre des apports"),
    "equipment.book": N_("Matériel de la commune réservé pour un chantier"),
    "equipment.cancel_booking": N_("Réservation de matériel annulée"),
    "equipment.hand_out": N_("Matériel de la commune remis pour un chantier"),
    "equipment.take_back": N_("Matériel de la commune rendu après un chantier"),
    "moderation.hide": N_("Contenu masqué au public par la commune"),
    "moderation.restore": N_("Contenu de nouveau visible du public"),
    "initiative.evaluate": N_("Évaluation de la commune finalisée"),
    "survey.invite": N_("Questionnaire envoyé aux participant·es"),
    "upkeep.open": N_("Point d'entretien annuel ouvert"),
    "upkeep.remind": N_("Rappel : le point d'entretien annuel attend sa réponse"),
    "upkeep.overdue": N_("Point d'entretien en retard signalé aux deux parties"),
    "upkeep.answer": N_("Réponse au point d'entretien annuel"),
    "library.share": N_("Fiche partagée avec les villes pairs (bibliothèque), avec l'accord des porteur·ses"),
    "library.withdraw": N_("Fiche retirée de la bibliothèque des villes pairs"),
}
# The steps anyone who may see the initiative sees (without names or reasons).
PUBLIC_ACTIONS = frozenset(
    {
        "initiative.submit",
        "initiative.approve",
        "initiative.approve_waiting",
        "initiative.envelope_released",
        "initiative.decline",
        "initiative.withdraw",
        "initiative.propose_convention",
        "initiative.sign_convention",
        "initiative.abandon",
        "initiative.start_work",
        "initiative.deliver",
        "initiative.evaluate",
        "council_agenda.schedule",
    }
)
# Declared interests concern the staff's own conduct: the promoters do not see them here.
STAFF_ACTIONS = frozenset({"interest.withdraw", "initiative.assign"})
PARTY_LABELS = {"promoters": N_("pour les porteur·ses de projet"), "town": N_("pour la commune")}
METHOD_LABELS = {"online": N_("en ligne"), "paper": N_("sur papier")}
MAX_ENTRIES = 300


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    label: str
    detail: str  # e.g. the ledger line concerned, or how a convention was signed
    actor: str  # empty on the public timeline and for the system's own steps
    reason: str


def _detail(entry: AuditEntry, lines: dict[str, str]) -> str:
    data: dict[str, Any] = entry.data or {}
    if entry.action.startswith("ledger.") and data.get("line") in lines:
        return lines[data["line"]]
    if entry.action == "convention.sign":
        party = PARTY_LABELS.get(str(data.get("party")), "")
        method = METHOD_LABELS.get(str(data.get("method")), "")
        return ", ".join(_(part) for part in (party, method) if part)
    if entry.action in {"council_agenda.schedule", "council_agenda.postpone"} and data.get("sitting_date"):
        try:
            return date(dt.date.fromisoformat(str(data["sitting_date"])))
        except ValueError:
            return ""
    return ""


def timeline(
    db: Session, viewer: Actor | None, initiative: Initiative, *, private: bool, staff: bool
) -> list[TimelineEntry]:
    """The initiative's steps, oldest first. ``private``: the viewer is a promoter or staff (names,
    reasons and every step); ``staff``: also the staff's own steps."""
    actions = set(LABELS) if private else set(PUBLIC_ACTIONS)
    if not staff:
        actions -= STAFF_ACTIONS
    entries = list(
        db.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.territory_id == initiative.territory_id,
                AuditEntry.subject_type == "initiative",
                AuditEntry.subject_id == initiative.public_id,
                AuditEntry.action.in_(sorted(actions)),
            )
            .order_by(AuditEntry.created_at, AuditEntry.id)
            .limit(MAX_ENTRIES)
        )
    )
    lines: dict[str, str] = {}
    people: dict[int, Person] = {}
    if private:
        line_ids = {str(e.data.get("line")) for e in entries if e.action.startswith("ledger.") and e.data}
        if line_ids:
            lines = {
                line_id: label
                for line_id, label in db.execute(
                    select(CommitmentLine.public_id, CommitmentLine.label).where(
                        CommitmentLine.initiative_id == initiative.id, CommitmentLine.public_id.in_(sorted(line_ids))
                    )
                )
            }
        person_ids = {e.actor_person_id for e in entries if e.actor_person_id is not None}
        if person_ids:
            people = {p.id: p for p in db.scalars(select(Person).where(Person.id.in_(sorted(person_ids))))}
    result: list[TimelineEntry] = []
    for entry in entries:
        person = people.get(entry.actor_person_id) if entry.actor_person_id is not None else None
        actor = ""
        if private and person is not None:
            actor = public_name(person) if person.anonymised_at is not None else person.display_name
        result.append(
            TimelineEntry(
                at=entry.created_at,
                label=_(LABELS[entry.action]),
                detail=_detail(entry, lines) if private else "",
                actor=actor,
                reason=entry.reason if private else "",
            )
        )
    return result
