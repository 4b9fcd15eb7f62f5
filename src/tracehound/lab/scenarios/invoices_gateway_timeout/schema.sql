CREATE TABLE customers (
    id serial PRIMARY KEY,
    name text NOT NULL,
    email text NOT NULL UNIQUE,
    country char(2) NOT NULL DEFAULT 'DE'
);

CREATE TABLE invoices (
    id serial PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customers(id),
    number text NOT NULL UNIQUE,
    issued_on date NOT NULL,
    due_on date NOT NULL,
    status text NOT NULL,
    currency char(3) NOT NULL DEFAULT 'EUR'
);
CREATE INDEX invoices_customer_idx ON invoices (customer_id, issued_on DESC);

CREATE TABLE invoice_lines (
    id serial PRIMARY KEY,
    invoice_id integer NOT NULL REFERENCES invoices(id),
    description text NOT NULL,
    quantity integer NOT NULL,
    unit_price_cents integer NOT NULL,
    tax_rate numeric(4, 2) NOT NULL DEFAULT 19.00
);
CREATE INDEX invoice_lines_invoice_idx ON invoice_lines (invoice_id);

CREATE TABLE payments (
    id serial PRIMARY KEY,
    invoice_id integer NOT NULL REFERENCES invoices(id),
    paid_on date NOT NULL,
    amount_cents integer NOT NULL,
    method text NOT NULL
);
CREATE INDEX payments_invoice_idx ON payments (invoice_id);

INSERT INTO customers (name, email, country)
SELECT 'Customer ' || g, 'billing' || g || '@example.com', (ARRAY['DE', 'FR', 'NL', 'AT', 'IT'])[1 + g % 5]
FROM generate_series(1, 500) AS g;
UPDATE customers SET name = 'Northwind Traders GmbH' WHERE id = 1;

-- the wholesale account: four years of weekly-and-more invoices
INSERT INTO invoices (customer_id, number, issued_on, due_on, status)
SELECT 1, 'NW-' || lpad(g::text, 5, '0'), date '2024-01-01' + g * 3, date '2024-01-31' + g * 3,
       CASE WHEN g > 430 THEN 'open' ELSE 'paid' END
FROM generate_series(1, 450) AS g;

-- everybody else: a handful each
INSERT INTO invoices (customer_id, number, issued_on, due_on, status)
SELECT c, 'C' || c || '-' || k, date '2025-01-01' + (c * 7 + k * 29) % 300, date '2025-01-31' + (c * 7 + k * 29) % 300,
       CASE WHEN k = 1 THEN 'open' ELSE 'paid' END
FROM generate_series(2, 500) AS c, generate_series(1, 4 + c % 9) AS k;

INSERT INTO invoice_lines (invoice_id, description, quantity, unit_price_cents, tax_rate)
SELECT i.id, 'Item ' || k || ' of ' || i.number, 1 + (i.id * k) % 12, 250 + (i.id * 37 * k) % 9000,
       CASE WHEN k % 4 = 0 THEN 7.00 ELSE 19.00 END
FROM invoices AS i, generate_series(1, 2 + i.id % 5) AS k;

INSERT INTO payments (invoice_id, paid_on, amount_cents, method)
SELECT i.id, i.issued_on + 14, 1000 + (i.id * 53) % 40000, CASE WHEN i.id % 3 = 0 THEN 'card' ELSE 'sepa' END
FROM invoices AS i WHERE i.status = 'paid';

ANALYZE customers, invoices, invoice_lines, payments;
