"""API tokens get a scope and an optional expiry; users record when their password changed.

Tokens issued before scopes existed could write, so they become ``write`` tokens with no
expiry: nothing that works today stops working.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="scope",
            field=models.CharField(
                choices=[("read", "Read only"), ("write", "Read and write")],
                default="write",
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="user",
            name="password_changed_at",
            field=models.DateTimeField(
                blank=True, help_text="When the password was last set, changed or reset", null=True
            ),
        ),
    ]
