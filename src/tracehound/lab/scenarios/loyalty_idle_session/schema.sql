CREATE TABLE members (
    id integer PRIMARY KEY,
    email text NOT NULL UNIQUE,
    tier text NOT NULL DEFAULT 'silver',
    joined_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE point_entries (
    id bigserial PRIMARY KEY,
    member_id integer NOT NULL REFERENCES members(id),
    points integer NOT NULL,
    reason text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX point_entries_member_idx ON point_entries (member_id);

INSERT INTO members (id, email, tier)
SELECT g, 'member' || g || '@example.com', (ARRAY['silver', 'gold', 'platinum'])[1 + g % 3]
FROM generate_series(1000, 1200) AS g;

INSERT INTO point_entries (member_id, points, reason, created_at)
SELECT 1000 + g % 201, (g % 7) * 25 + 10, (ARRAY['purchase', 'review', 'referral'])[1 + g % 3],
       now() - (g || ' hours')::interval
FROM generate_series(1, 6000) AS g;
