CREATE TABLE users (
    id serial PRIMARY KEY,
    username text NOT NULL UNIQUE,
    display_name text NOT NULL,
    bio text NOT NULL DEFAULT '',
    avatar_url text,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE posts (
    id serial PRIMARY KEY,
    author_id integer NOT NULL REFERENCES users(id),
    body text NOT NULL,
    likes integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX posts_author_idx ON posts (author_id, created_at DESC);

CREATE TABLE follows (
    follower_id integer NOT NULL REFERENCES users(id),
    followee_id integer NOT NULL REFERENCES users(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (follower_id, followee_id)
);
CREATE INDEX follows_followee_idx ON follows (followee_id);

INSERT INTO users (username, display_name, bio, avatar_url)
SELECT 'user' || g, 'User ' || g, 'Hi, I am user ' || g || '.', 'https://cdn.example.com/a/' || g || '.png'
FROM generate_series(1, 2000) AS g;

-- user1 is the community's best-known member
INSERT INTO posts (author_id, body, likes, created_at)
SELECT 1, 'Post number ' || g || ' from user1: ' || repeat('lorem ipsum ', 8), g * 7 % 500,
       now() - g * interval '1 hour'
FROM generate_series(1, 50) AS g;
INSERT INTO follows (follower_id, followee_id)
SELECT g, 1 FROM generate_series(2, 41) AS g;
INSERT INTO follows (follower_id, followee_id)
SELECT 1, g FROM generate_series(100, 129) AS g;

-- everybody else: a few posts, a few followers, following a few
INSERT INTO posts (author_id, body, likes, created_at)
SELECT u, 'A post by user' || u || ': ' || repeat('dolor sit amet ', 6), (u * k) % 40,
       now() - (u + k) * interval '1 day'
FROM generate_series(2, 2000) AS u, generate_series(1, 4) AS k;
INSERT INTO follows (follower_id, followee_id)
SELECT u, 2 + (u * 7 + k * 13) % 1999 FROM generate_series(2, 2000) AS u, generate_series(1, 3) AS k
ON CONFLICT DO NOTHING;

ANALYZE users, posts, follows;
