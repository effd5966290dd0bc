#!/usr/bin/env python
"""How long slot generation takes: one doctor, a full week of rules, 366 days.

Prints figures, asserts nothing. Runs in a throwaway test database on
whatever DATABASE_URL points at (SQLite by default):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/healthsvc .venv/bin/python scripts/bench_generate.py
"""

import os
import statistics
import sys
import time as clock
from datetime import time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "healthsvc.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "5"))


def main() -> None:
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from clinics.tests.factories import ClinicFactory, DoctorFactory
        from scheduling import services
        from scheduling.models import AppointmentSlot

        clinic = ClinicFactory(timezone="Europe/London")
        today = timezone.localdate(timezone=clinic.tzinfo)
        fresh, again = [], []
        for _ in range(RUNS):  # a new doctor each run, as a clinic's table grows doctor by doctor
            doctor = DoctorFactory(clinic=clinic)
            for weekday in range(5):
                services.availability_rule_create(doctor=doctor, weekday=weekday, start_time=time(9),
                                                  end_time=time(17), break_start=time(13), break_end=time(14))
            services.availability_rule_create(doctor=doctor, weekday=5, start_time=time(9), end_time=time(12))
            started = clock.perf_counter()
            made = services.slots_generate(doctor=doctor, date_from=today, date_to=today + timedelta(days=366))
            fresh.append(clock.perf_counter() - started)
            started = clock.perf_counter()
            services.slots_generate(doctor=doctor, date_from=today, date_to=today + timedelta(days=366))
            again.append(clock.perf_counter() - started)
        assert AppointmentSlot.objects.count() == RUNS * made.created
        print(f"database: {connection.vendor}; 367 local days, {made.created} slots (14 a weekday, 6 on Saturdays)")
        print(f"first run (bulk insert): median {statistics.median(fresh) * 1000:.0f} ms, "
              f"min {min(fresh) * 1000:.0f} ms over {RUNS} runs")
        print(f"second run (all skipped): median {statistics.median(again) * 1000:.0f} ms, "
              f"min {min(again) * 1000:.0f} ms")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
