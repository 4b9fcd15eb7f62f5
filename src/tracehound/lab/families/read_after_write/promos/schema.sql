CREATE TABLE promotions (
    code text PRIMARY KEY,
    percent_off integer NOT NULL CHECK (percent_off BETWEEN 1 AND 90),
    min_basket_cents integer NOT NULL DEFAULT 0,
    starts_on date NOT NULL DEFAULT current_date,
    ends_on date,
    created_by text NOT NULL DEFAULT 'console'
);
INSERT INTO promotions (code, percent_off, min_basket_cents)
SELECT 'SEASON' || g, 5 + g % 30, (g % 5) * 1000 FROM generate_series(1, 200) AS g;
