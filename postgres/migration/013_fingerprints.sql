-- A sync keeps with each user a fingerprint of the directory entry it
-- wrote it from (roster.UserDigest): a later sync that reads the same
-- fingerprint knows the entry unchanged without loading the user. 0 is
-- none: users stored before this step are compared whole once, by the
-- next sync, which then keeps their fingerprints. The 64 bits are kept as
-- a signed integer.
ALTER TABLE users ADD COLUMN fingerprint BIGINT NOT NULL DEFAULT 0;
