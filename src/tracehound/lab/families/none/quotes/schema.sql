CREATE TABLE routes (
    id serial PRIMARY KEY,
    origin char(3) NOT NULL,
    destination char(3) NOT NULL,
    base_fare_cents integer NOT NULL
);

INSERT INTO routes (origin, destination, base_fare_cents)
SELECT (ARRAY['BER', 'MUC', 'HAM', 'FRA'])[1 + g % 4], (ARRAY['LHR', 'CDG', 'AMS', 'MAD', 'FCO'])[1 + g % 5], 4900 + g * 13
FROM generate_series(1, 400) AS g;

-- The revenue-management engine prices a fare in about 300 ms, whatever the load.
CREATE FUNCTION price_fare(route integer, pax integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE base integer;
BEGIN
    PERFORM pg_sleep(0.3);
    SELECT base_fare_cents INTO base FROM routes WHERE id = route;
    RETURN base * pax;
END $$;

ANALYZE routes;
