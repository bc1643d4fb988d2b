"""The ``cailloux`` command: migrations, demo data, territories, the first admin, tokens, jobs, serving.

Every change goes through the services with the operator as actor, so it is audited like a change
made on the site.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.config import PROJECT_ROOT, Settings, get_settings
from app.core.actor import OPERATOR, Actor
from app.core.errors import AppError
from app.db.session import Database, get_database, read_only, unit_of_work
from app.territories.models import Territory, TerritoryHost

app = typer.Typer(help="Cailloux : initiatives fifty-fifty, pétitions et tableaux de bord.", no_args_is_help=True)
territory_app = typer.Typer(help="Territoires (communes) servis par cette installation.", no_args_is_help=True)
token_app = typer.Typer(help="Jetons d'accès à l'API.", no_args_is_help=True)
jobs_app = typer.Typer(help="Tâches de fond.", no_args_is_help=True)
app.add_typer(territory_app, name="territory")
app.add_typer(token_app, name="token")
app.add_typer(jobs_app, name="jobs")


def _database() -> Database:
    return get_database(get_settings().database_url)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"Erreur : {message}", err=True)
    return typer.Exit(code=1)


@contextmanager
def _operation() -> Iterator[Session]:
    """A committed unit of work; domain errors become a message and exit code 1."""
    try:
        with unit_of_work(_database()) as db:
            yield db
    except AppError as exc:
        raise _fail(exc.message) from None


def _territory(db: Session, slug: str) -> Territory:
    from app.territories.service import get_by_slug

    territory = get_by_slug(db, slug)
    if territory is None:
        raise _fail(f"aucun territoire « {slug} ».")
    return territory


def _base_url(db: Session, territory: Territory, settings: Settings) -> str:
    host = db.scalar(
        select(TerritoryHost.host).where(TerritoryHost.territory_id == territory.id).order_by(TerritoryHost.id)
    )
    return f"{settings.base_scheme}://{host or 'localhost'}"


@app.command()
def migrate() -> None:
    """Applies the database migrations (alembic upgrade head)."""
    from alembic import command
    from alembic.config import Config

    settings = get_settings()
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        from pathlib import Path

        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.attributes["database_url"] = settings.database_url
    command.upgrade(cfg, "head")
    typer.echo("Base de données à jour.")


@app.command()
def demo() -> None:
    """Loads the demo territories and accounts (idempotent; refused in production)."""
    from app.demo import DEMO_PASSWORD, DemoRefusedError, load_demo

    settings = get_settings()
    try:
        summary = load_demo(_database(), settings)
    except DemoRefusedError as exc:
        raise _fail(str(exc)) from None
    except AppError as exc:
        raise _fail(exc.message) from None
    if not summary.changed:
        typer.echo("Données de démonstration déjà chargées : rien à faire.")
        return
    typer.echo(
        f"Données de démonstration chargées : {len(summary.territories)} territoire(s), "
        f"{summary.neighbourhoods} quartier(s), {summary.sittings} séance(s), "
        f"{len(summary.accounts) + len(summary.promoters)} compte(s), {summary.initiatives} initiative(s)."
    )
    typer.echo(f"Mot de passe des comptes de démonstration : {DEMO_PASSWORD}")


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Mot de passe", hide_input=True, confirmation_prompt=True)
    return password


@app.command("create-admin")
def create_admin(
    territory: Annotated[str, typer.Option("--territory", help="Identifiant court du territoire.")],
    email: Annotated[str, typer.Option("--email")],
    name: Annotated[str, typer.Option("--name", help="Nom affiché.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Lit le mot de passe sur stdin.")] = False,
) -> None:
    """Creates a verified account with the admin role on a territory."""
    from app.accounts import roles
    from app.accounts.models import Account, AgeBracket
    from app.accounts.service import Registration, normalise_email, register
    from app.audit import service as audit

    password = _read_password(password_stdin)
    settings = get_settings()
    with _operation() as db:
        row = _territory(db, territory)
        _address, key = normalise_email(email)
        if db.scalar(select(Account.id).where(Account.territory_id == row.id, Account.email_key == key)):
            raise _fail("un compte existe déjà avec cette adresse sur ce territoire.")
        account = register(
            db,
            row.id,
            Registration(
                email=email,
                password=password,
                display_name=name.strip(),
                neighbourhood_id=None,
                age_bracket=AgeBracket.ADULT,
                guardian_contact=None,
                locale=settings.default_locale,
            ),
            _base_url(db, row, settings),
            verified_by_operator=True,
        )
        if account is None:
            raise _fail("un compte existe déjà avec cette adresse sur ce territoire.")
        audit.record(
            db, OPERATOR, "account.verify_email", "account", account.id, territory_id=row.id, reason="create-admin"
        )
        roles.grant_role(db, OPERATOR, row.id, account.id, "admin", reason="cailloux create-admin")
        slug = row.slug
    typer.echo(f"Compte administrateur créé pour {email} sur « {slug} ».")


@territory_app.command("create")
def territory_create(
    slug: Annotated[str, typer.Option("--slug")],
    name: Annotated[str, typer.Option("--name")],
    insee: Annotated[str, typer.Option("--insee", help="Code INSEE (5 caractères, 2A/2B pour la Corse).")],
    population: Annotated[int, typer.Option("--population")],
    electors: Annotated[int, typer.Option("--electors", help="Électeurs inscrits.")],
    siret: Annotated[str | None, typer.Option("--siret")] = None,
    timezone: Annotated[str, typer.Option("--timezone")] = "Europe/Paris",
) -> None:
    """Creates a territory (with the default Charte themes)."""
    from app.territories.service import create_territory

    with _operation() as db:
        row = create_territory(
            db,
            OPERATOR,
            slug=slug,
            name=name,
            insee_code=insee,
            siret=siret,
            population=population,
            registered_electors=electors,
            timezone=timezone,
        )
        created = row.slug
    typer.echo(f"Territoire « {created} » créé. Ajoutez-lui un nom d'hôte : cailloux territory add-host {created} HÔTE")


@territory_app.command("add-host")
def territory_add_host(slug: str, host: str) -> None:
    """Serves a territory at a host name (e.g. participation.ma-commune.fr)."""
    from app.territories.service import add_host

    with _operation() as db:
        row = add_host(db, OPERATOR, _territory(db, slug), host)
        added = row.host
    typer.echo(f"« {slug} » est servi à l'adresse {added}.")


@token_app.command("create")
def token_create(
    territory: Annotated[str, typer.Option("--territory")],
    email: Annotated[str, typer.Option("--email", help="Adresse du compte qui détiendra le jeton.")],
    name: Annotated[str, typer.Option("--name", help="Nom du jeton (à quoi il sert).")],
    scope: Annotated[list[str] | None, typer.Option("--scope", help="read ou write (répétable).")] = None,
    expires_in_days: Annotated[int | None, typer.Option("--expires-in-days")] = 90,
) -> None:
    """Creates an API token for an account and prints it once."""
    from app.accounts.models import Account
    from app.accounts.service import normalise_email
    from app.accounts.tokens import create_token

    with _operation() as db:
        row = _territory(db, territory)
        _address, key = normalise_email(email)
        account = db.scalar(select(Account).where(Account.territory_id == row.id, Account.email_key == key))
        if account is None:
            raise _fail("aucun compte avec cette adresse sur ce territoire.")
        actor = Actor(person_id=None, account_id=account.id, territory_id=row.id, label=OPERATOR.label)
        _token, raw = create_token(db, actor, name, scope or ["read"], expires_in_days)
    typer.echo("Jeton créé. Copiez-le maintenant : il ne sera plus affiché.")
    typer.echo(raw)


@app.command()
def worker() -> None:
    """Runs the background job worker until SIGTERM or Ctrl-C."""
    import logging

    from app.jobs.worker import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    run_worker(get_settings())


@jobs_app.command("run")
def jobs_run(
    kind: Annotated[str | None, typer.Argument(help="Une sorte de tâche, par exemple retention.")] = None,
) -> None:
    """Runs the due jobs now (schedules the current period's recurring jobs first)."""
    import logging

    from app.jobs import registry
    from app.jobs.worker import run_pending, schedule_recurring

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    database = _database()
    if kind is not None and kind not in registry.registered_kinds():
        raise _fail(f"sorte de tâche inconnue « {kind} » (connues : {', '.join(registry.registered_kinds())}).")
    scheduled = schedule_recurring(database, kinds=[kind] if kind else None)
    count = run_pending(database, limit=10_000, settings=get_settings(), kind=kind)
    if scheduled:
        typer.echo(f"Tâches récurrentes de la période : {', '.join(scheduled)}")
    typer.echo(f"{count} tâche(s) exécutée(s).")


def _print_welcome(host: str, port: int) -> None:
    from app.demo import DEMO_ACCOUNTS, DEMO_PASSWORD

    settings = get_settings()
    try:
        with read_only(_database()) as db:
            slugs = set(db.scalars(select(Territory.slug)))
    except SQLAlchemyError:
        typer.echo("La base de données n'est pas prête : lancez d'abord « cailloux migrate ».", err=True)
        slugs = set()
    typer.echo(f"Cailloux : http://{host}:{port}/")
    if "malaunay" in slugs:
        typer.echo(f"Malaunay : http://malaunay.localhost:{port}/")
    accounts = [a for a in DEMO_ACCOUNTS if a.territory in slugs]
    if accounts and not settings.is_production:
        typer.echo(f"Comptes de démonstration (mot de passe : {DEMO_PASSWORD}) :")
        for account in accounts:
            typer.echo(f"  {account.territory:<16} {account.label:<22} {account.email}")
        typer.echo(f"E-mails envoyés (développement) : http://{host}:{port}/dev/outbox")


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Processus uvicorn.")] = 1,
    with_worker: Annotated[bool, typer.Option("--with-worker/--no-worker", help="Lance aussi le worker.")] = True,
) -> None:
    """Serves the site with uvicorn, with the background worker alongside."""
    import uvicorn

    _print_welcome(host, port)
    worker_process = subprocess.Popen([sys.executable, "-m", "app.cli", "worker"]) if with_worker else None
    try:
        uvicorn.run("app.asgi:app", host=host, port=port, workers=workers if workers > 1 else None, proxy_headers=True)
    finally:
        if worker_process is not None:
            worker_process.terminate()
            try:
                worker_process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker_process.kill()
                worker_process.wait()


if __name__ == "__main__":
    app()
