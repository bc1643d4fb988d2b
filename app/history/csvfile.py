"""Reading the historical CSV file: encoding, separator, columns and the cells of each line.

No database here: the service matches the cells against the territory. A cell that starts with
``=``, ``+``, ``-`` or ``@`` is plain text (nothing is ever evaluated); ``spreadsheet_cell``
escapes such text whenever Cailloux writes a CSV file itself.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

from app.core.errors import Invalid
from app.web.forms import clean_text
from app.web.i18n import N_, _

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5_000
# Spreadsheets run a cell starting with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
SEPARATORS = (";", ",")


@dataclass(frozen=True)
class ColumnSpec:
    """A column of the file: its key, the header written in the template, what it holds."""

    key: str
    header: str
    help: str
    example: str
    required: bool = False


COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("title", "titre", N_("Le nom de l'initiative (200 caractères au plus)."), "Jardin partagé", True),
    ColumnSpec("description", "description", N_("Ce qui a été fait et pourquoi (facultatif)."), "Des bacs potagers."),
    ColumnSpec("year", "année", N_("L'année du projet, par exemple 2008 (ou bien la date de dépôt)."), "2008", True),
    ColumnSpec(
        "date",
        "date de dépôt",
        N_("Facultatif si l'année est donnée : JJ/MM/AAAA ou AAAA-MM-JJ."),
        "14/03/2008",
    ),
    ColumnSpec("neighbourhood", "quartier", N_("Le nom d'un quartier de la commune (facultatif)."), "Cité 5"),
    ColumnSpec("theme", "thématique", N_("Le nom d'une thématique de la commune (facultatif)."), "Plan paysager"),
    ColumnSpec("project_type", "type de projet", N_("« travaux » ou « activité » (vide : travaux)."), "travaux"),
    ColumnSpec(
        "carrier",
        "nom du collectif ou de l'association",
        N_("Facultatif. Jamais le nom d'une personne : celui du collectif ou de l'association qui a porté le projet."),
        "Les Jardiniers de la Cité",
    ),
    ColumnSpec(
        "carrier_kind",
        "type de porteur",
        N_("« collectif » ou « association » (vide : association si le nom commence par « Association »)."),
        "collectif",
    ),
    ColumnSpec("outcome", "état final", N_("« réalisée », « abandonnée » ou « refusée »."), "réalisée", True),
    ColumnSpec("town", "apport de la commune (€)", N_("En euros, par exemple 1 200 ou 1200,50."), "1200"),
    ColumnSpec(
        "residents",
        "apport des habitant·es (€ ou heures)",
        N_("En euros (matériaux, argent), ou en heures suivies de « h », par exemple 180 h."),
        "150",
    ),
    ColumnSpec(
        "hours",
        "heures de bénévolat",
        N_("Nombre d'heures, par exemple 180 ou 12,5 : valorisées au taux de l'heure de bénévolat de l'année."),
        "180",
    ),
    ColumnSpec("partners", "partenaires (€)", N_("Apport des partenaires, en euros."), "0"),
    ColumnSpec("address", "adresse", N_("Le lieu du projet (facultatif)."), "Rue Hoche"),
    ColumnSpec("latitude", "latitude", N_("En degrés décimaux, par exemple 50,4578 (avec la longitude)."), ""),
    ColumnSpec("longitude", "longitude", N_("En degrés décimaux, par exemple 2,7931 (avec la latitude)."), ""),
    ColumnSpec(
        "reference",
        "référence",
        N_(
            "Votre identifiant de la ligne (100 caractères au plus) : importer deux fois la même référence ne crée rien."
        ),
        "FF-2008-03",
    ),
)
COLUMN_KEYS = tuple(c.key for c in COLUMNS)
COLUMN_HEADERS = {c.key: c.header for c in COLUMNS}
# Headers are compared case, accents, punctuation and parenthesised units folded.
HEADER_ALIASES: dict[str, str] = {
    "titre": "title",
    "description": "description",
    "annee": "year",
    "date de depot": "date",
    "date": "date",
    "quartier": "neighbourhood",
    "thematique": "theme",
    "theme": "theme",
    "type de projet": "project_type",
    "type": "project_type",
    "nom du collectif ou de l association": "carrier",
    "collectif ou association": "carrier",
    "porteur": "carrier",
    "type de porteur": "carrier_kind",
    "etat final": "outcome",
    "etat": "outcome",
    "apport de la commune": "town",
    "apport des habitantes": "residents",
    "apport des habitants": "residents",
    "heures de benevolat": "hours",
    "partenaires": "partners",
    "apport des partenaires": "partners",
    "adresse": "address",
    "latitude": "latitude",
    "longitude": "longitude",
    "reference": "reference",
}


def fold(value: str) -> str:
    """Case, accents and spacing folded, to match names as people type them."""
    decomposed = unicodedata.normalize("NFKD", value)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def header_key(header: str) -> str:
    text = re.sub(r"\(.*?\)", " ", fold(header)).replace("·", "").replace(".", "")
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def spreadsheet_cell(value: str) -> str:
    """A text written into a CSV file, so that a spreadsheet shows it and never runs it."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


@dataclass(frozen=True)
class CsvRow:
    line: int  # where the row starts in the file (the header is line 1)
    cells: dict[str, str]


@dataclass(frozen=True)
class CsvFile:
    separator: str
    columns: list[str]
    ignored_columns: list[str]
    rows: list[CsvRow]
    row_errors: dict[int, list[str]] = field(default_factory=dict)


def _file_error(message: str) -> Invalid:
    return Invalid(message, field="file")


def decode(data: bytes) -> str:
    """The file's text: UTF-8, with or without a byte-order mark; anything else is refused."""
    if len(data) > MAX_FILE_BYTES:
        raise _file_error(
            _("Le fichier dépasse %(size)s Mo : découpez-le en plusieurs fichiers.")
            % {"size": MAX_FILE_BYTES // (1024 * 1024)}
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _file_error(
            _(
                "Le fichier n'est pas encodé en UTF-8 (ligne %(line)s) : dans votre tableur, "
                "enregistrez-le au format « CSV UTF-8 »."
            )
            % {"line": line}
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise _file_error(
            _("Le fichier contient un caractère interdit (ligne %(line)s) : est-ce bien un fichier CSV ?")
            % {"line": line}
        )
    if not text.strip():
        raise _file_error(_("Le fichier est vide : partez du modèle à télécharger ci-dessous."))
    return text


def sniff_separator(text: str) -> str:
    """``;`` (French spreadsheets) or ``,``, whichever the header line uses more."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    return max(SEPARATORS, key=first.count)


def _header(cells: list[str]) -> tuple[list[str | None], list[str]]:
    """The key of each column (None for a column Cailloux does not know) and the unknown headers."""
    keys: list[str | None] = []
    ignored: list[str] = []
    seen: dict[str, str] = {}
    for raw in cells:
        header = clean_text(raw)
        key = HEADER_ALIASES.get(header_key(header))
        if key is None:
            if header:
                ignored.append(header)
            keys.append(None)
            continue
        if key in seen:
            raise _file_error(
                _("Les colonnes « %(first)s » et « %(second)s » disent la même chose : gardez-en une seule.")
                % {"first": seen[key], "second": header}
            )
        seen[key] = header
        keys.append(key)
    missing = [COLUMN_HEADERS[k] for k in ("title", "outcome") if k not in seen]
    if "year" not in seen and "date" not in seen:
        missing.append(COLUMN_HEADERS["year"])
    if missing:
        raise _file_error(
            _(
                "La première ligne doit donner les noms des colonnes ; il manque : %(columns)s. "
                "Partez du modèle à télécharger ci-dessous."
            )
            % {"columns": ", ".join(f"« {m} »" for m in missing)}
        )
    return keys, ignored


def read(text: str) -> CsvFile:
    """The header and the non-empty rows, each with the line it starts on."""
    separator = sniff_separator(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    rows: list[CsvRow] = []
    row_errors: dict[int, list[str]] = {}
    keys: list[str | None] | None = None
    ignored: list[str] = []
    try:
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            if not any(c.strip() for c in cells):
                continue
            if keys is None:
                keys, ignored = _header(cells)
                continue
            if len(rows) >= MAX_ROWS:
                raise _file_error(
                    _("Le fichier compte plus de %(max)s lignes : découpez-le en plusieurs fichiers.")
                    % {"max": f"{MAX_ROWS:,}".replace(",", "\u202f")}
                )
            values: dict[str, str] = {}
            for index, raw in enumerate(cells):
                key = keys[index] if index < len(keys) else None
                if key is None:
                    if index >= len(keys) and raw.strip():
                        row_errors.setdefault(start, []).append(
                            _(
                                "%(found)s valeurs pour %(expected)s colonnes : vérifiez le séparateur et les guillemets."
                            )
                            % {"found": len(cells), "expected": len(keys)}
                        )
                        break
                    continue
                values[key] = clean_text(raw)
            rows.append(CsvRow(start, values))
    except csv.Error as exc:
        raise _file_error(
            _("Le fichier n'est pas un CSV lisible (ligne %(line)s) : %(detail)s.")
            % {"line": reader.line_num, "detail": str(exc)}
        ) from None
    if keys is None:
        raise _file_error(_("Le fichier est vide : partez du modèle à télécharger ci-dessous."))
    if not rows:
        raise _file_error(
            _("Le fichier ne contient que la ligne des noms de colonnes : ajoutez une ligne par initiative.")
        )
    return CsvFile(
        separator=separator,
        columns=[k for k in keys if k is not None],
        ignored_columns=ignored,
        rows=rows,
        row_errors=row_errors,
    )


def write(rows: list[list[str]]) -> bytes:
    """A CSV file for French spreadsheets: UTF-8 with a byte-order mark, ``;``, formulas escaped."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for row in rows:
        writer.writerow([spreadsheet_cell(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
