"""Who may manage a doctor's slots. Reading slots is open to anyone; seeing an
appointment is scoped by the selectors (appointment_get_for_user)."""

from clinics.models import Doctor
from healthsvc.api.permissions import IsDoctorOrAdmin


class IsSlotOwnerOrAdmin(IsDoctorOrAdmin):
    """Admins, or the doctor whose slots these are. The object is the Doctor a
    slot is opened for, or an existing slot."""

    def has_object_permission(self, request, view, obj):
        if request.user.role == "admin":
            return True
        doctor_id = obj.pk if isinstance(obj, Doctor) else obj.doctor_id
        own = getattr(request.user, "doctor", None)
        if own is not None and own.pk == doctor_id:
            return True
        self.message = "Doctors may manage only their own slots."
        return False
