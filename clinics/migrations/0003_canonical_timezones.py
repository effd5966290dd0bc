"""Clinics saved under a backward-compatible alias (`Asia/Calcutta`) get the
canonical name it stands for (`Asia/Kolkata`): the same zone, the name the
validator now asks for. Other unknown names are left for staff to correct."""

from django.db import migrations

from healthsvc.timezones import canonical_zone_names, zone_aliases


def to_canonical(apps, schema_editor):
    Clinic = apps.get_model("clinics", "Clinic")
    aliases, canonical = zone_aliases(), canonical_zone_names()
    for clinic in Clinic.objects.exclude(timezone__in=canonical).only("pk", "timezone"):
        target = aliases.get(clinic.timezone)
        if target in canonical:
            Clinic.objects.filter(pk=clinic.pk).update(timezone=target)


class Migration(migrations.Migration):

    dependencies = [("clinics", "0002_booking_policy_and_approval")]

    operations = [migrations.RunPython(to_canonical, migrations.RunPython.noop)]
