CREATE TABLE zones (
    id serial PRIMARY KEY,
    depot text NOT NULL,
    base_fee_cents integer NOT NULL,
    per_kg_cents integer NOT NULL
);

CREATE TABLE postcodes (
    postcode integer PRIMARY KEY,
    zone_id integer NOT NULL REFERENCES zones(id),
    same_day boolean NOT NULL
);

INSERT INTO zones (depot, base_fee_cents, per_kg_cents)
SELECT (ARRAY['north', 'east', 'south', 'west', 'centre'])[1 + g % 5], 390 + g * 25, 40 + g * 3
FROM generate_series(1, 12) AS g;

-- Every postcode from 1000 to 9999 is served, except rural ones the couriers do not reach.
INSERT INTO postcodes (postcode, zone_id, same_day)
SELECT g, 1 + g % 12, g % 4 <> 0 FROM generate_series(1000, 9999) AS g WHERE g % 17 <> 0;

ANALYZE zones, postcodes;
