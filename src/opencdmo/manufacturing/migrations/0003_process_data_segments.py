"""Process-data versions become segments: each file holds the values of a range of versions.

Files written before hold the whole series as of their version, which is the range from
version 1; each such version's series is its own file, and its per-variable time ranges
are taken as the series' range (a superset, which only makes de-duplication read it).
"""

from typing import Any

from django.db import migrations, models


def describe_existing_files(apps: Any, schema_editor: Any) -> None:
    ProcessDataFile = apps.get_model("manufacturing", "ProcessDataFile")
    changed = []
    for record in ProcessDataFile.objects.all().only(
        "pk", "version", "variables", "start_h", "end_h"
    ):
        record.parts = [record.version]
        record.ranges = (
            {name: [record.start_h, record.end_h] for name in record.variables}
            if record.start_h is not None and record.end_h is not None
            else {}
        )
        changed.append(record)
    ProcessDataFile.objects.bulk_update(changed, ["parts", "ranges"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("manufacturing", "0002_opc_connection"),
    ]

    operations = [
        migrations.AddField(
            model_name="processdatafile",
            name="first_version",
            field=models.PositiveIntegerField(
                default=1,
                help_text="The file holds the values versions first_version … version added",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="processdatafile",
            name="parts",
            field=models.JSONField(
                default=list,
                help_text=(
                    "Versions whose files together hold the series as of this version, in order"
                ),
            ),
        ),
        migrations.AddField(
            model_name="processdatafile",
            name="ranges",
            field=models.JSONField(
                default=dict, help_text="Variable → [first, last] time in this version's file, h"
            ),
        ),
        migrations.AlterField(
            model_name="processdatafile",
            name="rows",
            field=models.PositiveIntegerField(help_text="Values in the series as of this version"),
        ),
        migrations.RunPython(describe_existing_files, migrations.RunPython.noop),
    ]
