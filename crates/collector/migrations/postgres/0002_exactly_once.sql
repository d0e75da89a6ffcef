-- Exactly-once storage. `event_key` is `<PostHog token>/<uuid>` for a PostHog event
-- that has a uuid and `<Sentry project>/<event_id>` for a Sentry event or
-- transaction; the unique index lets a repeat (a retry, a beacon, a second tab, a
-- second collector on the same database) insert nothing. NULL keys never collide, so
-- rows without a key, and rows stored before this migration, are kept as they are.
ALTER TABLE events ADD COLUMN event_key TEXT;
CREATE UNIQUE INDEX events_once ON events (source, event_key);
