-- The reference platform's schema: one table per thing the usage ping counts,
-- plus the key/value settings table shared by all replicas.
-- Timestamps are milliseconds since the Unix epoch. Relations are plain columns
-- (no foreign keys) so that bulk seeding stays fast; the platform never deletes.

CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, email TEXT NOT NULL, admin INTEGER NOT NULL DEFAULT 0, created_at BIGINT NOT NULL);
CREATE TABLE teams (id INTEGER PRIMARY KEY, name TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE TABLE projects (id INTEGER PRIMARY KEY, team_id BIGINT NOT NULL, name TEXT NOT NULL, state TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE TABLE devices (id INTEGER PRIMARY KEY, team_id BIGINT NOT NULL, name TEXT NOT NULL, last_seen_at BIGINT);
CREATE TABLE project_snapshots (id INTEGER PRIMARY KEY, project_id BIGINT NOT NULL, name TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE TABLE project_templates (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE project_stacks (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE library_entries (id INTEGER PRIMARY KEY, team_id BIGINT NOT NULL, name TEXT NOT NULL);
CREATE TABLE shared_library_entries (id INTEGER PRIMARY KEY, team_id BIGINT NOT NULL, name TEXT NOT NULL);
CREATE TABLE blueprints (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE team_broker_clients (id INTEGER PRIMARY KEY, team_id BIGINT NOT NULL, username TEXT NOT NULL);
CREATE TABLE remote_broker_credentials (id INTEGER PRIMARY KEY, team_id BIGINT NOT NULL, host TEXT NOT NULL);

-- The ping filters on these columns; every other count is a plain COUNT(*).
CREATE INDEX projects_state ON projects (state);
CREATE INDEX devices_last_seen_at ON devices (last_seen_at);
