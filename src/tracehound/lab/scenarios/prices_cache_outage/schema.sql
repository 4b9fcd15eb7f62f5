CREATE TABLE products (
    id serial PRIMARY KEY,
    sku text NOT NULL UNIQUE,
    name text NOT NULL,
    list_price_cents integer NOT NULL
);

CREATE TABLE price_rules (
    id serial PRIMARY KEY,
    product_id integer NOT NULL REFERENCES products(id),
    region text NOT NULL,
    min_quantity integer NOT NULL,
    discount_pct numeric(5, 2) NOT NULL,
    valid_from date NOT NULL,
    valid_to date NOT NULL
);

INSERT INTO products (sku, name, list_price_cents)
SELECT 'SKU-' || g, 'Product ' || g, 500 + (g * 37) % 20000
FROM generate_series(1, 5000) AS g;

INSERT INTO price_rules (product_id, region, min_quantity, discount_pct, valid_from, valid_to)
SELECT 1 + g % 5000,
       (ARRAY['eu', 'us', 'apac'])[1 + g % 3],
       (ARRAY[1, 10, 50, 100])[1 + g % 4],
       (g % 25)::numeric,
       date '2026-01-01' + (g % 200),
       date '2026-01-01' + (g % 200) + 90
FROM generate_series(1, 300000) AS g;

ANALYZE products, price_rules;
