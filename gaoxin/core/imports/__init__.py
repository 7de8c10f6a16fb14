"""The spreadsheet import pipeline, shared by every bulk import (enterprises, statistical reports,
party rosters …).

    job = import_job_create(kind=importer.kind, source=upload, file_name=name, acting_user=user)
    outcome = import_run(job=job, importer=importer, acting_user=user, dry_run=True)

An `Importer` is a tuple of `SheetSpec`s. Each spec names its columns (`Column`: header,
aliases, required), validates a frame of cleaned strings with vectorised `Checks` and returns
model values, and says where they go (`UpsertTarget`: model, natural key, audit repr). The
pipeline does the rest: content sniffing and safety limits (`files`), header detection,
row errors and the error report, comparison with the database, bulk writes with one audit row
per object, and the `ImportJob` record.
"""

from gaoxin.core.imports.files import ImportRefused, Limits, open_table, read_sheet, sniff_format
from gaoxin.core.imports.pipeline import (
    Importer,
    ImportOutcome,
    SheetOutcome,
    error_report_write,
    import_job_create,
    import_run,
    imports_dir,
    job_summary,
)
from gaoxin.core.imports.spec import (
    ROW,
    Checks,
    Column,
    ImportContext,
    SheetSpec,
    canonical_decimal,
    char_map,
    clean_text,
    header_key,
    lookup,
    parse_date,
    parse_decimal,
    split_list,
)
from gaoxin.core.imports.upsert import (
    Plan,
    UpsertTarget,
    apply_plan,
    bulk_session,
    insert_frame,
    insert_slices,
    load_existing,
    plan_upsert,
    write_audit,
)

__all__ = [
    "ROW",
    "Checks",
    "Column",
    "ImportContext",
    "ImportOutcome",
    "ImportRefused",
    "Importer",
    "Limits",
    "Plan",
    "SheetOutcome",
    "SheetSpec",
    "UpsertTarget",
    "apply_plan",
    "bulk_session",
    "canonical_decimal",
    "char_map",
    "clean_text",
    "error_report_write",
    "header_key",
    "import_job_create",
    "import_run",
    "imports_dir",
    "insert_frame",
    "insert_slices",
    "job_summary",
    "load_existing",
    "lookup",
    "open_table",
    "parse_date",
    "parse_decimal",
    "plan_upsert",
    "read_sheet",
    "sniff_format",
    "split_list",
    "write_audit",
]
