-- pgbench: the statements PostgreSQL receives for one doctor's free week
-- (GET /api/v1/slots?doctor_id=&date_from=&date_to=), without Python.
\set doctor random(1, :hot)
\set week random(0, :weeks - 1)
SELECT 1;
SELECT count(*) FROM scheduling_appointmentslot s
  JOIN clinics_clinic c ON s.clinic_id = c.id JOIN clinics_doctor d ON s.doctor_id = d.id
  WHERE c.is_active AND d.is_active AND s.is_active AND s.start > now()
    AND NOT EXISTS (SELECT 1 FROM scheduling_leave l WHERE l.doctor_id = s.doctor_id AND l."end" > s.start
                    AND l.start < s."end")
    AND s.booked_count < s.capacity AND s.doctor_id = :doctor
    AND s.start >= date_trunc('week', current_date + 14) + :week * interval '7 days'
    AND s.start < date_trunc('week', current_date + 14) + (:week + 1) * interval '7 days';
SELECT s.*, d.*, u.*, c.* FROM scheduling_appointmentslot s
  JOIN clinics_clinic c ON s.clinic_id = c.id JOIN clinics_doctor d ON s.doctor_id = d.id
  JOIN accounts_user u ON d.user_id = u.id
  WHERE c.is_active AND d.is_active AND s.is_active AND s.start > now()
    AND NOT EXISTS (SELECT 1 FROM scheduling_leave l WHERE l.doctor_id = s.doctor_id AND l."end" > s.start
                    AND l.start < s."end")
    AND s.booked_count < s.capacity AND s.doctor_id = :doctor
    AND s.start >= date_trunc('week', current_date + 14) + :week * interval '7 days'
    AND s.start < date_trunc('week', current_date + 14) + (:week + 1) * interval '7 days'
  ORDER BY s.start, s.id LIMIT 100;
