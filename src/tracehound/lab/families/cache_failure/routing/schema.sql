CREATE TABLE zones (
    prefix text PRIMARY KEY,
    region text NOT NULL,
    hub text NOT NULL
);

CREATE TABLE lanes (
    carrier text NOT NULL,
    from_region text NOT NULL,
    to_region text NOT NULL,
    transit_days int NOT NULL,
    cutoff time NOT NULL,
    PRIMARY KEY (carrier, from_region, to_region)
);

INSERT INTO zones (prefix, region, hub)
SELECT lpad(n::text, 2, '0'), 'R' || (n % 9), 'HUB-' || (n % 5)
FROM generate_series(0, 99) AS n;

INSERT INTO lanes (carrier, from_region, to_region, transit_days, cutoff)
SELECT c, 'R' || a, 'R' || b, 1 + abs(a - b) % 4 + (CASE WHEN c = 'parcelpost' THEN 1 ELSE 0 END),
       time '15:00' + (a * interval '10 minutes')
FROM unnest(ARRAY['dhl', 'ups', 'parcelpost']) AS c, generate_series(0, 8) AS a, generate_series(0, 8) AS b;
