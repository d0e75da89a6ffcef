-- The first administrator, created by the first-run setup, signs in with a password:
-- only its PBKDF2 hash (a PHC string) is stored. Seeded users have none.
ALTER TABLE users ADD COLUMN password_hash TEXT;
