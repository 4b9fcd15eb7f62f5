CREATE TABLE shows (id serial PRIMARY KEY, slug text NOT NULL UNIQUE, title text NOT NULL);
CREATE TABLE episodes (
    id serial PRIMARY KEY,
    show_id integer NOT NULL REFERENCES shows(id),
    title text NOT NULL,
    published date NOT NULL,
    seconds integer NOT NULL
);
CREATE INDEX episodes_show_idx ON episodes (show_id, published DESC);
CREATE TABLE chapters (
    id serial PRIMARY KEY,
    episode_id integer NOT NULL REFERENCES episodes(id),
    starts_at integer NOT NULL,
    title text NOT NULL
);
CREATE INDEX chapters_episode_idx ON chapters (episode_id);
CREATE TABLE guests (id serial PRIMARY KEY, name text NOT NULL);
CREATE TABLE appearances (
    episode_id integer NOT NULL REFERENCES episodes(id),
    guest_id integer NOT NULL REFERENCES guests(id),
    PRIMARY KEY (episode_id, guest_id)
);
CREATE INDEX appearances_guest_idx ON appearances (guest_id);

-- Shows 1-39 are young (8-30 episodes); 40 and 41 are daily shows, on air for years.
INSERT INTO shows (slug, title) SELECT 'show-' || g, 'Show ' || g FROM generate_series(1, 41) AS g;
INSERT INTO episodes (show_id, title, published, seconds)
SELECT s, 'Episode ' || e, current_date - e * 7, 1200 + (e * 37) % 2400
FROM generate_series(1, 39) AS s, generate_series(1, 8 + (s * 7) % 23) AS e;
INSERT INTO episodes (show_id, title, published, seconds)
SELECT 40, 'Daily ' || e, current_date - e, 900 FROM generate_series(1, 800) AS e;
INSERT INTO episodes (show_id, title, published, seconds)
SELECT 41, 'Morning briefing ' || e, current_date - e, 600 FROM generate_series(1, 1600) AS e;
INSERT INTO chapters (episode_id, starts_at, title)
SELECT e.id, c * 600, 'Part ' || c FROM episodes e, generate_series(0, 1) AS c;
INSERT INTO guests (name) SELECT 'Guest ' || g FROM generate_series(1, 500) AS g;
INSERT INTO appearances (episode_id, guest_id) SELECT e.id, 1 + (e.id * 31) % 500 FROM episodes e;
INSERT INTO appearances (episode_id, guest_id) SELECT e.id, 1 + (e.id * 31 + 250) % 500 FROM episodes e WHERE e.id % 3 = 0;

ANALYZE shows, episodes, chapters, guests, appearances;
