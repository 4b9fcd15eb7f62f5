CREATE TABLE products (
    sku text PRIMARY KEY,
    title text NOT NULL,
    price_cents integer NOT NULL,
    per_customer_limit integer NOT NULL DEFAULT 10
);

CREATE TABLE stock (
    sku text PRIMARY KEY REFERENCES products(sku),
    warehouse text NOT NULL DEFAULT 'AMS-1',
    available integer NOT NULL CHECK (available >= 0),
    reserved integer NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reservations (
    id bigserial PRIMARY KEY,
    sku text NOT NULL REFERENCES products(sku),
    customer_id integer NOT NULL,
    qty integer NOT NULL,
    unit_price_cents integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reservations_created_idx ON reservations (created_at);

INSERT INTO products (sku, title, price_cents, per_customer_limit)
SELECT 'SKU-' || lpad(g::text, 5, '0'), 'Product ' || g, 499 + (g * 37) % 20000, 10
FROM generate_series(1, 2000) AS g;
INSERT INTO products (sku, title, price_cents, per_customer_limit)
VALUES ('CONSOLE-OLED-W', 'Handheld console OLED, white (launch day)', 34999, 1000000);
INSERT INTO products (sku, title, price_cents, per_customer_limit)
SELECT 'ACC-' || g, 'Accessory ' || g, 1499 + g * 500, 1000000 FROM generate_series(0, 15) AS g;

INSERT INTO stock (sku, available)
SELECT sku, 50 + (length(title) * 13) % 400 FROM products WHERE sku LIKE 'SKU-%';
INSERT INTO stock (sku, available) VALUES ('CONSOLE-OLED-W', 100000000);
INSERT INTO stock (sku, available) SELECT sku, 1000000 FROM products WHERE sku LIKE 'ACC-%';

INSERT INTO reservations (sku, customer_id, qty, unit_price_cents, created_at)
SELECT 'SKU-' || lpad((1 + g % 2000)::text, 5, '0'), 1 + (g::bigint * 7919) % 50000, 1 + g % 3, 999,
       now() - (g % 172800) * interval '1 second'
FROM generate_series(1, 400000) AS g;

ANALYZE products, stock, reservations;
