CREATE TABLE tenants (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    plan text NOT NULL
);

CREATE TABLE feature_flags (
    id serial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    description text NOT NULL DEFAULT ''
);

CREATE TABLE tenant_features (
    id bigserial PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    feature_id integer NOT NULL REFERENCES feature_flags(id),
    is_enabled boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO tenants (id, name, plan)
VALUES ('550e8400-e29b-41d4-a716-446655440000', 'Acme Scraping', 'enterprise');
INSERT INTO tenants (id, name, plan)
SELECT md5('tenant-' || g)::uuid, 'Tenant ' || g, (ARRAY['free', 'team', 'enterprise'])[1 + g % 3]
FROM generate_series(1, 7999) AS g;

INSERT INTO feature_flags (name, description)
VALUES ('sso_login', 'Single sign-on'), ('bulk_export', 'CSV/Parquet exports'),
       ('audit_log', 'Audit log retention'), ('custom_roles', 'Custom RBAC roles');
INSERT INTO feature_flags (name, description)
SELECT 'beta_feature_' || g, 'Beta program feature ' || g FROM generate_series(1, 46) AS g;

INSERT INTO tenant_features (tenant_id, feature_id, is_enabled)
SELECT t.id, f.id, (hashtext(t.id::text || f.id) % 3) = 0
FROM tenants t CROSS JOIN feature_flags f;

ANALYZE tenants, feature_flags, tenant_features;
