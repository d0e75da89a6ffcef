-- Usage pings: the received time, the keyed hash of the sender IP (never the IP),
-- the payload as kept (unknown fields dropped), and the columns the dashboard groups by.
CREATE TABLE pings (
    id BIGSERIAL PRIMARY KEY,
    received_at BIGINT NOT NULL,
    instance_id TEXT NOT NULL,
    ip_hash TEXT NOT NULL,
    payload TEXT NOT NULL,
    n_dropped_fields BIGINT NOT NULL,
    platform_version TEXT,
    os_type TEXT,
    license_type TEXT,
    broker_enabled BIGINT,
    file_store_enabled BIGINT,
    email_enabled BIGINT
);
CREATE INDEX pings_by_received_at ON pings (received_at);

-- PostHog events and Sentry envelope items. `body` is the PostHog properties or the
-- Sentry item payload, as JSON text.
CREATE TABLE events (
    id BIGSERIAL PRIMARY KEY,
    source TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    name TEXT NOT NULL,
    distinct_id TEXT,
    token TEXT,
    project_id TEXT,
    message TEXT,
    body TEXT NOT NULL
);
CREATE INDEX events_by_source ON events (source, received_at);
CREATE INDEX events_by_name ON events (source, name, received_at);
