CREATE TABLE products (
    sku text PRIMARY KEY,
    name text NOT NULL,
    price_cents integer NOT NULL
);
CREATE TABLE baskets (
    id text PRIMARY KEY,
    coupon text,
    opened_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE basket_lines (
    basket_id text NOT NULL REFERENCES baskets (id),
    sku text NOT NULL REFERENCES products (sku),
    qty integer NOT NULL CHECK (qty > 0),
    PRIMARY KEY (basket_id, sku)
);
CREATE TABLE coupons (
    code text PRIMARY KEY,
    percent_off integer NOT NULL
);

INSERT INTO products (sku, name, price_cents)
SELECT 'sku-' || g, 'Product ' || g, 99 + (g * 37) % 900 FROM generate_series(1, 300) AS g;
INSERT INTO coupons VALUES ('SPRING10', 10), ('WELCOME5', 5), ('BULK15', 15);
