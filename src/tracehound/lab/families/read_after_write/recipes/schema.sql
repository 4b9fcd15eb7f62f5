CREATE TABLE recipes (
    id serial PRIMARY KEY,
    cookbook text NOT NULL,
    title text NOT NULL,
    ingredients text[] NOT NULL DEFAULT '{}',
    tags text[] NOT NULL DEFAULT '{}',
    minutes integer NOT NULL DEFAULT 30,
    saved_at timestamptz NOT NULL DEFAULT now(),
    indexed_at timestamptz
);
CREATE INDEX recipes_unindexed_idx ON recipes (id) WHERE indexed_at IS NULL;

INSERT INTO recipes (cookbook, title, ingredients, tags, minutes)
SELECT 'book' || (g % 25),
       (ARRAY['Lentil soup', 'Green curry', 'Rye bread', 'Plum cake', 'Fish pie'])[1 + g % 5] || ' ' || g,
       ARRAY['salt', 'onion', 'oil'], ARRAY['weeknight', 'family'], 20 + g % 90
FROM generate_series(1, 600) AS g;
