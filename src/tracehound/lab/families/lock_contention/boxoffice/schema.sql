CREATE TABLE venues (
    id serial PRIMARY KEY,
    name text NOT NULL,
    city text NOT NULL
);

CREATE TABLE events (
    id serial PRIMARY KEY,
    venue_id integer NOT NULL REFERENCES venues(id),
    title text NOT NULL,
    starts_at timestamptz NOT NULL,
    capacity integer NOT NULL,
    sold integer NOT NULL DEFAULT 0,
    base_price_cents integer NOT NULL
);

CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    event_id integer NOT NULL REFERENCES events(id),
    buyer text NOT NULL,
    qty integer NOT NULL,
    unit_price_cents integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_event_idx ON orders (event_id);

INSERT INTO venues (name, city)
SELECT 'Hall ' || g, (ARRAY['Leipzig', 'Graz', 'Basel', 'Gent'])[1 + g % 4] FROM generate_series(1, 20) AS g;

INSERT INTO events (venue_id, title, starts_at, capacity, base_price_cents)
SELECT 1 + g % 20, 'Show ' || g, now() + (g || ' days')::interval, 5000000, 2900 + (g % 7) * 500
FROM generate_series(1, 200) AS g;

ANALYZE venues, events;
