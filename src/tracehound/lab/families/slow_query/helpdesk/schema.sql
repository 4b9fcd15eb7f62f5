CREATE TABLE customers (
    id integer PRIMARY KEY,
    name text NOT NULL,
    plan text NOT NULL,
    region text NOT NULL
);

CREATE TABLE tickets (
    id bigint PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customers(id),
    subject text NOT NULL,
    status text NOT NULL,
    priority smallint NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX tickets_updated_at_idx ON tickets (updated_at);
CREATE INDEX tickets_status_idx ON tickets (status);

INSERT INTO customers SELECT g, 'Customer ' || g, (ARRAY['basic', 'pro', 'premier'])[1 + g % 3],
       (ARRAY['emea', 'amer', 'apac'])[1 + g % 3]
FROM generate_series(1, 20000) AS g;
INSERT INTO tickets
SELECT g, 1 + (g::bigint * 104729) % 20000,
       (ARRAY['Cannot log in', 'Invoice question', 'Export is empty', 'Feature request', 'Slow dashboard'])[1 + g % 5],
       (ARRAY['open', 'pending', 'solved', 'closed', 'closed', 'closed'])[1 + g % 6],
       1 + g % 4,
       timestamptz '2023-01-01' + (g * 53 || ' seconds')::interval
FROM generate_series(1, 500000) AS g;

ANALYZE customers, tickets;
