CREATE TABLE articles (
    slug text PRIMARY KEY,
    headline text NOT NULL,
    section text NOT NULL,
    body text NOT NULL,
    published timestamptz NOT NULL
);

CREATE TABLE related (
    slug text NOT NULL REFERENCES articles(slug),
    other text NOT NULL REFERENCES articles(slug),
    weight real NOT NULL,
    PRIMARY KEY (slug, other)
);

INSERT INTO articles (slug, headline, section, body, published)
SELECT 'story-' || n, 'Headline number ' || n, (ARRAY['city', 'sport', 'culture', 'economy'])[1 + n % 4],
       repeat('Paragraph ' || n || ' of a local story. ', 40), now() - n * interval '3 hours'
FROM generate_series(1, 500) AS n;

INSERT INTO related (slug, other, weight)
SELECT 'story-' || a, 'story-' || (1 + (a * 7 + k) % 500), 1.0 / (k + 1)
FROM generate_series(1, 500) AS a, generate_series(1, 6) AS k
ON CONFLICT DO NOTHING;
