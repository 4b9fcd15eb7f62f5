CREATE TABLE locations (
    code text PRIMARY KEY,
    zone text NOT NULL,
    aisle integer NOT NULL,
    level integer NOT NULL
);

CREATE TABLE stock (
    sku text NOT NULL,
    location text NOT NULL REFERENCES locations(code),
    qty integer NOT NULL,
    PRIMARY KEY (sku, location)
);

CREATE TABLE order_lines (
    order_id integer NOT NULL,
    line integer NOT NULL,
    sku text NOT NULL,
    qty integer NOT NULL,
    PRIMARY KEY (order_id, line)
);

INSERT INTO locations (code, zone, aisle, level)
SELECT 'Z' || z || '-' || lpad(a::text, 2, '0') || '-' || l, 'Z' || z, a, l
FROM generate_series(1, 4) AS z, generate_series(1, 30) AS a, generate_series(1, 5) AS l;
INSERT INTO stock (sku, location, qty)
SELECT 'SKU-' || lpad(s::text, 5, '0'), c.code, 1 + (s * 13) % 40
FROM generate_series(1, 3000) AS s
JOIN LATERAL (SELECT code FROM locations ORDER BY md5(code || s) LIMIT 2) AS c ON true;
INSERT INTO order_lines (order_id, line, sku, qty)
SELECT o, l, 'SKU-' || lpad((1 + (o * 37 + l * 101) % 3000)::text, 5, '0'), 1 + (o + l) % 3
FROM generate_series(1, 2000) AS o, generate_series(1, 6) AS l;

-- Pick paths come from the slotting engine's stored procedure (walk order through the zones).
CREATE FUNCTION pick_path(ord integer, engine_ms integer)
RETURNS TABLE (line integer, sku text, qty integer, location text, zone text, aisle integer)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_sleep(engine_ms / 1000.0);
    RETURN QUERY
    SELECT DISTINCT ON (ol.line) ol.line, ol.sku, ol.qty, s.location, lo.zone, lo.aisle
    FROM order_lines ol JOIN stock s ON s.sku = ol.sku JOIN locations lo ON lo.code = s.location
    WHERE ol.order_id = ord
    ORDER BY ol.line, s.qty DESC;
END $$;

ANALYZE locations, stock, order_lines;
