-- pgbench: the statements PostgreSQL receives for one doctor's free week when
-- the catalogue cache misses (GET /api/v1/slots?doctor_id=&date_from=&date_to=;
-- bench/probe.py lists them; keep this in step), without Python.
\set doctor random(1, :hot)
\set week random(0, :weeks - 1)
-- the connection's health check
SELECT 1;
SELECT s.id, s.doctor_id, s.clinic_id, s.start, s.duration_minutes, s.capacity, s.booked_count, s.held_count,
       s.is_active, c.timezone
  FROM scheduling_appointmentslot s
  JOIN clinics_clinic c ON s.clinic_id = c.id JOIN clinics_doctor d ON s.doctor_id = d.id
  WHERE c.is_active AND d.is_active AND s.is_active AND s.start > now()
    AND NOT EXISTS (SELECT 1 FROM scheduling_leave l WHERE l.doctor_id = s.doctor_id AND l."end" > s.start
                    AND l.start < s."end" LIMIT 1)
    AND s.booked_count < (s.capacity - s.held_count) AND s.doctor_id = :doctor
    AND s.start >= date_trunc('week', current_date + 14) + :week * interval '7 days'
    AND s.start < date_trunc('week', current_date + 14) + (:week + 1) * interval '7 days'
  ORDER BY 4, 1 LIMIT 101;
