-- One app user per person (DESIGN §3.6 rule 2, docs/PROTOCOL.md §9.6): an ID number registers
-- once. A second account of one person would be a second credential chain, and a refund, which
-- finds its user by name and ID number, could not tell the two apart. id_lookup is the keyed
-- HMAC-SM3 of the ID number (0002), so the index compares ID numbers without holding them.
-- A database that already holds two users of one ID number stops here: docs/OPERATIONS.md
-- "Upgrading to migration 0008" says how to find and settle them.
DROP INDEX app_users_id_lookup;
CREATE UNIQUE INDEX app_users_id_lookup ON app_users (id_lookup);
