CREATE TABLE manifests (
    id serial PRIMARY KEY,
    hub text NOT NULL,
    wave bigint NOT NULL,
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
