CREATE TABLE pharmacies (
    id serial PRIMARY KEY,
    name text NOT NULL,
    postcode text NOT NULL
);

CREATE TABLE products (
    sku integer PRIMARY KEY,
    name text NOT NULL,
    prescription boolean NOT NULL,
    discontinued boolean NOT NULL DEFAULT false,
    successor integer
);

CREATE TABLE stock (
    pharmacy_id integer NOT NULL REFERENCES pharmacies(id),
    sku integer NOT NULL REFERENCES products(sku),
    on_hand integer NOT NULL,
    PRIMARY KEY (pharmacy_id, sku)
);

INSERT INTO pharmacies (name, postcode)
SELECT 'Apotheke ' || g, lpad((10000 + g * 37)::text, 5, '0') FROM generate_series(1, 40) AS g;

INSERT INTO products (sku, name, prescription, discontinued, successor)
SELECT g, 'product ' || g, g % 3 = 0, g % 25 = 0, CASE WHEN g % 25 = 0 THEN g + 1 END
FROM generate_series(1, 2000) AS g;

INSERT INTO stock (pharmacy_id, sku, on_hand)
SELECT p, s, (p * 7 + s * 13) % 40 FROM generate_series(1, 40) AS p, generate_series(1, 2000) AS s;

ANALYZE pharmacies, products, stock;
