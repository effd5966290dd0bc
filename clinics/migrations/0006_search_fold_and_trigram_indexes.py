"""The free-text search's folding function and its trigram indexes (PostgreSQL).

hs_search_fold(text) is lower(unaccent(text)) without apostrophes, declared
IMMUTABLE so it can be indexed (unaccent itself is only STABLE: its
dictionary could change; ours is pinned by name). The GIN indexes over it
with gin_trgm_ops serve both the folded substring match (LIKE '%word%') and
the typo-tolerant word similarity (%>) of clinics.selectors.doctor_search and
clinic_search. The doctor's name lives on accounts_user, so that index is
made here, next to the search that reads it.

On SQLite nothing is made: clinics.apps registers hs_search_fold in Python on
each connection, and the search falls back to the substring match.
"""

from django.conf import settings
from django.contrib.postgres.operations import TrigramExtension, UnaccentExtension
from django.db import migrations

FOLD_FUNCTION = """
CREATE OR REPLACE FUNCTION hs_search_fold(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT translate(lower(public.unaccent('public.unaccent'::regdictionary, $1)), '''’', '') $$
"""

INDEXES = {
    "accounts_user_name_trgm_idx": ("accounts_user", "name"),
    "clinics_doctor_specialty_trgm_idx": ("clinics_doctor", "specialty"),
    "clinics_clinic_name_trgm_idx": ("clinics_clinic", "name"),
    "clinics_clinic_city_trgm_idx": ("clinics_clinic", "city"),
    "clinics_clinic_address_trgm_idx": ("clinics_clinic", "address"),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FOLD_FUNCTION)
    for name, (table, column) in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin (hs_search_fold("{column}") gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')
    schema_editor.execute("DROP FUNCTION IF EXISTS hs_search_fold(text)")


class Migration(migrations.Migration):

    dependencies = [
        ("clinics", "0005_doctor_calendar_feed"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        TrigramExtension(),  # both do nothing on other databases
        UnaccentExtension(),
        migrations.RunPython(create, drop),
    ]
