CREATE TABLE depots (
    id smallint PRIMARY KEY,
    city text NOT NULL
);

CREATE TABLE parcels (
    id integer PRIMARY KEY,
    code text NOT NULL UNIQUE,
    sender text NOT NULL,
    weight_g integer NOT NULL
);

CREATE TABLE scans (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    parcel_id integer NOT NULL REFERENCES parcels(id),
    depot_id smallint NOT NULL REFERENCES depots(id),
    status text NOT NULL,
    scanned_at timestamptz NOT NULL
);
CREATE INDEX scans_scanned_at_idx ON scans (scanned_at);

INSERT INTO depots SELECT g, (ARRAY['Leeds', 'Bristol', 'Derby', 'Hull', 'York', 'Bath'])[1 + g % 6]
FROM generate_series(1, 40) AS g;
INSERT INTO parcels SELECT g, 'PX' || lpad(g::text, 7, '0'), 'merchant-' || (g % 211), 200 + (g * 37) % 9000
FROM generate_series(1, 60000) AS g;
INSERT INTO scans (parcel_id, depot_id, status, scanned_at)
SELECT 1 + (g::bigint * 7919) % 60000, 1 + g % 40,
       (ARRAY['collected', 'sorted', 'in transit', 'out for delivery', 'delivered'])[1 + g % 5],
       timestamptz '2024-03-01' + (g || ' seconds')::interval
FROM generate_series(1, 600000) AS g;

ANALYZE depots, parcels, scans;
