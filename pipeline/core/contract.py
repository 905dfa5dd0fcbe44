"""The data contract: which files each stage writes to data/processed/<year>/ and their columns.

Stages must write at least these columns, in this order first (extra columns may follow;
profile.csv and staff.csv continue with the fields the methodology declares).
Tests check every output against this table, so the contract is enforced, not just described.

Text cells: a text cell (or column name) of any CSV file the pipeline writes that starts with
`=`, `+`, `-`, `@`, a tab, a carriage return or an apostrophe is written with one more leading
apostrophe (a spreadsheet opening the file shows it as text instead of running a formula);
numbers of numeric columns are written as they are. The pipeline's readers remove exactly one
leading apostrophe, and so must any other tool reading these files: the rule and its inverse
are pipeline/core/csvtext.py (`protect`, `unprotect`, `unprotect_frame`).
"""

from __future__ import annotations

from dataclasses import dataclass

# Status of a raw file (files.csv).
FILE_STATUSES = ("accepted", "rejected", "superseded", "registry", "department", "measures")
# statuses of the files that are not a school's form: the registry, the department's workbook,
# the record of last year's measures (measures.xlsx)
NOT_FORM_STATUSES = ("registry", "department", "measures")

# The signed scans of the year's documents: raw_dir/signed/<name>.pdf (the analyst puts the
# scan of the signed order there). Ingest does not read that folder (it holds no forms); the
# report stage does (Stage.signed), and the site publishes a scan instead of the draft.
SIGNED_DIR = "signed"
# documents that are signed: name → what it is (params' `signed:` keys, the scans' file names)
SIGNABLE = {"prikaz": "приказ", "spravka": "аналитическая справка", "roadmap": "дорожная карта"}


def is_signed(rel: str) -> bool:
    """A raw file's path relative to raw_dir (POSIX) lies in the signed scans' folder."""
    return "/" in rel and rel.split("/", 1)[0] == SIGNED_DIR

# The collection state of a school's form, in the words every output uses (`status`, the
# report's participation, the ingest notebook): one vocabulary.
COLLECTION_STATES = {
    "missing": "не представлена",
    "accepted": "принята",
    "accepted_with_issues": "принята с замечаниями",
    "rejected": "отклонена",
    "superseded": "заменена более поздней",
}

OUTPUTS: dict[str, dict[str, tuple[str, ...]]] = {
    "ingest": {
        # one row per form field found, long format, for every readable form
        "forms.csv": ("file", "sheet", "cell", "row", "field", "label", "value", "value_type", "school_code",
                      "formula"),
        # every file in the raw folder
        "files.csv": ("file", "sha256", "size_bytes", "kind", "status", "reason", "school_code", "filled_date"),
    },
    "clean": {
        # one row per (registry school, methodology position); schools without a form have no rows
        "checklist.csv": ("school_code", "position", "score", "score_raw", "document", "link", "link_ok", "file", "cell"),
        # one row per school with an accepted form; then the methodology's counts of «Кадры»
        # (nullable integers, pipeline/form/fields.py)
        "staff.csv": ("school_code",),
        # one row per registry school (submitted or not); then the methodology's fields of
        # «Сведения» and filled_date
        "profile.csv": ("school_code", "school_name", "school_type", "submitted", "file"),
        # every problem found, including rejected and superseded files
        "issues.csv": ("school_code", "file", "sheet", "cell", "field", "value", "rule", "severity", "message", "action"),
        # the department's own workbook (department.xlsx), one row per item; empty without it
        "department_rmo.csv": ("direction", "meetings", "schools", "preschools", "additional"),
        "department_network.csv": ("form", "name", "working"),
        "department_visits.csv": ("school_code", "date", "support"),
        # the record of last year's measures (measures.xlsx), one row per measure reported on
        # (done: да/нет, empty when not given); empty without the file
        "measures_reported.csv": ("decision_id", "done", "date", "document", "participants"),
    },
    "score": {
        # one row per registry school; a school without a form has submitted=False, empty
        # numbers and level "нет данных" (never zero)
        "scores.csv": (
            "school_code", "school_name", "cluster", "checklist_points", "checklist_max", "checklist_pct",
            "activity_index", "total_score", "rank_in_cluster", "level", "zone", "submitted",
        ),
        # one row per (submitted school, position): what was claimed and what counts
        "positions.csv": ("school_code", "position", "criterion", "claimed", "points", "max_points", "confirmed"),
        "criteria.csv": ("school_code", "criterion", "points", "max_points", "pct"),
        "targets_school.csv": ("school_code", "target", "value", "target_value", "status"),
        "targets_municipal.csv": ("target", "numerator", "denominator", "value", "target_value", "met"),
    },
    "recommendations": {
        "recommendations.csv": ("recommendation_id", "school_code", "indicator_code", "priority", "text"),
        "decisions.csv": ("decision_id", "kind", "topic", "schools", "responsible", "due"),
        "followup.csv": ("recommendation_id", "school_code", "indicator_code", "status"),
        # next year's roadmap (seed 004's form): one row per seminar, municipal measure and visit of
        # decisions.csv, sorted by due_month and numbered 1…n; school_code empty for municipal ones
        "roadmap.csv": ("decision_id", "number", "kind", "title", "due_month", "due", "indicator", "executors",
                        "school_code"),
        # each measure of the PREVIOUS year's roadmap.csv and what became of it (MEASURE_STATUSES),
        # from this year's measures_reported.csv; empty in a first year
        "measures.csv": ("decision_id", "kind", "title", "school_code", "status", "date", "document", "participants"),
    },
}

# Vocabularies of the score and recommendation outputs (Russian words are what people read).
LEVELS = ("высокий", "средний", "низкий")          # level in scores.csv
NO_LEVEL = "нет данных"                             # level of a school without a result
ZONES = ("зелёная", "жёлтая", "красная")            # zone per level
TARGET_STATUSES = ("met", "not_met", "not_applicable", "not_submitted")
PRIORITIES = ("высокий", "средний")
# kind of a municipal decision (decisions.csv) → how a person reads it
DECISION_KINDS = {
    "seminar": "Муниципальный семинар (заседание РМО)",
    "measure": "Муниципальная мера",
    "visit": "Методический выезд",
    "request": "Запрос формы мониторинга",
    "deferred": "Тема семинара перенесена на следующий год",
}
# «методика изменилась»: the indicator's definition changed between the two years (scale, measure),
# so last year's result and this year's are not compared
# status of a measure of last year's roadmap (measures.csv): no row in measures.xlsx, or no file → нет сведений
MEASURE_STATUSES = ("выполнено", "не выполнено", "нет сведений")
FOLLOWUP_STATUSES = ("устранён", "улучшение", "без изменений", "ухудшение", "нет данных", "методика изменилась")



def columns(stage: str, name: str) -> tuple[str, ...]:
    """The required leading columns of one output file."""
    return OUTPUTS[stage][name]


# --------------------------------------------------------------------------- the stages


ALL_YEARS = -1   # Stage.history: every earlier year


@dataclass(frozen=True)
class Stage:
    """One step of a year, declared as data: its notebook, what it reads, where it writes. The
    runner, the year graph, incremental runs, the manifest and verify all take it from here."""

    name: str                       # a key of OUTPUTS (or a stage writing only `writes`)
    notebook: str                   # file in notebooks/
    title: str                      # what people read in the progress and the errors
    reads: tuple[str, ...] = ()     # earlier stages of the year whose outputs it reads
    raw: bool = False               # reads the year's raw folder (its forms: not raw_dir/signed/)
    signed: bool = False            # reads the signed scans (raw_dir/signed/, SIGNED_DIR)
    history: int = 0                # earlier years it reads: 1 = previous year, ALL_YEARS = all
    target: str = "processed_dir"   # where its outputs go
    publishes: bool = False         # it writes the year's published index.html (the site index is rebuilt)
    writes: tuple[str, ...] = ()    # files it must write besides the data contract's tables

    @property
    def outputs(self) -> tuple[str, ...]:
        """Files the stage must write (the data contract); it may write more."""
        return tuple(OUTPUTS.get(self.name, {})) + self.writes


# the Word documents the report stage writes every year (pipeline/report/documents; the letters
# documents/letters/<code>.docx depend on which schools have a result and are not listed)
DOCUMENTS = ("documents/spravka.docx", "documents/prikaz.docx", "documents/roadmap.docx", "documents/letters.zip")

STAGE_TABLE: tuple[Stage, ...] = (
    Stage("ingest", "01_ingest.ipynb", "загрузка", raw=True),
    Stage("clean", "02_clean.ipynb", "очистка", reads=("ingest",)),
    Stage("score", "03_score.ipynb", "оценка", reads=("ingest", "clean")),
    Stage("recommendations", "04_recommendations.ipynb", "рекомендации",
          reads=("ingest", "clean", "score"), history=1),
    Stage("report", "05_report.ipynb", "отчёт",
          reads=("ingest", "clean", "score", "recommendations"), history=ALL_YEARS, target="reports_dir",
          signed=True, publishes=True, writes=("index.html", "results.xlsx", "documents/measures.xlsx", "documents/report.pdf",
                                  *DOCUMENTS)),
)

# the stages' names in order (the command line's --until)
STAGES: tuple[str, ...] = tuple(s.name for s in STAGE_TABLE)
