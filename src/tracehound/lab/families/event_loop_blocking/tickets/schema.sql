CREATE TABLE venues (
    id serial PRIMARY KEY,
    name text NOT NULL,
    city text NOT NULL
);

CREATE TABLE events (
    id serial PRIMARY KEY,
    venue_id integer NOT NULL REFERENCES venues(id),
    title text NOT NULL,
    starts_at timestamptz NOT NULL
);

CREATE TABLE seats (
    event_id integer NOT NULL REFERENCES events(id),
    section text NOT NULL,
    row_no integer NOT NULL,
    seat_no integer NOT NULL,
    price_cents integer NOT NULL,
    sold boolean NOT NULL DEFAULT false,
    PRIMARY KEY (event_id, section, row_no, seat_no)
);

INSERT INTO venues (name, city) VALUES ('Harbour Hall', 'Lisbon'), ('Old Mill', 'Ghent'), ('Arena Nord', 'Lyon');
INSERT INTO events (venue_id, title, starts_at)
SELECT 1 + (g % 3), 'Concert ' || g, now() + (g || ' days')::interval FROM generate_series(1, 40) AS g;
INSERT INTO seats (event_id, section, row_no, seat_no, price_cents, sold)
SELECT e, s, r, n, 2500 + 500 * (r % 7), ((e * 31 + r * 7 + n) % 5) = 0
FROM generate_series(1, 40) AS e, unnest(ARRAY['A', 'B', 'C', 'D']) AS s,
     generate_series(1, 20) AS r, generate_series(1, 25) AS n;

-- Dynamic prices come from the revenue team's pricing function (demand model, holds, fees).
CREATE FUNCTION quote_section(ev integer, sec text, model_ms integer)
RETURNS TABLE (free bigint, from_cents integer, to_cents integer)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_sleep(model_ms / 1000.0);
    RETURN QUERY
    SELECT count(*) FILTER (WHERE NOT sold), min(price_cents), max(price_cents)
    FROM seats WHERE event_id = ev AND section = sec;
END $$;

ANALYZE venues, events, seats;
