-- Holiday rentals: hosts edit listings (the source of truth); guests and hosts browse listing
-- cards, a denormalised read model kept in sync by the card projector (projector.py).
CREATE TABLE listings (
    id serial PRIMARY KEY,
    host text NOT NULL,
    title text NOT NULL,
    city text NOT NULL,
    nightly_rate integer NOT NULL CHECK (nightly_rate > 0),
    status text NOT NULL DEFAULT 'draft',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    carded_at timestamptz
);
CREATE INDEX listings_host_idx ON listings (host);
CREATE INDEX listings_uncarded_idx ON listings (id) WHERE carded_at IS NULL OR carded_at < updated_at;

CREATE TABLE listing_cards (
    listing_id integer PRIMARY KEY,
    host text NOT NULL,
    headline text NOT NULL,
    city text NOT NULL,
    nightly_rate integer NOT NULL,
    status text NOT NULL,
    badges jsonb NOT NULL DEFAULT '[]',
    refreshed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX listing_cards_host_idx ON listing_cards (host);

INSERT INTO listings (host, title, city, nightly_rate, status, carded_at)
SELECT 'host' || (g % 40), 'Flat ' || g, (ARRAY['Lisbon', 'Porto', 'Faro', 'Braga'])[1 + g % 4], 60 + g % 140, 'live', now()
FROM generate_series(1, 400) AS g;
INSERT INTO listing_cards (listing_id, host, headline, city, nightly_rate, status)
SELECT id, host, title || ' in ' || city, city, nightly_rate, status FROM listings;
