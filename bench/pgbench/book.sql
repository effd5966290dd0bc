-- pgbench: the statements PostgreSQL receives for one API booking (bench/probe.py
-- lists them), without Python: the database's own ceiling for this transaction.
-- Each transaction books the next (patient, free slot) pair of bench_work.
SELECT w.patient_id AS patient_id, w.user_id AS user_id, w.slot_id AS slot_id, w.doctor_id AS doctor_id,
       s.start AS slot_start, s."end" AS slot_end, s.clinic_id AS clinic_id
FROM bench_work w JOIN scheduling_appointmentslot s ON s.id = w.slot_id
WHERE w.n = (SELECT nextval('bench_pgbench_seq')) \gset
-- authentication: the user, then the patient
SELECT 1;
SELECT * FROM accounts_user WHERE id = :user_id LIMIT 21;
SELECT * FROM accounts_patient WHERE user_id = :user_id LIMIT 21;
BEGIN;
SELECT id FROM accounts_patient WHERE id = :patient_id FOR UPDATE;
SELECT doctor_id FROM scheduling_appointmentslot WHERE id = :slot_id LIMIT 1;
SELECT * FROM clinics_doctor WHERE id = :doctor_id LIMIT 21 FOR UPDATE;
SELECT * FROM scheduling_appointmentslot s JOIN clinics_clinic c ON s.clinic_id = c.id
  WHERE s.id = :slot_id ORDER BY s.id FOR UPDATE OF s;
SELECT 1 FROM scheduling_leave WHERE doctor_id = :doctor_id AND "end" > :slot_start AND start < :slot_end LIMIT 1;
SELECT count(*) FROM scheduling_appointment WHERE clinic_id = :clinic_id AND patient_id = :patient_id
  AND start > now() AND status IN ('pending', 'confirmed');
SELECT 1 FROM scheduling_appointment WHERE status IN ('pending', 'confirmed') AND patient_id = :patient_id
  AND slot_id = :slot_id LIMIT 1;
SELECT count(*) FROM scheduling_appointment WHERE status IN ('pending', 'confirmed', 'completed', 'no_show')
  AND doctor_id = :doctor_id AND start >= :slot_start::timestamptz - interval '12 hours'
  AND start < :slot_start::timestamptz + interval '12 hours';
SELECT 1 FROM scheduling_appointment WHERE status IN ('pending', 'confirmed') AND "end" > :slot_start
  AND patient_id = :patient_id AND start < :slot_end LIMIT 1;
INSERT INTO scheduling_appointment (created_at, updated_at, patient_id, doctor_id, clinic_id, slot_id, start, "end",
    status, reason_for_visit, notes, booked_by_id, cancelled_at, cancelled_reason, cancelled_by_id)
  VALUES (now(), now(), :patient_id, :doctor_id, :clinic_id, :slot_id, :slot_start, :slot_end, 'confirmed', '',
    '', :user_id, NULL, '', NULL) RETURNING id;
UPDATE scheduling_appointmentslot SET booked_count = booked_count + 1, updated_at = now() WHERE id = :slot_id;
COMMIT;
