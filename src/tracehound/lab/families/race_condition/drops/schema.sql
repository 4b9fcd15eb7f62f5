CREATE TABLE drops (
    id serial PRIMARY KEY,
    title text NOT NULL,
    price_cents integer NOT NULL,
    per_shopper integer NOT NULL DEFAULT 2,
    remaining integer NOT NULL
);
CREATE TABLE holds (
    id serial PRIMARY KEY,
    drop_id integer NOT NULL REFERENCES drops(id),
    shopper text NOT NULL,
    placed timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX holds_shopper_idx ON holds (shopper, drop_id);

INSERT INTO drops (title, price_cents, remaining) VALUES
    ('Trail runner, glacier colourway', 17900, 6),
    ('Court classic, 1985 reissue', 12900, 4),
    ('Hiking boot, collaboration edition', 24900, 8);
