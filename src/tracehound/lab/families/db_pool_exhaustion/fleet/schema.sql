CREATE TABLE vehicles (
    id serial PRIMARY KEY,
    plate text NOT NULL UNIQUE,
    depot text NOT NULL
);

CREATE TABLE positions (
    id bigserial PRIMARY KEY,
    vehicle_id integer NOT NULL REFERENCES vehicles(id),
    lat double precision NOT NULL,
    lon double precision NOT NULL,
    seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX positions_vehicle_seen_idx ON positions (vehicle_id, seen_at DESC);

INSERT INTO vehicles (plate, depot)
SELECT 'B-FL ' || g, (ARRAY['north', 'south', 'harbour'])[1 + g % 3] FROM generate_series(1, 300) AS g;
INSERT INTO positions (vehicle_id, lat, lon, seen_at)
SELECT 1 + (g % 300), 52.4 + (g % 97) / 1000.0, 13.3 + (g % 89) / 1000.0, now() - (g || ' seconds')::interval
FROM generate_series(1, 30000) AS g;

-- Map matching of the latest fixes onto the road graph (the routing team's function).
CREATE FUNCTION snap_to_road(v integer, work_ms integer) RETURNS TABLE (lat double precision, lon double precision)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_sleep(work_ms / 1000.0);
    RETURN QUERY SELECT avg(p.lat), avg(p.lon)
    FROM (SELECT * FROM positions WHERE vehicle_id = v ORDER BY seen_at DESC LIMIT 5) AS p;
END $$;

ANALYZE vehicles, positions;
