"""Make the database itself refuse UPDATE and DELETE on signatures, as on audit entries."""

from django.db import migrations

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION quality_signature_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'signatures are immutable (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER quality_signature_immutable
    BEFORE UPDATE OR DELETE ON quality_signature
    FOR EACH ROW EXECUTE FUNCTION quality_signature_immutable();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS quality_signature_immutable ON quality_signature;
DROP FUNCTION IF EXISTS quality_signature_immutable();
"""
SQLITE_UP = [
    "CREATE TRIGGER quality_signature_no_update BEFORE UPDATE ON quality_signature "
    "BEGIN SELECT RAISE(ABORT, 'signatures are immutable (UPDATE refused)'); END;",
    "CREATE TRIGGER quality_signature_no_delete BEFORE DELETE ON quality_signature "
    "BEGIN SELECT RAISE(ABORT, 'signatures are immutable (DELETE refused)'); END;",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS quality_signature_no_update;",
    "DROP TRIGGER IF EXISTS quality_signature_no_delete;",
]


def _run(statements: dict[str, list[str]]):
    def apply(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)

    return apply


class Migration(migrations.Migration):
    dependencies = [("quality", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": [POSTGRES_UP], "sqlite": SQLITE_UP}),
            _run({"postgresql": [POSTGRES_DOWN], "sqlite": SQLITE_DOWN}),
        )
    ]
