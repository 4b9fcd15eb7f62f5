CREATE TABLE products (id serial PRIMARY KEY, sku text NOT NULL UNIQUE, name text NOT NULL, weight_g integer NOT NULL);
CREATE TABLE bins (
    id serial PRIMARY KEY,
    product_id integer NOT NULL REFERENCES products(id),
    aisle integer NOT NULL,
    shelf text NOT NULL,
    on_hand integer NOT NULL
);
CREATE INDEX bins_product_idx ON bins (product_id);
CREATE TABLE orders (id serial PRIMARY KEY, customer text NOT NULL, placed timestamptz NOT NULL DEFAULT now());
CREATE TABLE order_lines (
    id serial PRIMARY KEY,
    order_id integer NOT NULL REFERENCES orders(id),
    product_id integer NOT NULL REFERENCES products(id),
    quantity integer NOT NULL
);
CREATE INDEX order_lines_order_idx ON order_lines (order_id);

INSERT INTO products (sku, name, weight_g) SELECT 'SKU-' || lpad(g::text, 6, '0'), 'Item ' || g, 50 + (g * 13) % 4000
FROM generate_series(1, 8000) AS g;
INSERT INTO bins (product_id, aisle, shelf, on_hand)
SELECT 1 + (g % 8000), 1 + (g % 40), chr(65 + g % 6) || (g % 12), 5 + g % 90 FROM generate_series(1, 12000) AS g;
-- Orders 1-499 come from shops (3-25 lines); 500-504 are wholesale orders from the chain's stores.
INSERT INTO orders (customer) SELECT CASE WHEN g >= 500 THEN 'store ' || g ELSE 'shop ' || g END FROM generate_series(1, 504) AS g;
INSERT INTO order_lines (order_id, product_id, quantity)
SELECT o, 1 + (o * 53 + l * 211) % 8000, 1 + l % 4 FROM generate_series(1, 499) AS o, generate_series(1, 3 + o % 23) AS l;
INSERT INTO order_lines (order_id, product_id, quantity)
SELECT o, 1 + (o * 7 + l * 29) % 8000, 6 + l % 20 FROM generate_series(500, 504) AS o, generate_series(1, 1500 + (o - 500) * 500) AS l;

ANALYZE products, bins, orders, order_lines;
