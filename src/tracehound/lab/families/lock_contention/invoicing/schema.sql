CREATE TABLE tenants (
    id serial PRIMARY KEY,
    name text NOT NULL,
    country char(2) NOT NULL
);

CREATE TABLE invoices (
    id bigserial PRIMARY KEY,
    tenant_id integer NOT NULL REFERENCES tenants(id),
    number integer NOT NULL,
    customer text NOT NULL,
    net_cents bigint NOT NULL,
    tax_cents bigint NOT NULL,
    issued_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, number)
);

INSERT INTO tenants (name, country)
SELECT 'tenant ' || g, (ARRAY['DE', 'AT', 'FR', 'NL', 'IT'])[1 + g % 5] FROM generate_series(1, 50) AS g;

INSERT INTO invoices (tenant_id, number, customer, net_cents, tax_cents, issued_at)
SELECT 1 + g % 50, 1 + g / 50, 'customer ' || (g % 700), 1000 + (g * 37) % 90000, 0, now() - (g || ' hours')::interval
FROM generate_series(0, 9999) AS g;

ANALYZE tenants, invoices;
