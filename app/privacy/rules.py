"""The platform's own retention rules and processing activities (accounts, sessions, e-mails,
notifications, technical records). Later domains register theirs in their own modules."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.models import Account, EmailToken, Person, UserSession
from app.core.actor import SYSTEM
from app.core.errors import Conflict
from app.core.models import IdempotencyRecord, UsedFormNonce
from app.history.models import HistoricalImport
from app.jobs.models import Job
from app.jobs.registry import job_settings
from app.mail.models import OutboxEmail
from app.mail.service import queue_email
from app.moderation.models import ContentReport, ReportStatus
from app.notifications.models import Notification
from app.notifications.service import territory_base_url
from app.petitions.models import Petition, PetitionAnswer, PetitionKind, PetitionSignature
from app.privacy.erasure import deletion_blockers, erase_person
from app.privacy.registry import (
    CONSENT,
    LEGAL_OBLIGATION,
    PUBLIC_INTEREST,
    ProcessingActivity,
    RetentionRule,
    register_activity,
    register_rule,
)
from app.territories.models import Territory
from app.territories.settings_schema import TerritorySettings
from app.web.i18n import N_, date, use_locale

UNVERIFIED_ACCOUNT = dt.timedelta(days=7)
ENDED_SESSION = dt.timedelta(days=30)
USED_EMAIL_TOKEN = dt.timedelta(days=7)
SENT_EMAIL = dt.timedelta(days=90)
DELIVERED_NOTIFICATION = dt.timedelta(days=365)
USED_FORM_NONCE = dt.timedelta(days=7)
IDEMPOTENCY_RECORD = dt.timedelta(hours=24)
FINISHED_JOB = dt.timedelta(days=30)
AUDIT_ENTRY = dt.timedelta(days=6 * 365)
INACTIVITY = dt.timedelta(days=730)
INACTIVITY_GRACE = dt.timedelta(days=30)
# A CSV file of past initiatives checked but never confirmed (it may hold names).
STAGED_IMPORT = dt.timedelta(days=1)
# Reports of public content once an agent decided: the decision stays in the audit log.
HANDLED_REPORT = dt.timedelta(days=365)


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def erase_unverified_accounts(db: Session, now: dt.datetime) -> int:
    """Registrations never confirmed within 7 days: the person and the account are deleted."""
    rows = db.execute(
        select(Account, Person)
        .join(Person, Person.id == Account.person_id)
        .where(
            Account.email_verified_at.is_(None),
            Account.disabled_at.is_(None),
            Account.created_at < now - UNVERIFIED_ACCOUNT,
        )
    )
    erased = 0
    for account, person in list(rows):
        if deletion_blockers(db, person):
            continue
        db.execute(delete(OutboxEmail).where(OutboxEmail.person_id == person.id))
        try:
            with db.begin_nested():
                db.execute(delete(Account).where(Account.id == account.id))
                db.execute(delete(Person).where(Person.id == person.id))
            db.expunge(account)
            db.expunge(person)
        except IntegrityError:
            # Something that must stay points at the person: anonymise instead.
            erase_person(db, db.get_one(Person, person.id), trigger="unverified", actor=SYSTEM)
        erased += 1
    return erased


def erase_ended_sessions(db: Session, now: dt.datetime) -> int:
    cutoff = now - ENDED_SESSION
    return _count(
        db.execute(
            delete(UserSession).where(
                or_(UserSession.expires_at < cutoff, UserSession.revoked_at < cutoff, UserSession.last_seen_at < cutoff)
            )
        )
    )


def erase_used_email_tokens(db: Session, now: dt.datetime) -> int:
    cutoff = now - USED_EMAIL_TOKEN
    return _count(
        db.execute(delete(EmailToken).where(or_(EmailToken.used_at < cutoff, EmailToken.expires_at < cutoff)))
    )


def erase_sent_emails(db: Session, now: dt.datetime) -> int:
    return _count(db.execute(delete(OutboxEmail).where(OutboxEmail.sent_at < now - SENT_EMAIL)))


def erase_old_notifications(db: Session, now: dt.datetime) -> int:
    cutoff = now - DELIVERED_NOTIFICATION
    return _count(
        db.execute(
            delete(Notification).where(
                or_(
                    Notification.delivered_at < cutoff,
                    and_(Notification.delivered_at.is_(None), Notification.created_at < cutoff),
                )
            )
        )
    )


def erase_staged_imports(db: Session, now: dt.datetime) -> int:
    return _count(
        db.execute(
            delete(HistoricalImport).where(
                HistoricalImport.imported_at.is_(None), HistoricalImport.created_at < now - STAGED_IMPORT
            )
        )
    )


def erase_handled_reports(db: Session, now: dt.datetime) -> int:
    return _count(
        db.execute(
            delete(ContentReport).where(
                ContentReport.status == ReportStatus.HANDLED, ContentReport.handled_at < now - HANDLED_REPORT
            )
        )
    )


def _months_later(moment: dt.datetime, months: int) -> dt.datetime:
    # Calendar months: the 31st becomes the month's last day.
    year, month = divmod(moment.month - 1 + months, 12)
    year, month = moment.year + year, month + 1
    next_month = dt.date(year + month // 12, month % 12 + 1, 1)
    day = min(moment.day, (next_month - dt.timedelta(days=1)).day)
    return moment.replace(year=year, month=month, day=day)


def erase_civic_signers(db: Session, now: dt.datetime) -> int:
    """Civic petitions' signers: names, e-mails, postcodes and links to accounts erased a set time
    (a territory setting, default 12 months) after the answer or the closing, whichever is later.
    A petition whose answer is still owed keeps them. The rows stay, stamps and relation included,
    so that counts and thresholds never change."""
    erased = 0
    territories = db.execute(select(Territory.id, Territory.settings_json)).all()
    for territory_id, settings_json in territories:
        months = TerritorySettings.model_validate(settings_json or {}).petitions.signer_data_months
        rows = db.execute(
            select(Petition.id, Petition.closed_at, Petition.answer_threshold_reached_at, PetitionAnswer.published_at)
            .outerjoin(PetitionAnswer, PetitionAnswer.petition_id == Petition.id)
            .where(
                Petition.territory_id == territory_id,
                Petition.kind == PetitionKind.CIVIC,
                Petition.closed_at.is_not(None),
            )
        ).all()
        for petition_id, closed_at, threshold_reached_at, answered_at in rows:
            assert closed_at is not None  # filtered above
            if threshold_reached_at is not None and answered_at is None:
                continue  # the town still owes its answer
            ended = closed_at if answered_at is None or answered_at < closed_at else answered_at
            if _months_later(ended, months) > now:
                continue
            erased += _count(
                db.execute(
                    update(PetitionSignature)
                    .where(PetitionSignature.petition_id == petition_id, PetitionSignature.erased_at.is_(None))
                    .values(
                        person_id=None,
                        display_name="",
                        name_key=None,
                        email=None,
                        email_key=None,
                        email_slot=None,
                        postcode="",
                        confirm_token_hash=None,
                        source_hash="",
                        show_name=False,
                        notify=False,
                        invite_if_project=False,
                        erased_at=now,
                    )
                )
            )
    return erased


def erase_used_form_nonces(db: Session, now: dt.datetime) -> int:
    return _count(db.execute(delete(UsedFormNonce).where(UsedFormNonce.created_at < now - USED_FORM_NONCE)))


def erase_idempotency_records(db: Session, now: dt.datetime) -> int:
    return _count(db.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - IDEMPOTENCY_RECORD)))


def erase_finished_jobs(db: Session, now: dt.datetime) -> int:
    cutoff = now - FINISHED_JOB
    return _count(db.execute(delete(Job).where(or_(Job.done_at < cutoff, Job.failed_at < cutoff))))


def _last_activity(account: Account) -> dt.datetime:
    return account.last_active_at or account.last_login_at or account.created_at


def notify_inactive_accounts(db: Session, now: dt.datetime) -> int:
    """Warns by e-mail the holders of accounts unused for 24 months that they will be anonymised."""
    settings = job_settings()
    cutoff = now - INACTIVITY
    candidates = db.execute(
        select(Account, Person)
        .join(Person, Person.id == Account.person_id)
        .where(
            Account.inactivity_notice_at.is_(None),
            Account.disabled_at.is_(None),
            Account.email_verified_at.is_not(None),
            Account.created_at < cutoff,
        )
    )
    warned = 0
    for account, person in list(candidates):
        if _last_activity(account) >= cutoff:
            continue
        base_url = territory_base_url(db, account.territory_id, settings)
        prefix = "/en" if account.locale == "en" else ""
        with use_locale(account.locale):
            deadline = date(now + INACTIVITY_GRACE)
        queue_email(
            db,
            territory_id=account.territory_id,
            person_id=person.id,
            to=account.email,
            template="inactivity_notice",
            context={
                "display_name": person.display_name,
                "deadline": deadline,
                "login_url": f"{base_url}{prefix}/connexion",
                "delete_url": f"{base_url}{prefix}/mon-espace/supprimer",
            },
            locale=account.locale,
        )
        account.inactivity_notice_at = now
        warned += 1
    db.flush()
    return warned


def anonymise_inactive_accounts(db: Session, now: dt.datetime) -> int:
    """Accounts still unused 30 days after the notice: the person is anonymised, the account closed."""
    candidates = db.execute(
        select(Account, Person)
        .join(Person, Person.id == Account.person_id)
        .where(
            Account.inactivity_notice_at.is_not(None),
            Account.inactivity_notice_at <= now - INACTIVITY_GRACE,
            Account.disabled_at.is_(None),
        )
    )
    anonymised = 0
    for account, person in list(candidates):
        notice = account.inactivity_notice_at
        if notice is None or _last_activity(account) > notice:
            continue
        try:
            erase_person(db, person, trigger="inactivity", actor=SYSTEM)
        except Conflict:
            continue  # something must be handed over first; tried again on the next run
        anonymised += 1
    return anonymised


ACCOUNTS_UNVERIFIED = register_rule(
    RetentionRule(
        kind="unverified_accounts",
        label=N_("Inscriptions dont l'adresse e-mail n'a pas été confirmée"),
        legal_basis=PUBLIC_INTEREST,
        action="erase",
        period=UNVERIFIED_ACCOUNT,
        apply=erase_unverified_accounts,
        starts=N_("après l'inscription"),
    )
)
SESSIONS = register_rule(
    RetentionRule(
        kind="sessions",
        label=N_("Sessions de connexion terminées (expirées ou fermées)"),
        legal_basis=LEGAL_OBLIGATION,
        action="erase",
        period=ENDED_SESSION,
        apply=erase_ended_sessions,
        starts=N_("après la fin de la session"),
    )
)
EMAIL_TOKENS = register_rule(
    RetentionRule(
        kind="email_tokens",
        label=N_("Liens de confirmation et de réinitialisation envoyés par e-mail"),
        legal_basis=PUBLIC_INTEREST,
        action="erase",
        period=USED_EMAIL_TOKEN,
        apply=erase_used_email_tokens,
        starts=N_("après leur utilisation ou leur expiration"),
    )
)
OUTBOX = register_rule(
    RetentionRule(
        kind="outbox_emails",
        label=N_("E-mails envoyés (copie technique)"),
        legal_basis=PUBLIC_INTEREST,
        action="erase",
        period=SENT_EMAIL,
        apply=erase_sent_emails,
        starts=N_("après l'envoi"),
    )
)
NOTIFICATIONS = register_rule(
    RetentionRule(
        kind="notifications",
        label=N_("Notifications"),
        legal_basis=PUBLIC_INTEREST,
        action="erase",
        period=DELIVERED_NOTIFICATION,
        apply=erase_old_notifications,
        starts=N_("après leur envoi"),
    )
)
FORM_NONCES = register_rule(
    RetentionRule(
        kind="form_nonces",
        label=N_("Jetons anti-double envoi des formulaires"),
        legal_basis=LEGAL_OBLIGATION,
        action="erase",
        period=USED_FORM_NONCE,
        apply=erase_used_form_nonces,
        starts=N_("après leur utilisation"),
    )
)
IDEMPOTENCY = register_rule(
    RetentionRule(
        kind="idempotency_records",
        label=N_("Réponses gardées contre les requêtes en double de l'API"),
        legal_basis=LEGAL_OBLIGATION,
        action="erase",
        period=IDEMPOTENCY_RECORD,
        apply=erase_idempotency_records,
        starts=N_("après la requête"),
    )
)
JOBS = register_rule(
    RetentionRule(
        kind="jobs",
        label=N_("Tâches techniques en arrière-plan terminées"),
        legal_basis=LEGAL_OBLIGATION,
        action="erase",
        period=FINISHED_JOB,
        apply=erase_finished_jobs,
        starts=N_("après leur exécution"),
    )
)
AUDIT = register_rule(
    RetentionRule(
        kind="audit_entries",
        label=N_("Journal des actions (qui a fait quoi, quand)"),
        legal_basis=LEGAL_OBLIGATION,
        action="keep_restricted",
        period=AUDIT_ENTRY,
        apply=None,
        starts=N_("après l'action ; consultable seulement par les personnes habilitées"),
    )
)
INACTIVE_NOTICE = register_rule(
    RetentionRule(
        kind="inactive_accounts_notice",
        label=N_("Comptes inutilisés : avertissement par e-mail"),
        legal_basis=PUBLIC_INTEREST,
        action="anonymise",
        period=INACTIVITY,
        apply=notify_inactive_accounts,
        starts=N_("sans connexion ; la personne est prévenue 30 jours avant l'anonymisation"),
    )
)
INACTIVE_ANONYMISE = register_rule(
    RetentionRule(
        kind="inactive_accounts",
        label=N_("Comptes inutilisés après avertissement"),
        legal_basis=PUBLIC_INTEREST,
        action="anonymise",
        period=INACTIVITY_GRACE,
        apply=anonymise_inactive_accounts,
        starts=N_("après l'avertissement, sans connexion entre-temps"),
    )
)

SIGNED_CONVENTIONS = register_rule(
    RetentionRule(
        kind="signed_conventions",
        label=N_(
            "Conventions, avenants et signatures (noms des signataires, empreinte du texte signé, scans des "
            "signatures sur papier) : ils restent même si un compte est supprimé"
        ),
        legal_basis=LEGAL_OBLIGATION,
        action="keep_restricted",
        # Municipal archives keep co-funding agreements ten years after they end; then they are
        # sorted with the archivist, never erased automatically.
        period=N_("10 ans"),
        starts=N_("après la fin de la convention, entretien compris ; puis tri avec le service d'archives"),
    )
)
STAGED_IMPORTS = register_rule(
    RetentionRule(
        kind="staged_imports",
        label=N_("Fichiers d'initiatives passées vérifiés mais jamais confirmés"),
        legal_basis=PUBLIC_INTEREST,
        action="erase",
        period=STAGED_IMPORT,
        apply=erase_staged_imports,
        starts=N_("après leur envoi ; un fichier confirmé n'est pas gardé"),
    )
)
HANDLED_REPORTS = register_rule(
    RetentionRule(
        kind="handled_reports",
        label=N_("Signalements de contenus traités (motif, commentaire, auteur·e du signalement)"),
        legal_basis=PUBLIC_INTEREST,
        action="erase",
        period=HANDLED_REPORT,
        apply=erase_handled_reports,
        starts=N_("après la décision de l'agent·e ; la décision reste au journal des actions"),
    )
)

CIVIC_SIGNERS = register_rule(
    RetentionRule(
        kind="civic_signers",
        label=N_("Signataires des pétitions citoyennes (nom, e-mail, code postal) ; les nombres restent"),
        legal_basis=PUBLIC_INTEREST,
        action="erase",
        period=N_("12 mois (réglage de la commune)"),
        apply=erase_civic_signers,
        starts=N_("après la réponse ou la clôture, la plus tardive des deux"),
    )
)
LEGAL_REQUEST_SIGNERS = register_rule(
    RetentionRule(
        kind="legal_request_signers",
        label=N_(
            "Signataires des demandes de consultation (article L1112-16 du CGCT) : identité, adresse, date de "
            "naissance, résultat de la vérification sur la liste électorale"
        ),
        legal_basis=LEGAL_OBLIGATION,
        action="keep_restricted",
        # Consultable at the town hall as the law allows; sorted with the archivist, never erased here.
        period=N_("durée d'utilité administrative des archives"),
        starts=N_("après la décision du conseil ; consultation sur demande en mairie par extrait"),
    )
)

register_activity(
    ProcessingActivity(
        key="accounts",
        name=N_("Comptes des habitant·es et du personnel"),
        purpose=N_("Créer et gérer les comptes, permettre la connexion et protéger l'accès aux comptes."),
        legal_basis=PUBLIC_INTEREST,
        data_categories=N_(
            "Nom affiché, adresse e-mail, quartier, tranche d'âge, contact d'un parent pour les moins de 15 ans, "
            "mot de passe (jamais stocké en clair), sessions de connexion."
        ),
        data_subjects=N_("Habitant·es inscrit·es, agent·es, élu·es."),
        recipients=N_("Agent·es habilité·es de la commune ; l'hébergeur, sous-traitant de la commune."),
        retention_kinds=(
            "unverified_accounts",
            "sessions",
            "email_tokens",
            "inactive_accounts_notice",
            "inactive_accounts",
        ),
    )
)
register_activity(
    ProcessingActivity(
        key="contacts",
        name=N_("Habitant·es sans compte"),
        purpose=N_(
            "Permettre de participer sans adresse e-mail ni internet : un·e agent·e enregistre la participation "
            "et tient la personne au courant par téléphone ou par courrier."
        ),
        legal_basis=PUBLIC_INTEREST,
        data_categories=N_("Nom, téléphone, adresse postale, moyen de contact préféré."),
        data_subjects=N_("Habitant·es sans compte qui ont demandé à être tenu·es au courant."),
        recipients=N_("Agent·es habilité·es de la commune."),
    )
)
register_activity(
    ProcessingActivity(
        key="initiatives_petitions",
        name=N_("Initiatives fifty-fifty et pétitions"),
        purpose=N_(
            "Recevoir, étudier, co-financer et suivre les initiatives des habitant·es ; recueillir les signatures "
            "des pétitions et y répondre."
        ),
        legal_basis=PUBLIC_INTEREST,
        data_categories=N_(
            "Nom affiché, contenu des propositions, contributions (heures, matériaux), signatures, quartier."
        ),
        data_subjects=N_("Porteur·ses de projet, bénévoles, signataires."),
        recipients=N_(
            "Agent·es et élu·es de la commune ; le public pour les contenus publiés "
            "(jamais le nom d'une personne mineure)."
        ),
        retention_kinds=(
            "notifications",
            "outbox_emails",
            "signed_conventions",
            "staged_imports",
            "handled_reports",
            "civic_signers",
        ),
    )
)
register_activity(
    ProcessingActivity(
        key="legal_requests",
        name=N_("Demandes de consultation locale (article L1112-16 du CGCT)"),
        purpose=N_(
            "Recueillir et vérifier les signatures des électeur·ices qui demandent au conseil municipal "
            "d'organiser une consultation."
        ),
        legal_basis=LEGAL_OBLIGATION,
        data_categories=N_("Nom, prénoms, adresse, inscription sur la liste électorale de la commune."),
        data_subjects=N_("Électeur·ices signataires."),
        recipients=N_("Service des élections de la commune ; conseil municipal (nombre de signatures)."),
        retention_kinds=("legal_request_signers",),
    )
)
register_activity(
    ProcessingActivity(
        key="security",
        name=N_("Sécurité et traçabilité"),
        purpose=N_(
            "Garder la trace de chaque action (qui a fait quoi, quand) pour prouver les décisions de la commune "
            "et détecter les abus."
        ),
        legal_basis=LEGAL_OBLIGATION,
        data_categories=N_("Identifiant de la personne, action, date, motif."),
        data_subjects=N_("Toute personne qui agit sur le service."),
        recipients=N_("Personnes habilitées de la commune ; autorités sur réquisition."),
        retention_kinds=("audit_entries", "form_nonces", "idempotency_records", "jobs"),
    )
)
register_activity(
    ProcessingActivity(
        key="extras",
        name=N_("Options facultatives"),
        purpose=N_(
            "Ce que vous choisissez en plus, par exemple recevoir des résumés par e-mail des projets que vous suivez ; "
            "vous pouvez retirer votre accord à tout moment."
        ),
        legal_basis=CONSENT,
        data_categories=N_("Adresse e-mail, préférences de notification."),
        data_subjects=N_("Habitant·es inscrit·es qui ont choisi ces options."),
        recipients=N_("Le prestataire d'envoi d'e-mails, sous-traitant de la commune."),
    )
)
