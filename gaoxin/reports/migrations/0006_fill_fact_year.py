from django.db import migrations


def fill(apps, schema_editor):
    """Yearly roll-ups for the facts accepted before ReportFactYear existed."""
    from gaoxin.reports.rollups import refresh

    Fact = apps.get_model("reports", "ReportFact")
    pairs = (
        Fact.objects.filter(month__isnull=False)
        .values_list("form_code", "year")
        .distinct()
        .order_by("form_code", "year")
    )
    for form_code, year in list(pairs):
        refresh(form_code, year)


class Migration(migrations.Migration):
    dependencies = [("reports", "0005_fact_year")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
