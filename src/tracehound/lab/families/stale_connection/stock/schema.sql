CREATE TABLE items (
    sku text PRIMARY KEY,
    description text NOT NULL,
    unit text NOT NULL
);

CREATE TABLE bins (
    code text PRIMARY KEY,
    aisle int NOT NULL,
    level int NOT NULL
);

CREATE TABLE stock (
    sku text NOT NULL REFERENCES items(sku),
    bin text NOT NULL REFERENCES bins(code),
    quantity int NOT NULL,
    counted_at timestamptz NOT NULL,
    PRIMARY KEY (sku, bin)
);

INSERT INTO items (sku, description, unit)
SELECT 'W' || lpad(n::text, 6, '0'), 'Part ' || n, (ARRAY['pcs', 'box', 'm', 'kg'])[1 + n % 4]
FROM generate_series(1, 5000) AS n;

INSERT INTO bins (code, aisle, level)
SELECT 'A' || lpad(a::text, 2, '0') || '-' || l, a, l FROM generate_series(1, 40) AS a, generate_series(1, 6) AS l;

INSERT INTO stock (sku, bin, quantity, counted_at)
SELECT 'W' || lpad(n::text, 6, '0'), 'A' || lpad((1 + (n * k) % 40)::text, 2, '0') || '-' || (1 + k % 6),
       (n * 31 + k) % 200, now() - (n % 72) * interval '1 hour'
FROM generate_series(1, 5000) AS n, generate_series(1, 3) AS k
ON CONFLICT DO NOTHING;
