CREATE TABLE members (
    id serial PRIMARY KEY,
    name text NOT NULL,
    card_no text NOT NULL UNIQUE,
    joined date NOT NULL DEFAULT current_date
);

CREATE TABLE books (
    id serial PRIMARY KEY,
    isbn text NOT NULL,
    title text NOT NULL
);

CREATE TABLE loans (
    id serial PRIMARY KEY,
    member_id integer NOT NULL REFERENCES members(id),
    book_id integer NOT NULL REFERENCES books(id),
    due date NOT NULL,
    returned date
);
CREATE INDEX loans_member_idx ON loans (member_id) WHERE returned IS NULL;

INSERT INTO members (name, card_no) SELECT 'member ' || g, 'C' || lpad(g::text, 7, '0') FROM generate_series(1, 3000) AS g;
INSERT INTO books (isbn, title) SELECT '978' || lpad(g::text, 10, '0'), 'Title ' || g FROM generate_series(1, 20000) AS g;
INSERT INTO loans (member_id, book_id, due, returned)
SELECT 1 + (g % 3000), 1 + (g * 13) % 20000, current_date + ((g % 40) - 20), CASE WHEN g % 3 = 0 THEN current_date END
FROM generate_series(1, 15000) AS g;

ANALYZE members, books, loans;
