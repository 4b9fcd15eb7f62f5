CREATE TABLE clinicians (
    id serial PRIMARY KEY,
    name text NOT NULL,
    specialty text NOT NULL
);

CREATE TABLE patients (
    id serial PRIMARY KEY,
    name text NOT NULL,
    insurer text NOT NULL,
    policy_no text NOT NULL
);

CREATE TABLE slots (
    id serial PRIMARY KEY,
    clinician_id integer NOT NULL REFERENCES clinicians(id),
    starts_at timestamptz NOT NULL,
    booked_by integer REFERENCES patients(id)
);
CREATE INDEX slots_clinician_idx ON slots (clinician_id, starts_at);

INSERT INTO clinicians (name, specialty)
SELECT 'Dr. ' || g, (ARRAY['general', 'dermatology', 'cardiology', 'pediatrics'])[1 + g % 4]
FROM generate_series(1, 40) AS g;

INSERT INTO patients (name, insurer, policy_no)
SELECT 'patient ' || g, (ARRAY['AOK', 'TK', 'Barmer'])[1 + g % 3], 'P' || lpad(g::text, 8, '0')
FROM generate_series(1, 2000) AS g;

INSERT INTO slots (clinician_id, starts_at)
SELECT 1 + (g % 40), date_trunc('hour', now()) + (g || ' hours')::interval
FROM generate_series(1, 4000) AS g;

ANALYZE clinicians, patients, slots;
