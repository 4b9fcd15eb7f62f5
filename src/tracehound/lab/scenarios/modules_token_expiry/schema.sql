CREATE TABLE users (
    id serial PRIMARY KEY,
    email text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    salt text NOT NULL
);

CREATE TABLE modules (
    id serial PRIMARY KEY,
    owner_id integer NOT NULL REFERENCES users(id),
    name text NOT NULL,
    kind text NOT NULL,
    blocks jsonb NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX modules_owner_idx ON modules (owner_id);

INSERT INTO users (email, password_hash, salt)
SELECT 'designer' || g || '@example.com',
       encode(sha256(convert_to('s' || g || ':' || 'canvas-pass', 'UTF8')), 'hex'),
       's' || g
FROM generate_series(0, 63) AS g;
