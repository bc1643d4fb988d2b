"""The text of a convention (or of a small project's simple commitment) and of its amendments.

One Markdown document built by code in numbered articles, from facts gathered by the service:
the parties, the project, each side's commitments, the totals, upkeep, insurance and safety,
the republican-commitment acknowledgement when it applies, the general clauses, the signatures.
It is always written in French: it is the document the parties sign.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from app.conventions.clauses import TemplateView, fill
from app.conventions.models import ConventionKind
from app.initiatives.models import BeneficiaryKind, MemberRole
from app.ledger.models import CommitmentLine, LineState, Side
from app.ledger.service import KIND_LABELS, Balance, quantity_text
from app.web import i18n
from app.web.i18n import N_, _, money

BENEFICIARY_KIND_LABELS: dict[str, str] = {
    BeneficiaryKind.PERSON: N_("personne physique"),
    BeneficiaryKind.INFORMAL_GROUP: N_("groupe d'habitant·es sans statut"),
    BeneficiaryKind.ASSOCIATION: N_("association"),
    BeneficiaryKind.SCHOOL: N_("établissement scolaire"),
}
ROLE_LABELS: dict[str, str] = {
    MemberRole.PROMOTER: N_("porteur·se de projet"),
    MemberRole.CO_PROMOTER: N_("co-porteur·se"),
    MemberRole.GUARDIAN: N_("adulte garant·e"),
}
LINE_STATE_LABELS: dict[str, str] = {
    LineState.PLEDGED: N_("promis"),
    LineState.SECURED: N_("confirmé"),
    LineState.CANCELLED: N_("annulé"),
}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class MemberFact:
    name: str
    role: str
    is_minor: bool


@dataclass(frozen=True)
class Facts:
    """Everything the text says, gathered (and frozen) by the service."""

    kind: str
    number: str
    town: str
    town_siret: str | None
    fund_name: str
    template: TemplateView
    title: str
    description: str
    general_interest: str
    address: str
    neighbourhood: str
    start_on: dt.date | None
    end_on: dt.date | None
    beneficiary_kind: str | None
    beneficiary_name: str
    beneficiary_siret: str | None
    beneficiary_rna: str | None
    beneficiary_representative: str | None
    members: list[MemberFact]
    minor_led: bool
    lines: list[CommitmentLine]
    balance: Balance
    upkeep_by: str
    upkeep_months: int
    republican: bool
    partners_count: bool = True
    placeholders: dict[str, str] = field(default_factory=dict)


def months_text(months: int) -> str:
    return i18n.ngettext("%(num)d mois", "%(num)d mois", months) % {"num": months}


def placeholder_values(facts: Facts) -> dict[str, str]:
    promoters = [m.name for m in facts.members if m.role != MemberRole.GUARDIAN]
    return {
        "commune": facts.town,
        "dispositif": facts.fund_name,
        "initiative": facts.title,
        "numero": facts.number,
        "beneficiaire": facts.beneficiary_name or ", ".join(promoters),
        "porteurs": ", ".join(promoters),
        "entretien_par": facts.upkeep_by,
        "duree_entretien": months_text(facts.upkeep_months),
    }


class _Articles:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.count = 0

    def add(self, title: str, body: str) -> None:
        self.count += 1
        heading = _("Article %(n)s — %(title)s") % {"n": self.count, "title": title}
        self.parts.append(f"## {heading}\n\n{body.strip()}")


def _date(day: dt.date | None) -> str:
    return i18n.date(day) if day is not None else _("non fixée")


def _parties(facts: Facts, small: bool) -> str:
    town = _("La commune de %(town)s") % {"town": facts.town}
    if facts.town_siret:
        town += " " + _("(SIRET %(siret)s)") % {"siret": facts.town_siret}
    town += _(
        ", représentée par son maire ou par l'adjoint·e ou l'agent·e ayant reçu délégation, "
        "dont le nom et la qualité figurent sous sa signature, ci-après « la commune »."
    )
    lines = [f"- {town}"]
    if facts.beneficiary_kind and facts.beneficiary_kind != BeneficiaryKind.PERSON:
        kind = _(BENEFICIARY_KIND_LABELS.get(facts.beneficiary_kind, facts.beneficiary_kind))
        who = _("%(name)s, %(kind)s") % {"name": facts.beneficiary_name, "kind": kind}
        ids = []
        if facts.beneficiary_siret:
            ids.append(_("SIRET %(siret)s") % {"siret": facts.beneficiary_siret})
        if facts.beneficiary_rna:
            ids.append(_("RNA %(rna)s") % {"rna": facts.beneficiary_rna})
        if ids:
            who += " (" + ", ".join(ids) + ")"
        if facts.beneficiary_representative:
            who += _(", représentée par %(name)s") % {"name": facts.beneficiary_representative}
        lines.append("- " + who + _(", ci-après « le bénéficiaire » ;"))
    team = []
    for m in facts.members:
        label = _(ROLE_LABELS.get(m.role, m.role))
        team.append(f"  - {m.name}, {label}" + (" " + _("(mineur·e)") if m.is_minor else ""))
    lines.append("- " + _("les porteur·ses du projet, ci-après « les porteur·ses » :"))
    lines.extend(team or ["  - " + _("(aucun·e porteur·se enregistré·e)")])
    body = "\n".join(lines)
    if facts.minor_led:
        body += "\n\n" + _(
            "Les porteur·ses du projet étant mineur·es, l'adulte garant·e signe pour elles et eux et répond "
            "de leurs engagements."
        )
    if small:
        body += "\n\n" + _(
            "Le projet relève de la procédure allégée des petits projets : les porteur·ses signent un simple "
            "engagement ; la décision de la commune tient lieu de signature pour sa part."
        )
    return body


def _project(facts: Facts) -> str:
    parts = [f"**{facts.title}**"]
    if facts.description.strip():
        parts.append(facts.description.strip())
    facts_list = []
    place = ", ".join(p for p in (facts.address, facts.neighbourhood) if p)
    if place:
        facts_list.append("- " + _("Lieu : %(place)s") % {"place": place})
    if facts.start_on or facts.end_on:
        facts_list.append(
            "- "
            + _("Dates prévues : du %(start)s au %(end)s")
            % {"start": _date(facts.start_on), "end": _date(facts.end_on)}
        )
    if facts_list:
        parts.append("\n".join(facts_list))
    if facts.general_interest.strip():
        parts.append(_("Intérêt général du projet :") + "\n\n" + facts.general_interest.strip())
    return "\n\n".join(parts)


def _line(line: CommitmentLine) -> str:
    kind = _(KIND_LABELS.get(line.kind, line.kind))
    details = [d for d in (kind if kind != line.label else "", line.partner_name) if d]
    text = f"- **{line.label}**" + (f" ({', '.join(details)})" if details else "")
    text += " : " + _("%(qty)s × %(unit)s = %(value)s") % {
        "qty": quantity_text(line),
        "unit": money(line.unit_value_cents),
        "value": money(line.value_cents),
    }
    text += " — " + _("échéance : %(date)s") % {"date": _date(line.due_on)}
    text += " — " + _(LINE_STATE_LABELS.get(line.state, line.state))
    if line.kind == "subsidy" and line.instalments > 1:
        text += " — " + _("en %(n)s versements") % {"n": line.instalments}
    return text


def _side(facts: Facts, side: Side, intro: str) -> str:
    rows = [_line(line) for line in facts.lines if line.side == side]
    if not rows:
        return intro + "\n\n" + _("Aucun apport n'est prévu de ce côté.")
    total = sum(line.value_cents for line in facts.lines if line.side == side)
    return intro + "\n\n" + "\n".join(rows) + "\n\n" + _("Total : %(total)s.") % {"total": money(total)}


def _totals(facts: Facts) -> str:
    b = facts.balance
    rows = [
        _("Apport des habitant·es : %(v)s") % {"v": money(b.residents_value_cents)},
        _("Apport des partenaires : %(v)s") % {"v": money(b.partners_value_cents)},
        _("Apport de la commune : %(v)s, dont %(cash)s de dépenses")
        % {
            "v": money(b.town_value_cents),
            "cash": money(b.town_cash_cents),
        },
        _(
            "Apport attendu des habitant·es%(partners)s : %(k)s %% de l'apport de la commune, soit %(req)s ; apporté : %(got)s"
        )
        % {
            "partners": _(" et des partenaires") if facts.partners_count else "",
            "k": b.k_percent,
            "req": money(b.required_residents_cents),
            "got": money(b.counted_residents_cents),
        },
    ]
    if b.leverage_residents_per_town is not None:
        rows.append(
            _("Effet de levier : pour 1 € apporté par la commune, %(ratio)s € apportés par les habitant·es")
            % {"ratio": i18n.number(b.leverage_residents_per_town)}
        )
    return (
        _(
            "Les valeurs ci-dessous sont celles du registre des apports à la date de la présente convention ; les heures sont valorisées au taux en vigueur indiqué pour chaque ligne."
        )
        + "\n\n"
        + "\n".join(f"- {r}" for r in rows)
    )


def _upkeep(facts: Facts, values: dict[str, str]) -> str:
    if facts.upkeep_months <= 0:
        head = _("Aucun entretien particulier n'est prévu après la livraison.")
    else:
        head = _("L'entretien de la réalisation est assuré par %(who)s pendant %(months)s.") % {
            "who": facts.upkeep_by,
            "months": months_text(facts.upkeep_months),
        }
    clause = fill(facts.template.upkeep_clause, values).strip()
    return head + ("\n\n" + clause if clause and facts.upkeep_months > 0 else "")


REPUBLICAN_CLAUSE = N_(
    "%(name)s, association bénéficiaire d'une aide de la commune (en argent ou en nature), a souscrit le "
    "contrat d'engagement républicain prévu à l'article 10-1 de la loi n° 2000-321 du 12 avril 2000, issu "
    "de l'article 12 de la loi n° 2021-1109 du 24 août 2021 confortant le respect des principes de la "
    "République, dans sa rédaction fixée par le décret n° 2021-1947 du 31 décembre 2021. Elle s'engage à "
    "respecter les principes qu'il énonce, à en informer ses membres et à veiller à ce que ses dirigeant·es, "
    "salarié·es, membres et bénévoles les respectent.\n\n"
    "Si l'objet de l'association, son activité ou la manière dont elle est conduite sont illicites ou "
    "incompatibles avec ce contrat, la commune retire l'aide par une décision motivée et demande la "
    "restitution des sommes versées ou, pour une aide en nature, de sa valeur, dans un délai de six mois "
    "au plus."
)


def _signatures(facts: Facts, small: bool) -> str:
    promoters = [m.name for m in facts.members if m.role != MemberRole.GUARDIAN]
    guardians = [m.name for m in facts.members if m.role == MemberRole.GUARDIAN]
    if facts.minor_led:
        who = _("Pour les porteur·ses, leur adulte garant·e : %(names)s") % {"names": ", ".join(guardians) or "…"}
    else:
        who = _("Pour les porteur·ses : %(names)s") % {"names": ", ".join(promoters) or "…"}
    lines = [_("Fait à %(town)s.") % {"town": facts.town}, "", f"- {who}"]
    if not small:
        lines.append("- " + _("Pour la commune de %(town)s : son maire ou son délégataire") % {"town": facts.town})
    lines += [
        "",
        _(
            "Chaque signature est datée. Signée en ligne, elle est donnée après une nouvelle saisie du mot de "
            "passe et porte sur l'empreinte numérique (SHA-256) de ce texte exact ; signée sur papier, "
            "l'original numérisé est conservé par la commune."
        ),
    ]
    return "\n".join(lines)


def convention_text(facts: Facts) -> str:
    """The full Markdown text (French) of a convention or of a simple commitment."""
    with i18n.use_locale("fr"):
        return _build(facts)


def _build(facts: Facts) -> str:
    small = facts.kind == ConventionKind.COMMITMENT
    values = {**placeholder_values(facts), **facts.placeholders}
    title = fill(facts.template.title, values).strip() or _("Convention")
    if small:
        head = _("**Engagement n° %(number)s — petit projet « %(title)s »**") % {
            "number": facts.number,
            "title": facts.title,
        }
    else:
        head = _("**%(title)s n° %(number)s — « %(project)s »**") % {
            "title": title,
            "number": facts.number,
            "project": facts.title,
        }
    doc = [head, _("Dispositif : %(fund)s — commune de %(town)s") % {"fund": facts.fund_name, "town": facts.town}]
    preamble = fill(facts.template.preamble, values).strip()
    if preamble:
        doc.append(preamble)
    articles = _Articles()
    articles.add(_("Les parties"), _parties(facts, small))
    articles.add(_("Le projet"), _project(facts))
    articles.add(
        _("Les engagements des habitant·es"),
        _side(
            facts, Side.RESIDENTS, _("Les porteur·ses et les habitant·es qui les rejoignent s'engagent à apporter :")
        ),
    )
    articles.add(
        _("Les engagements de la commune"),
        _side(facts, Side.TOWN, _("La commune s'engage à apporter :")),
    )
    if any(line.side == Side.PARTNERS for line in facts.lines):
        articles.add(
            _("Les engagements des partenaires"),
            _side(facts, Side.PARTNERS, _("Les partenaires ont annoncé les apports suivants :")),
        )
    articles.add(_("Les totaux et l'effet de levier"), _totals(facts))
    articles.add(_("L'entretien et la pérennité"), _upkeep(facts, values))
    insurance = fill(facts.template.insurance_clause, values).strip()
    articles.add(_("Assurances et sécurité"), insurance or _("Chaque partie assure ses propres activités."))
    if facts.republican:
        articles.add(
            _("Le contrat d'engagement républicain"),
            _(REPUBLICAN_CLAUSE) % {"name": facts.beneficiary_name},
        )
    general = fill(facts.template.general_clauses, values).strip()
    if general:
        articles.add(_("Dispositions générales"), general)
    articles.add(_("Signatures"), _signatures(facts, small))
    return "\n\n".join(doc + articles.parts) + "\n"


@dataclass(frozen=True)
class AmendmentFacts:
    number: int
    convention_number: str
    convention_kind: str
    convention_signed_on: dt.date | None
    title: str
    town: str
    reason: str
    changes: str
    small: bool


def amendment_text(facts: AmendmentFacts) -> str:
    with i18n.use_locale("fr"):
        kind = _("l'engagement") if facts.small else _("la convention")
        head = _("**Avenant n° %(k)s à %(kind)s n° %(number)s — « %(title)s »**") % {
            "k": facts.number,
            "kind": kind,
            "number": facts.convention_number,
            "title": facts.title,
        }
        articles = _Articles()
        articles.add(_("Objet de l'avenant"), facts.reason)
        articles.add(_("Modifications"), facts.changes)
        articles.add(
            _("Autres clauses"),
            _(
                "Toutes les autres clauses de %(kind)s n° %(number)s, signée le %(date)s, restent inchangées et applicables."
            )
            % {"kind": kind, "number": facts.convention_number, "date": _date(facts.convention_signed_on)},
        )
        lines = [_("Fait à %(town)s.") % {"town": facts.town}, "", "- " + _("Pour les porteur·ses")]
        if not facts.small:
            lines.append("- " + _("Pour la commune de %(town)s : son maire ou son délégataire") % {"town": facts.town})
        articles.add(_("Signatures"), "\n".join(lines))
        return "\n\n".join([head, *articles.parts]) + "\n"
