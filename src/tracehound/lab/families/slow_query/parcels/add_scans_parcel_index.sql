CREATE INDEX scans_parcel_id_idx ON scans (parcel_id, scanned_at);
ANALYZE scans;
