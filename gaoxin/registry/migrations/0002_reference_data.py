"""Loads the shipped reference data (GB/T 4754-2017, 战略性新兴产业分类(2018), default chains)."""

from django.db import migrations


def load(apps, schema_editor):
    from gaoxin.registry.reference import load_reference_data

    load_reference_data(apps)


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
