CREATE TABLE customers (
    id serial PRIMARY KEY,
    email text NOT NULL UNIQUE,
    name text NOT NULL
);

CREATE TABLE orders (
    id serial PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customers(id),
    status text NOT NULL DEFAULT 'placed',
    total_cents integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer_idx ON orders (customer_id, created_at DESC);

CREATE TABLE order_lines (
    order_id integer NOT NULL REFERENCES orders(id),
    line integer NOT NULL,
    sku text NOT NULL,
    quantity integer NOT NULL,
    price_cents integer NOT NULL,
    PRIMARY KEY (order_id, line)
);

INSERT INTO customers (email, name)
SELECT 'customer' || g || '@example.com', 'Customer ' || g FROM generate_series(1, 500) AS g;

INSERT INTO orders (customer_id, status, total_cents, created_at)
SELECT 1 + g % 500, (ARRAY['placed', 'paid', 'shipped', 'delivered'])[1 + g % 4], 0, now() - g * interval '3 hours'
FROM generate_series(1, 5000) AS g;

INSERT INTO order_lines (order_id, line, sku, quantity, price_cents)
SELECT o, l, 'SKU-' || lpad(((o * 7 + l * 13) % 900)::text, 5, '0'), 1 + (o + l) % 3, 299 + (o * l * 37) % 5000
FROM generate_series(1, 5000) AS o, generate_series(1, 3) AS l;

UPDATE orders SET total_cents = s.total
FROM (SELECT order_id, sum(quantity * price_cents) AS total FROM order_lines GROUP BY order_id) AS s
WHERE s.order_id = orders.id;

ANALYZE customers, orders, order_lines;
