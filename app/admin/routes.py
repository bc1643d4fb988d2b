"""Administration pages: territory settings, neighbourhoods, themes, sittings, people and roles.

Admins see everything; executives see the people pages, where they confirm executive grants.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from app.accounts import roles
from app.accounts.models import Role
from app.accounts.viewer import Viewer
from app.admin import forms
from app.admin import service as admin
from app.core.errors import AppError, Conflict, Forbidden, Invalid
from app.territories.service import local_today
from app.web.auth import CurrentViewer, RequireAdmin, RequireExecutive
from app.web.deps import CurrentTerritory, ReadSession, WriteSession
from app.web.forms import claim_form_nonce, remember_result, validate_form
from app.web.forms_dep import FormDep
from app.web.i18n import N_, _
from app.web.responses import redirect
from app.web.templating import is_htmx, render, url

router = APIRouter()


def require_admin_or_executive(viewer: CurrentViewer) -> Viewer:
    if not viewer.has_any_role(Role.ADMIN, Role.EXECUTIVE):
        raise Forbidden(_("Cette page est réservée aux administrateur·rices et à l'exécutif."))
    return viewer


AdminOrExecutive = Annotated[Viewer, Depends(require_admin_or_executive)]


def field_error(exc: AppError) -> dict[str, str]:
    return {exc.field or "__all__": exc.message}


@router.get("/admin", name="admin:index")
def index(request: Request, viewer: AdminOrExecutive) -> HTMLResponse:
    return render(request, "pages/admin/index.html")


# ---------------------------------------------------------------- territory settings (three forms)

SETTINGS_PAGES: dict[str, dict[str, Any]] = {
    "admin:territory": {
        "title": N_("La commune"),
        "form": forms.GeneralForm,
        "sections": [(None, forms.GENERAL_FIELDS)],
        "save": admin.update_general,
    },
    "admin:rules": {
        "title": N_("Règles du fifty-fifty et des pétitions"),
        "form": forms.RulesForm,
        "sections": [
            (N_("Fifty-fifty"), forms.FIFTY_FIFTY_FIELDS),
            (N_("Pétitions"), forms.PETITION_FIELDS),
            (N_("Présentation et sécurité"), forms.OTHER_RULE_FIELDS),
        ],
        "save": admin.update_rules,
    },
    "admin:legal": {
        "title": N_("Mentions légales et accessibilité"),
        "form": forms.LegalForm,
        "sections": [
            (N_("Mentions légales"), forms.LEGAL_FIELDS),
            (N_("Déclaration d'accessibilité"), forms.ACCESSIBILITY_FIELDS),
        ],
        "save": admin.update_legal,
    },
}


def _settings_values(name: str, territory: CurrentTerritory) -> dict[str, Any]:
    if name == "admin:rules":
        return forms.RulesForm.values_from(territory.settings)
    if name == "admin:legal":
        return forms.LegalForm.values_from(territory.legal, territory.accessibility)
    fields = ("name", "population", "registered_electors", "siret", "timezone")
    return {f: getattr(territory, f) or "" for f in fields}


def _settings_page(
    request: Request, name: str, values: dict[str, Any], errors: dict[str, str], status_code: int = 200
) -> HTMLResponse:
    page = SETTINGS_PAGES[name]
    context = {"page": page, "route": name, "values": values, "errors": errors, "months": forms.MONTHS}
    return render(request, "pages/admin/settings.html", context, status_code=status_code)


def _show_settings(name: str) -> Any:
    def show(request: Request, territory: CurrentTerritory, viewer: RequireAdmin) -> HTMLResponse:
        return _settings_page(request, name, _settings_values(name, territory), {})

    return show


def _save_settings(name: str) -> Any:
    def save(
        request: Request, territory: CurrentTerritory, viewer: RequireAdmin, db: WriteSession, form: FormDep
    ) -> Response:
        page = SETTINGS_PAGES[name]
        result: Any = validate_form(page["form"], form)
        if result.data is None:
            return _settings_page(request, name, result.values, result.errors, 422)
        claim_form_nonce(request, db, form, territory.id)
        try:
            page["save"](db, viewer, territory.id, result.data)
        except Invalid as exc:
            return _settings_page(request, name, result.values, field_error(exc), 422)
        request.app.state.territory_resolver.invalidate()
        return redirect(request, url(request, name), flash=_("Les modifications sont enregistrées."))

    return save


for _name, _path in (
    ("admin:territory", "/admin/territoire"),
    ("admin:rules", "/admin/territoire/regles"),
    ("admin:legal", "/admin/territoire/mentions"),
):
    router.add_api_route(_path, _show_settings(_name), methods=["GET"], name=_name, response_class=HTMLResponse)
    router.add_api_route(_path, _save_settings(_name), methods=["POST"], name=_name + "_save")


# ---------------------------------------------------------------- neighbourhoods, themes and sittings
# One pattern for the three lists: a table with an add form (HTMX re-renders the block),
# an edit page and a delete confirmation page, all working without JavaScript.


class Catalogue:
    def __init__(
        self,
        key: str,
        path: str,
        form: type[BaseModel],
        fields: tuple[forms.FieldSpec, ...],
        get: Any,
        create: Any,
        update: Any,
        delete: Any,
        added: str,
        saved: str,
        deleted: str,
    ) -> None:
        self.key, self.path, self.form, self.fields = key, path, form, fields
        self.get, self.create, self.update, self.delete = get, create, update, delete
        self.added, self.saved, self.deleted = added, saved, deleted

    def list_context(self, db: ReadSession | WriteSession, territory: CurrentTerritory) -> dict[str, Any]:
        from app.territories import service as territories

        if self.key == "neighbourhoods":
            return {"items": territories.list_neighbourhoods(db, territory.id)}
        if self.key == "themes":
            return {"items": territories.list_themes(db, territory.id)}
        sittings = admin.list_sittings(db, territory.id, local_today(territory))
        return {"items": sittings.upcoming, "past": sittings.past}

    def render_list(
        self,
        request: Request,
        db: ReadSession | WriteSession,
        territory: CurrentTerritory,
        *,
        values: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        message: str = "",
        status_code: int = 200,
    ) -> HTMLResponse:
        context = {
            **self.list_context(db, territory),
            "cat": self,
            "values": values or {},
            "errors": errors or {},
            "message": message,
        }
        return render(request, f"pages/admin/{self.key}.html", context, status_code=status_code, block="table")


CATALOGUES = {
    "neighbourhoods": Catalogue(
        "neighbourhoods", "/admin/quartiers", forms.NeighbourhoodForm, forms.NEIGHBOURHOOD_FIELDS,
        admin.get_neighbourhood, admin.create_neighbourhood, admin.update_neighbourhood, admin.delete_neighbourhood,
        N_("Le quartier est ajouté."), N_("Le quartier est modifié."), N_("Le quartier est supprimé."),
    ),
    "themes": Catalogue(
        "themes", "/admin/thematiques", forms.ThemeForm, forms.THEME_FIELDS,
        admin.get_theme, admin.create_theme, admin.update_theme, admin.delete_theme,
        N_("La thématique est ajoutée."), N_("La thématique est modifiée."),
        N_("La thématique est supprimée."),
    ),
    "sittings": Catalogue(
        "sittings", "/admin/seances", forms.SittingForm, forms.SITTING_FIELDS,
        admin.get_sitting, admin.create_sitting, admin.update_sitting, admin.delete_sitting,
        N_("La séance est ajoutée."), N_("La séance est modifiée."), N_("La séance est supprimée."),
    ),
}  # fmt: skip


def _values_of(obj: Any, fields: tuple[forms.FieldSpec, ...]) -> dict[str, Any]:
    values = {}
    for spec in fields:
        value = getattr(obj, spec.name)
        values[spec.name] = value.isoformat() if hasattr(value, "isoformat") else value
    return values


def _list(cat: Catalogue) -> Any:
    def show(request: Request, territory: CurrentTerritory, viewer: RequireAdmin, db: ReadSession) -> HTMLResponse:
        return cat.render_list(request, db, territory)

    return show


def _create(cat: Catalogue) -> Any:
    def create(
        request: Request, territory: CurrentTerritory, viewer: RequireAdmin, db: WriteSession, form: FormDep
    ) -> Response:
        result: Any = validate_form(cat.form, form)
        if result.data is None:
            return cat.render_list(request, db, territory, values=result.values, errors=result.errors, status_code=422)
        claim_form_nonce(request, db, form, territory.id)
        try:
            cat.create(db, viewer, territory.id, result.data)
        except Invalid as exc:
            return cat.render_list(
                request, db, territory, values=result.values, errors=field_error(exc), status_code=422
            )
        list_url = url(request, f"admin:{cat.key}")
        if not is_htmx(request):
            return redirect(request, list_url, flash=_(cat.added))
        remember_result(request, list_url)
        return cat.render_list(request, db, territory, message=_(cat.added))

    return create


def _edit_page(
    request: Request, cat: Catalogue, obj: Any, values: dict[str, Any], errors: dict[str, str], status_code: int = 200
) -> HTMLResponse:
    context = {"cat": cat, "obj": obj, "values": values, "errors": errors}
    return render(request, "pages/admin/edit.html", context, status_code=status_code)


def _edit(cat: Catalogue) -> Any:
    def edit(
        request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAdmin, db: ReadSession
    ) -> HTMLResponse:
        obj = cat.get(db, territory.id, public_id)
        return _edit_page(request, cat, obj, _values_of(obj, cat.fields), {})

    return edit


def _update(cat: Catalogue) -> Any:
    def update(
        request: Request,
        public_id: str,
        territory: CurrentTerritory,
        viewer: RequireAdmin,
        db: WriteSession,
        form: FormDep,
    ) -> Response:
        obj = cat.get(db, territory.id, public_id)
        result: Any = validate_form(cat.form, form)
        if result.data is None:
            return _edit_page(request, cat, obj, result.values, result.errors, 422)
        claim_form_nonce(request, db, form, territory.id)
        try:
            cat.update(db, viewer, territory.id, public_id, result.data)
        except Invalid as exc:
            return _edit_page(request, cat, obj, result.values, field_error(exc), 422)
        return redirect(request, url(request, f"admin:{cat.key}"), flash=_(cat.saved))

    return update


def _confirm_delete(cat: Catalogue) -> Any:
    def confirm(
        request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAdmin, db: ReadSession
    ) -> HTMLResponse:
        obj = cat.get(db, territory.id, public_id)
        people = admin.neighbourhood_people_count(db, obj.id) if cat.key == "neighbourhoods" else 0
        return render(request, "pages/admin/delete.html", {"cat": cat, "obj": obj, "people": people})

    return confirm


def _delete(cat: Catalogue) -> Any:
    def delete(
        request: Request,
        public_id: str,
        territory: CurrentTerritory,
        viewer: RequireAdmin,
        db: WriteSession,
        form: FormDep,
    ) -> Response:
        claim_form_nonce(request, db, form, territory.id)
        cat.delete(db, viewer, territory.id, public_id)
        return redirect(request, url(request, f"admin:{cat.key}"), flash=_(cat.deleted))

    return delete


for _cat in CATALOGUES.values():
    _k, _p = _cat.key, _cat.path
    router.add_api_route(_p, _list(_cat), methods=["GET"], name=f"admin:{_k}", response_class=HTMLResponse)
    router.add_api_route(_p, _create(_cat), methods=["POST"], name=f"admin:{_k}_create")
    router.add_api_route(_p + "/{public_id}", _edit(_cat), methods=["GET"], name=f"admin:{_k}_edit")
    router.add_api_route(_p + "/{public_id}", _update(_cat), methods=["POST"], name=f"admin:{_k}_update")
    router.add_api_route(
        _p + "/{public_id}/supprimer", _confirm_delete(_cat), methods=["GET"], name=f"admin:{_k}_delete"
    )
    router.add_api_route(_p + "/{public_id}/supprimer", _delete(_cat), methods=["POST"], name=f"admin:{_k}_destroy")


# ---------------------------------------------------------------- people and roles


@router.get("/admin/personnes", name="admin:people")
def people(
    request: Request, territory: CurrentTerritory, viewer: AdminOrExecutive, db: ReadSession, q: str = ""
) -> HTMLResponse:
    rows = admin.search_people(db, viewer, territory.id, q)
    pending = roles.pending_executive_grants(db, territory.id)
    return render(request, "pages/admin/people.html", {"rows": rows, "q": q, "pending": pending, **_role_helpers()})


def _role_helpers() -> dict[str, Any]:
    return {
        "role_label": roles.role_label,
        "role_descriptions": roles.ROLE_DESCRIPTIONS,
        "role_choices": [(r.value, roles.role_label(r)) for r in Role],
        "can_confirm": roles.can_confirm,
        "can_revoke": roles.can_revoke,
        "is_active": roles.is_active,
        "is_pending": roles.is_pending,
    }


def _person_page(
    request: Request,
    db: ReadSession | WriteSession,
    viewer: Viewer,
    territory: CurrentTerritory,
    public_id: str,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    detail = admin.person_detail(db, viewer, territory.id, public_id)
    context = {
        "detail": detail,
        "values": values or {},
        "errors": errors or {},
        "can_grant": roles.can_grant_to(viewer, territory.id, detail.account.id),
        **_role_helpers(),
    }
    return render(request, "pages/admin/person.html", context, status_code=status_code)


@router.get("/admin/personnes/{public_id}", name="admin:person")
def person(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: AdminOrExecutive, db: ReadSession
) -> HTMLResponse:
    return _person_page(request, db, viewer, territory, public_id)


@router.post("/admin/personnes/{public_id}/roles", name="admin:grant_role")
def grant(
    request: Request,
    public_id: str,
    territory: CurrentTerritory,
    viewer: RequireAdmin,
    db: WriteSession,
    form: FormDep,
) -> Response:
    result = validate_form(forms.GrantForm, form)
    if result.data is None:
        return _person_page(request, db, viewer, territory, public_id, result.values, result.errors, 422)
    data = result.data
    claim_form_nonce(request, db, form, territory.id)
    try:
        done = roles.grant_role(
            db,
            viewer,
            territory.id,
            public_id,
            data.role,
            data.delegation_reference,
            data.delegation_scope,
            data.reason,
        )
    except (Invalid, Conflict) as exc:
        return _person_page(request, db, viewer, territory, public_id, result.values, field_error(exc), exc.status_code)
    message = (
        _("Le rôle est attribué.")
        if roles.is_active(done)
        else _("Le rôle attend la confirmation d'un·e autre membre de l'exécutif.")
    )
    return redirect(request, url(request, "admin:person", public_id=public_id), flash=message)


def _grant_target(db: WriteSession, territory_id: int, grant_public_id: str) -> tuple[Any, str]:
    grant = roles.get_grant(db, territory_id, grant_public_id)
    return grant, admin.person_public_id_for_account(db, territory_id, grant.account_id)


@router.post("/admin/roles/{grant_id}/confirmer", name="admin:confirm_role")
def confirm(
    request: Request,
    grant_id: str,
    territory: CurrentTerritory,
    viewer: RequireExecutive,
    db: WriteSession,
    form: FormDep,
) -> Response:
    grant, person_id = _grant_target(db, territory.id, grant_id)
    claim_form_nonce(request, db, form, territory.id)
    roles.confirm_role(db, viewer, grant)
    return redirect(
        request, url(request, "admin:person", public_id=person_id), flash=_("Le rôle exécutif est confirmé.")
    )


@router.post("/admin/roles/{grant_id}/retirer", name="admin:revoke_role")
def revoke(
    request: Request,
    grant_id: str,
    territory: CurrentTerritory,
    viewer: RequireAdmin,
    db: WriteSession,
    form: FormDep,
) -> Response:
    grant, person_id = _grant_target(db, territory.id, grant_id)
    result = validate_form(forms.ReasonForm, form)
    if result.data is None:
        return _person_page(
            request, db, viewer, territory, person_id, {}, {"revoke_reason": result.errors.get("reason", "")}, 422
        )
    claim_form_nonce(request, db, form, territory.id)
    roles.revoke_role(db, viewer, grant, result.data.reason)
    return redirect(request, url(request, "admin:person", public_id=person_id), flash=_("Le rôle est retiré."))
