from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("geo", "0015_country_near"),
        ("incidents", "0016_importjob_attempt_started_at_importjob_attempts_and_more"),
    ]

    operations = [
        migrations.AddField(
            model_name="incident",
            name="near_border",
            field=models.BooleanField(
                db_default=False, default=False, editable=False, verbose_name="near a border"
            ),
        ),
        migrations.AddField(
            model_name="historicalincident",
            name="near_border",
            field=models.BooleanField(
                db_default=False, default=False, editable=False, verbose_name="near a border"
            ),
        ),
    ]
