CREATE TABLE accounts (
    id integer PRIMARY KEY,
    name text NOT NULL,
    tier text NOT NULL
);

CREATE TABLE contacts (
    id integer PRIMARY KEY,
    account_id integer NOT NULL REFERENCES accounts(id),
    full_name text NOT NULL,
    email text NOT NULL,
    phone text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX contacts_email_key ON contacts (email);
CREATE INDEX contacts_account_idx ON contacts (account_id);

CREATE TABLE deals (
    id integer PRIMARY KEY,
    contact_id integer NOT NULL REFERENCES contacts(id),
    stage text NOT NULL,
    amount_cents bigint NOT NULL
);
CREATE INDEX deals_contact_idx ON deals (contact_id);

INSERT INTO accounts SELECT g, 'Account ' || g, (ARRAY['free', 'team', 'enterprise'])[1 + g % 3]
FROM generate_series(1, 5000) AS g;
INSERT INTO contacts (id, account_id, full_name, email, phone)
SELECT g, 1 + g % 5000,
       (ARRAY['Dana', 'Ravi', 'Mona', 'Jon', 'Ines', 'Kofi'])[1 + g % 6] || ' ' ||
       (ARRAY['Okafor', 'Lind', 'Petrov', 'Silva', 'Haas'])[1 + g % 5],
       (ARRAY['Dana', 'Ravi', 'Mona', 'Jon', 'Ines', 'Kofi'])[1 + g % 6] || '.' ||
       (ARRAY['Okafor', 'Lind', 'Petrov', 'Silva', 'Haas'])[1 + g % 5] || g || '@' ||
       (ARRAY['Example.org', 'mail.test', 'Corp.example'])[1 + g % 3],
       '+44 20 ' || lpad((g % 10000000)::text, 7, '0')
FROM generate_series(1, 350000) AS g;
INSERT INTO deals SELECT g, 1 + (g::bigint * 31) % 350000, (ARRAY['lead', 'qualified', 'won', 'lost'])[1 + g % 4],
       (g % 500) * 1000
FROM generate_series(1, 100000) AS g;

ANALYZE accounts, contacts, deals;
