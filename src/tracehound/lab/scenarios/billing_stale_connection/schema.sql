CREATE TABLE customers (
    id serial PRIMARY KEY,
    name text NOT NULL,
    currency text NOT NULL DEFAULT 'EUR'
);

CREATE TABLE invoices (
    id serial PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customers(id),
    number text NOT NULL UNIQUE,
    amount_cents integer NOT NULL,
    issued date NOT NULL,
    due date NOT NULL,
    status text NOT NULL DEFAULT 'open'
);
CREATE INDEX invoices_customer_idx ON invoices (customer_id);

CREATE TABLE payments (
    id serial PRIMARY KEY,
    invoice_id integer NOT NULL REFERENCES invoices(id),
    amount_cents integer NOT NULL,
    received timestamptz NOT NULL
);
CREATE INDEX payments_invoice_idx ON payments (invoice_id);

INSERT INTO customers (name) SELECT 'Customer ' || g FROM generate_series(1, 500) AS g;

INSERT INTO invoices (customer_id, number, amount_cents, issued, due, status)
SELECT 1 + g % 500, 'INV-2026-' || lpad(g::text, 6, '0'), 1000 + (g * 389) % 90000,
       date '2026-01-01' + g % 60, date '2026-01-31' + g % 60,
       CASE WHEN g % 3 = 0 THEN 'paid' ELSE 'open' END
FROM generate_series(1, 10000) AS g;

INSERT INTO payments (invoice_id, amount_cents, received)
SELECT id, amount_cents, issued + interval '5 days' FROM invoices WHERE status = 'paid';

ANALYZE customers, invoices, payments;
