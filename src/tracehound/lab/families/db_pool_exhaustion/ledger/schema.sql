CREATE TABLE accounts (
    id serial PRIMARY KEY,
    owner text NOT NULL,
    currency char(3) NOT NULL DEFAULT 'EUR',
    opened_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE entries (
    id bigserial PRIMARY KEY,
    account_id integer NOT NULL REFERENCES accounts(id),
    amount_cents bigint NOT NULL,
    memo text NOT NULL,
    booked_at timestamptz NOT NULL
);
CREATE INDEX entries_account_booked_idx ON entries (account_id, booked_at);

INSERT INTO accounts (owner) SELECT 'customer ' || g FROM generate_series(1, 500) AS g;

INSERT INTO entries (account_id, amount_cents, memo, booked_at)
SELECT 1 + (g % 500), ((g * 7919) % 20000) - 9000, 'entry ' || g, now() - (g || ' minutes')::interval
FROM generate_series(1, 50000) AS g;

-- Month-end statements are computed by a settlement function the finance team owns.
CREATE FUNCTION settle_statement(acct integer, work_ms integer) RETURNS TABLE (opening bigint, closing bigint, n bigint)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_sleep(work_ms / 1000.0);
    RETURN QUERY
    SELECT coalesce(sum(amount_cents) FILTER (WHERE booked_at < now() - interval '30 days'), 0)::bigint,
           coalesce(sum(amount_cents), 0)::bigint,
           count(*)
    FROM entries WHERE account_id = acct;
END $$;

ANALYZE accounts, entries;
