CREATE TABLE manifests (
    id serial PRIMARY KEY,
    hub text NOT NULL,
    wave bigint NOT NULL,
    truck text,
    parcels integer NOT NULL DEFAULT 0,
    opened timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT manifests_hub_wave_key UNIQUE (hub, wave)
);
CREATE TABLE scans (
    id bigserial PRIMARY KEY,
    manifest_id integer NOT NULL REFERENCES manifests(id),
    barcode text NOT NULL,
    chute integer NOT NULL,
    scanned timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scans_manifest_idx ON scans (manifest_id);

CREATE TABLE departures (
    id serial PRIMARY KEY,
    hub text NOT NULL,
    slot integer NOT NULL,
    truck text NOT NULL
);
INSERT INTO departures (hub, slot, truck)
SELECT h, s, 'TR-' || upper(left(h, 1)) || lpad((s * 7 % 90)::text, 2, '0')
FROM unnest(ARRAY['north', 'south', 'hub-1', 'hub-2', 'east', 'west']) AS h, generate_series(0, 899) AS s;
ANALYZE departures;
