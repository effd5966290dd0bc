from django.db import migrations, models
from django.db.models import F


def backfill(apps, schema_editor):
    """Outcomes recorded before the field existed: their last change is the
    best guess of when (an older one is past the correction window anyway)."""
    Appointment = apps.get_model("scheduling", "Appointment")
    Appointment.objects.filter(status__in=["completed", "no_show"], outcome_recorded_at__isnull=True).update(
        outcome_recorded_at=F("updated_at"),
    )


class Migration(migrations.Migration):

    dependencies = [
        ("scheduling", "0010_reminder_queue_count"),
    ]

    operations = [
        migrations.AddField(
            model_name="appointment",
            name="outcome_recorded_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
