-- pgbench: the statements PostgreSQL receives for one API booking (bench/probe.py
-- lists them; keep this in step), without Python: the database's own ceiling
-- for this transaction. Each transaction books the next (patient, free slot)
-- pair of bench_work. The first statement only picks the pair.
SELECT w.patient_id AS patient_id, w.user_id AS user_id, w.slot_id AS slot_id, w.doctor_id AS doctor_id,
       s.start AS slot_start, s."end" AS slot_end, s.clinic_id AS clinic_id
FROM bench_work w JOIN scheduling_appointmentslot s ON s.id = w.slot_id
WHERE w.n = (SELECT nextval('bench_pgbench_seq')) \gset
-- the connection's health check
SELECT 1;
BEGIN;
SELECT 1 FROM accounts_patient WHERE id = :patient_id FOR UPDATE;
SELECT d.id, d.user_id, d.specialty, d.max_patients_per_day, d.is_active, d.requires_approval, u.name
  FROM clinics_doctor d JOIN accounts_user u ON u.id = d.user_id
  WHERE d.id = (SELECT doctor_id FROM scheduling_appointmentslot WHERE id = :slot_id) FOR UPDATE OF d;
SELECT s.*, c.* FROM scheduling_appointmentslot s JOIN clinics_clinic c ON c.id = s.clinic_id
  WHERE s.id IN (:slot_id) ORDER BY s.id FOR UPDATE OF s;
SELECT EXISTS(SELECT 1 FROM scheduling_leave WHERE doctor_id = :doctor_id AND start < :slot_end AND "end" > :slot_start),
  EXISTS(SELECT 1 FROM scheduling_appointment WHERE patient_id = :patient_id AND slot_id = :slot_id
         AND status IN ('pending', 'confirmed') AND id <> 0),
  (SELECT COUNT(*) FROM scheduling_appointment WHERE doctor_id = :doctor_id
         AND start >= :slot_start::timestamptz - interval '12 hours' AND start < :slot_start::timestamptz + interval '12 hours'
         AND status IN ('pending', 'confirmed', 'completed', 'no_show') AND id <> 0),
  EXISTS(SELECT 1 FROM scheduling_appointment WHERE patient_id = :patient_id AND start < :slot_end AND "end" > :slot_start
         AND status IN ('pending', 'confirmed') AND id <> 0),
  (SELECT COUNT(*) FROM scheduling_appointment WHERE patient_id = :patient_id AND clinic_id = :clinic_id AND start > now()
         AND status IN ('pending', 'confirmed') AND id <> 0),
  (SELECT COALESCE(u.is_active, gu.is_active) FROM accounts_patient p
         LEFT JOIN accounts_user u ON u.id = p.user_id LEFT JOIN accounts_patient g ON g.id = p.guardian_id
         LEFT JOIN accounts_user gu ON gu.id = g.user_id WHERE p.id = :patient_id);
INSERT INTO scheduling_appointment (created_at, updated_at, patient_id, doctor_id, clinic_id, slot_id, start, "end",
    status, reason_for_visit, notes, note_for_patient, booked_by_id, cancelled_at, cancelled_reason,
    cancelled_internal_note, cancelled_by_id, sequence)
  VALUES (now(), now(), :patient_id, :doctor_id, :clinic_id, :slot_id, :slot_start, :slot_end, 'confirmed', '',
    '', '', :user_id, NULL, '', '', NULL, 0) RETURNING id;
UPDATE scheduling_appointmentslot SET booked_count = booked_count + 1, updated_at = now() WHERE id = :slot_id;
COMMIT;
