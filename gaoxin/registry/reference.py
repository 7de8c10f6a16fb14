"""Shipped reference data: GB/T 4754-2017 industries, the 2018 emerging-industry categories and
the zone's default industry chains (sources in registry/data/README.md).

`load_reference_data` is called by migration 0002 with the historical app registry and by
`load_demo` with the live one, so it uses only plain model managers (no custom methods, no
services) and is safe to run any number of times.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"
INDUSTRY_FILE = "gbt4754_2017.csv"
EMERGING_FILE = "sei_2018.csv"
CHAIN_FILE = "industry_chains.csv"


def read_rows(file_name: str) -> list[dict[str, str]]:
    """The rows of one shipped CSV file as dicts, values stripped."""
    with (DATA_DIR / file_name).open(encoding="utf-8", newline="") as handle:
        return [
            {key: (value or "").strip() for key, value in row.items()}
            for row in csv.DictReader(handle)
        ]


def industry_rows() -> list[dict[str, Any]]:
    """GB/T 4754-2017 rows with `level` as int and the section letter worked out for every row."""
    rows: list[dict[str, Any]] = []
    section_of: dict[str, str] = {}
    for raw in read_rows(INDUSTRY_FILE):
        level = int(raw["level"])
        code, parent = raw["code"], raw["parent"]
        # Parents always precede children in the file, so one pass finds every section.
        section = code if level == 1 else section_of[parent]
        section_of[code] = section
        rows.append(
            {
                "code": code,
                "name": raw["name"],
                "level": level,
                "parent": parent,
                "section": section,
            }
        )
    return rows


def _model(apps: Any, name: str) -> Any:
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    return apps.get_model("registry", name)


def _load_industries(apps: Any) -> tuple[int, int]:
    model = _model(apps, "IndustryCategory")
    existing = {obj.code: obj for obj in model.objects.all()}
    created = updated = 0
    rows = industry_rows()
    # Level by level, so every parent has a primary key before its children are written.
    for level in (1, 2, 3, 4):
        new_objects = []
        changed = []
        for row in (r for r in rows if r["level"] == level):
            parent_id = existing[row["parent"]].pk if row["parent"] else None
            obj = existing.get(row["code"])
            if obj is None:
                new_objects.append(
                    model(
                        code=row["code"],
                        name=row["name"],
                        level=level,
                        parent_id=parent_id,
                        section=row["section"],
                    )
                )
                continue
            values = {
                "name": row["name"],
                "level": level,
                "parent_id": parent_id,
                "section": row["section"],
            }
            if any(getattr(obj, key) != value for key, value in values.items()):
                for key, value in values.items():
                    setattr(obj, key, value)
                changed.append(obj)
        if new_objects:
            model.objects.bulk_create(new_objects, batch_size=500)
            created += len(new_objects)
            # Re-read so the new rows' keys are known on every database backend.
            for obj in model.objects.filter(code__in=[o.code for o in new_objects]):
                existing[obj.code] = obj
        if changed:
            model.objects.bulk_update(changed, ["name", "level", "parent", "section"])
            updated += len(changed)
    return created, updated


def _load_emerging(apps: Any) -> tuple[int, int]:
    model = _model(apps, "EmergingCategory")
    existing = {obj.code: obj for obj in model.objects.all()}
    created = updated = 0
    for row in read_rows(EMERGING_FILE):
        obj = existing.get(row["code"])
        if obj is None:
            model.objects.create(code=row["code"], name=row["name"])
            created += 1
        elif obj.name != row["name"]:
            # A national classification: the shipped name is authoritative.
            obj.name = row["name"]
            obj.save(update_fields=["name"])
            updated += 1
    return created, updated


def _load_chains(apps: Any) -> int:
    model = _model(apps, "IndustryChain")
    known_codes = set(model.objects.values_list("code", flat=True))
    known_names = set(model.objects.values_list("name", flat=True))
    created = 0
    for row in read_rows(CHAIN_FILE):
        # Staff configure chains after installation: an existing row (or a renamed one that
        # took the default name) is theirs and is never overwritten.
        if row["code"] in known_codes or row["name"] in known_names:
            continue
        model.objects.create(
            code=row["code"],
            name=row["name"],
            group=row["group"],
            sort_order=int(row["sort_order"]),
            description=row["description"],
        )
        created += 1
    return created


def load_reference_data(apps: Any = None) -> dict[str, int]:
    """Creates or corrects the shipped classifications and creates missing default chains.

    Returns how many rows were created or updated per table; a second run returns all zeros.
    Pass the migration's `apps` from a data migration, nothing from ordinary code.
    """
    industry_created, industry_updated = _load_industries(apps)
    emerging_created, emerging_updated = _load_emerging(apps)
    chains_created = _load_chains(apps)
    return {
        "industry_created": industry_created,
        "industry_updated": industry_updated,
        "emerging_created": emerging_created,
        "emerging_updated": emerging_updated,
        "chains_created": chains_created,
    }
