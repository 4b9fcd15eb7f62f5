CREATE TABLE permits (
    id text PRIMARY KEY,
    parcel text NOT NULL,
    kind text NOT NULL,
    filed date NOT NULL,
    status text NOT NULL
);

CREATE TABLE inspections (
    permit_id text NOT NULL REFERENCES permits(id),
    step int NOT NULL,
    inspector text NOT NULL,
    outcome text,
    due date NOT NULL,
    PRIMARY KEY (permit_id, step)
);

INSERT INTO permits (id, parcel, kind, filed, status)
SELECT 'BP-' || (24000 + n), 'P' || lpad((n * 13 % 9000)::text, 5, '0'),
       (ARRAY['extension', 'roof', 'demolition', 'solar', 'fence'])[1 + n % 5],
       date '2024-01-02' + (n % 400), (ARRAY['filed', 'review', 'approved', 'inspection'])[1 + n % 4]
FROM generate_series(1, 3000) AS n;

INSERT INTO inspections (permit_id, step, inspector, outcome, due)
SELECT 'BP-' || (24000 + n), s, 'inspector-' || (n * s % 17),
       CASE WHEN s < 3 THEN 'passed' END, date '2024-03-01' + (n % 400) + s * 14
FROM generate_series(1, 3000) AS n, generate_series(1, 4) AS s;
