CREATE TABLE members (
    id int PRIMARY KEY,
    handle text NOT NULL,
    joined date NOT NULL,
    country text NOT NULL
);

CREATE TABLE posts (
    id bigserial PRIMARY KEY,
    member_id int NOT NULL REFERENCES members(id),
    forum text NOT NULL,
    likes int NOT NULL,
    posted_at timestamptz NOT NULL
);

INSERT INTO members (id, handle, joined, country)
SELECT n, 'rider' || n, date '2015-01-01' + (n * 7 % 3000), (ARRAY['DE', 'FR', 'NL', 'IT', 'ES'])[1 + n % 5]
FROM generate_series(1, 2000) AS n;

INSERT INTO posts (member_id, forum, likes, posted_at)
SELECT 1 + n % 2000, (ARRAY['gravel', 'road', 'touring', 'repair'])[1 + n % 4], n % 37,
       now() - (n % 900) * interval '1 hour'
FROM generate_series(1, 40000) AS n;

CREATE INDEX posts_member ON posts (member_id);
