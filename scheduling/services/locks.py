"""Row locks used by the booking services.

Every service takes its locks in one global order, so two services can never
wait on each other in a cycle (no deadlock):

    appointment -> patient -> doctor(s) by id -> slot(s) by id -> waitlist entries

A service may skip a level, never go back up (waitlist.py reads an entry
unlocked, locks its slot, then the entry). The doctor row also guards the
doctor's schedule: availability rules, leaves and slot generation take it,
so a booking, a new leave and a generation of one doctor never interleave. On SQLite `select_for_update`
is a no-op; there `"transaction_mode": "IMMEDIATE"` makes every transaction
take the database's single write lock at BEGIN, which serialises writers.
"""

from django.db import connection

from accounts.models import Patient, User
from clinics.models import Clinic, Doctor
from scheduling.exceptions import AppointmentNotFoundError, SlotNotFoundError
from scheduling.models import Appointment, AppointmentSlot


def appointment_get_for_update(*, appointment_id: int) -> Appointment:
    """Lock one appointment row, read with its doctor (and their user) and
    clinic, not locked, which the answer shows. Raises AppointmentNotFoundError."""
    try:
        return (Appointment.objects.select_related("doctor__user", "clinic").select_for_update(of=("self",))
                .get(pk=appointment_id))
    except Appointment.DoesNotExist:
        raise AppointmentNotFoundError() from None


def _for_update(of: str = "") -> str:
    """The row-lock clause where the database has one (SQLite serialises writers instead)."""
    if not connection.features.has_select_for_update:
        return ""
    return f" FOR UPDATE OF {of}" if of else " FOR UPDATE"


def patient_lock(*, patient_id: int) -> None:
    """Lock a patient row: one patient's bookings queue, so overlap checks hold."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {Patient._meta.db_table} WHERE id = %s{_for_update()}", [patient_id])


def doctor_get_for_update(*, doctor_id: int) -> Doctor:
    """Lock a doctor row: bookings of one doctor queue, so the daily limit holds."""
    return Doctor.objects.select_for_update().get(pk=doctor_id)


# The doctor's columns the booking rules read and the answer shows (with the
# user's name); the rest load on first use.
_DOCTOR_COLUMNS = ("id", "user_id", "specialty", "max_patients_per_day", "is_active", "requires_approval")


def doctor_get_for_update_by_slot(*, slot_id: int) -> Doctor:
    """Lock the doctor of a slot, found through the slot in the same statement
    (one round trip, and SQL written once rather than compiled by the ORM on
    every booking: this is the hottest path there is), with their user's name
    (not locked) for the answer. Raises SlotNotFoundError."""
    doctors, slots, users = Doctor._meta.db_table, AppointmentSlot._meta.db_table, User._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(f'd.{column}' for column in _DOCTOR_COLUMNS)}, u.name "
            f"FROM {doctors} d JOIN {users} u ON u.id = d.user_id "
            f"WHERE d.id = (SELECT doctor_id FROM {slots} WHERE id = %s){_for_update('d')}", [slot_id])
        row = cursor.fetchone()
    if row is None:
        raise SlotNotFoundError()
    # from_db takes the values in concrete-field order, as _DOCTOR_COLUMNS lists them.
    pk, user_id, specialty, max_per_day, is_active, requires_approval, name = row
    doctor = Doctor.from_db(connection.alias, _DOCTOR_COLUMNS,
                            [pk, user_id, specialty, max_per_day, bool(is_active), bool(requires_approval)])
    Doctor.user.field.set_cached_value(doctor, User.from_db(connection.alias, ("id", "name"), [user_id, name]))
    return doctor


def _columns(model, alias: str) -> str:
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields)


def slots_get_for_update(*, slot_ids: list[int]) -> dict[int, AppointmentSlot]:
    """Lock slot rows in id order (with their clinic, not locked). Raises SlotNotFoundError.

    Written in SQL and read into instances with from_db (what the ORM does,
    without compiling the query on every booking)."""
    ids = sorted(set(slot_ids))
    slot_fields, clinic_fields = AppointmentSlot._meta.concrete_fields, Clinic._meta.concrete_fields
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_columns(AppointmentSlot, 's')}, {_columns(Clinic, 'c')} "
            f"FROM {AppointmentSlot._meta.db_table} s JOIN {Clinic._meta.db_table} c ON c.id = s.clinic_id "
            f"WHERE s.id IN ({', '.join(['%s'] * len(ids))}) ORDER BY s.id{_for_update('s')}", ids)
        rows = cursor.fetchall()
    if len(rows) != len(ids):
        raise SlotNotFoundError()
    slots = {}
    converters = _converters(AppointmentSlot) + _converters(Clinic)
    for row in rows:
        values = [convert(value) for convert, value in zip(converters, row)]
        slot = AppointmentSlot.from_db(connection.alias, [f.attname for f in slot_fields], values[:len(slot_fields)])
        clinic = Clinic.from_db(connection.alias, [f.attname for f in clinic_fields], values[len(slot_fields):])
        AppointmentSlot.clinic.field.set_cached_value(slot, clinic)
        slots[slot.pk] = slot
    return slots


_CONVERTERS: dict = {}


def _converters(model) -> list:
    """Per column, what turns the driver's value into the field's (SQLite hands
    back datetimes as text and booleans as 0/1; PostgreSQL's need nothing)."""
    key = (model, connection.vendor)
    if key not in _CONVERTERS:
        _CONVERTERS[key] = _converters_made(model)
    return _CONVERTERS[key]


def _converters_made(model) -> list:
    out = []
    for field in model._meta.concrete_fields:
        backend = connection.ops.get_db_converters(field.get_col(model._meta.db_table))
        own = field.get_db_converters(connection)
        chain = backend + own
        if not chain:
            out.append(lambda value: value)
            continue
        expression = field.get_col(model._meta.db_table)

        def convert(value, chain=chain, expression=expression):
            for converter in chain:
                value = converter(value, expression, connection)
            return value

        out.append(convert)
    return out


def slot_get_for_update(*, slot_id: int) -> AppointmentSlot:
    """Lock one slot row. Raises SlotNotFoundError."""
    return slots_get_for_update(slot_ids=[slot_id])[slot_id]
