CREATE TABLE categories (
    id serial PRIMARY KEY,
    name text NOT NULL UNIQUE
);

CREATE TABLE products (
    id serial PRIMARY KEY,
    category_id integer NOT NULL REFERENCES categories(id),
    sku text NOT NULL UNIQUE,
    name text NOT NULL,
    price_cents integer NOT NULL CHECK (price_cents >= 0),
    stock integer NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_category_idx ON products (category_id);

INSERT INTO categories (name)
SELECT 'category ' || g FROM generate_series(1, 20) AS g;

INSERT INTO products (category_id, sku, name, price_cents, stock)
SELECT 1 + (g % 20), 'SKU-' || lpad(g::text, 6, '0'), 'Product ' || g, 199 + (g * 37) % 9000, g % 50
FROM generate_series(1, 5000) AS g;

ANALYZE categories, products;
