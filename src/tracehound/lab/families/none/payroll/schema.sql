CREATE TABLE employees (
    id integer PRIMARY KEY,
    name text NOT NULL,
    grade smallint NOT NULL,
    salary_cents integer NOT NULL
);

INSERT INTO employees
SELECT g, 'Employee ' || g, 1 + g % 9, 280000 + (g * 7919) % 400000
FROM generate_series(1, 3000) AS g;

CREATE TABLE tax_bands (
    lower_cents integer NOT NULL,
    rate numeric(4, 3) NOT NULL
);

INSERT INTO tax_bands VALUES (0, 0), (100000, 0.14), (250000, 0.24), (450000, 0.42);

-- The gross-to-net engine replays the year's deductions; it takes about 250 ms, loaded or not.
CREATE FUNCTION gross_to_net(employee integer, period text,
                             OUT gross_cents integer, OUT net_cents integer, OUT tax_cents integer)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_sleep(0.25);
    SELECT salary_cents INTO gross_cents FROM employees WHERE id = employee;
    SELECT coalesce(sum((gross_cents - lower_cents) * rate), 0)::integer INTO tax_cents
    FROM tax_bands WHERE lower_cents < gross_cents;
    tax_cents := tax_cents / 3;
    net_cents := gross_cents - tax_cents;
END $$;

ANALYZE employees;
