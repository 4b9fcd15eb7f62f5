CREATE TABLE users (
    id serial PRIMARY KEY,
    username text NOT NULL UNIQUE,
    full_name text NOT NULL,
    active boolean NOT NULL DEFAULT true
);

CREATE TABLE projects (
    id serial PRIMARY KEY,
    name text NOT NULL,
    archived boolean NOT NULL DEFAULT false
);

CREATE TABLE tasks (
    id serial PRIMARY KEY,
    project_id integer NOT NULL REFERENCES projects(id),
    assignee_id integer REFERENCES users(id),
    title text NOT NULL,
    status text NOT NULL DEFAULT 'open',
    priority integer NOT NULL DEFAULT 3,
    due date,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tasks_assignee_status_idx ON tasks (assignee_id, status);
CREATE INDEX tasks_project_idx ON tasks (project_id);

INSERT INTO users (username, full_name)
SELECT 'user' || g, 'User ' || g FROM generate_series(1, 50) AS g;

INSERT INTO projects (name, archived)
SELECT 'Project ' || g, g % 7 = 0 FROM generate_series(1, 30) AS g;

INSERT INTO tasks (project_id, assignee_id, title, status, priority, due)
SELECT 1 + (g % 30),
       CASE WHEN g % 11 = 0 THEN NULL ELSE 1 + (g % 50) END,
       'Task ' || g,
       (ARRAY['open', 'open', 'in_progress', 'review', 'done'])[1 + g % 5],
       1 + g % 5,
       date '2026-01-01' + (g % 120)
FROM generate_series(1, 20000) AS g;

ANALYZE users, projects, tasks;
