CREATE TABLE restaurants (
    id serial PRIMARY KEY,
    name text NOT NULL,
    cuisine text NOT NULL,
    menu_revision integer NOT NULL
);

CREATE TABLE dishes (
    id serial PRIMARY KEY,
    restaurant_id integer NOT NULL REFERENCES restaurants(id),
    name text NOT NULL,
    price_cents integer NOT NULL,
    vegetarian boolean NOT NULL,
    served_on smallint[] NOT NULL
);
CREATE INDEX dishes_restaurant_idx ON dishes (restaurant_id);

INSERT INTO restaurants (name, cuisine, menu_revision)
SELECT 'Kitchen ' || g, (ARRAY['thai', 'italian', 'levantine', 'korean', 'bistro'])[1 + g % 5], 1 + (g * 7) % 40
FROM generate_series(1, 400) AS g;

INSERT INTO dishes (restaurant_id, name, price_cents, vegetarian, served_on)
SELECT 1 + g % 400, 'dish ' || g, 650 + (g * 53) % 1800, g % 3 = 0, ARRAY[1 + g % 7, 1 + (g + 3) % 7]::smallint[]
FROM generate_series(1, 12000) AS g;

ANALYZE restaurants, dishes;
