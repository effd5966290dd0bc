"""Who may manage a doctor's slots and schedule. Reading slots is open to
anyone; seeing an appointment is scoped by the selectors (appointment_get_for_user)."""

from clinics.models import Doctor
from healthsvc.api.permissions import IsDoctorOrAdmin


class IsOwningDoctorOrAdmin(IsDoctorOrAdmin):
    """Admins, or the doctor the object belongs to: the Doctor itself, or a row
    with a `doctor_id` (a slot, a weekly rule, a leave). Patients and anonymous
    callers are refused before any lookup (403 / 401)."""

    what = "schedule"

    def has_object_permission(self, request, view, obj):
        if request.user.role == "admin":
            return True
        doctor_id = obj.pk if isinstance(obj, Doctor) else obj.doctor_id
        own = getattr(request.user, "doctor", None)
        if own is not None and own.pk == doctor_id:
            return True
        self.message = f"Doctors may manage only their own {self.what}."
        return False


class IsSlotOwnerOrAdmin(IsOwningDoctorOrAdmin):
    """Admins, or the doctor whose slots these are. The object is the Doctor a
    slot is opened for, or an existing slot."""

    what = "slots"


class IsScheduleOwnerOrAdmin(IsOwningDoctorOrAdmin):
    """Admins, or the doctor whose weekly rules, leaves and day these are."""

    what = "schedule"
