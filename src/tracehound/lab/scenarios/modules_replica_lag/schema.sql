CREATE TABLE modules (
    id serial PRIMARY KEY,
    workspace text NOT NULL,
    name text NOT NULL,
    kind text NOT NULL,
    blocks jsonb NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX modules_workspace_idx ON modules (workspace);

-- Change stream shipped to the read replica by the replicator process.
CREATE TABLE module_changes (
    lsn bigserial PRIMARY KEY,
    module_id integer NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE FUNCTION log_module_change() RETURNS trigger AS $$
BEGIN
    INSERT INTO module_changes (module_id) VALUES (NEW.id);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER modules_change_stream AFTER INSERT OR UPDATE ON modules
    FOR EACH ROW EXECUTE FUNCTION log_module_change();

CREATE SCHEMA replica;
CREATE TABLE replica.modules (
    id integer PRIMARY KEY,
    workspace text NOT NULL,
    name text NOT NULL,
    kind text NOT NULL,
    blocks jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX replica_modules_workspace_idx ON replica.modules (workspace);

INSERT INTO modules (workspace, name, kind, blocks)
SELECT 'ws' || (g % 20), 'Module ' || g, 'sprint-board', '[{"type": "lane", "title": "Backlog"}]'
FROM generate_series(1, 500) AS g;
INSERT INTO replica.modules SELECT * FROM modules;
TRUNCATE module_changes;
