-- Search: whole-address lookups, decoded headers and a trigram full-text index.
-- The indexer fills every search row just after the commit (within milliseconds normally;
-- waits wake when it does). Filling addresses with a trigger at insert measured 80 us on
-- the path to each 250 reply, about as much as the rest of the commit.

-- Every address of a message, lowercased (ASCII, as SQLite's lower() does), by field:
-- "from" (From header), "sender" (envelope MAIL FROM), "to", "cc", "rcpt" (envelope RCPT TO)
-- and "bcc" (envelope recipients absent from To and Cc).
CREATE TABLE message_addresses (
    address TEXT NOT NULL,
    field TEXT NOT NULL,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (address, field, message_id)
) WITHOUT ROWID;
CREATE INDEX message_addresses_message ON message_addresses (message_id);

-- Decoded header values (RFC 2047), names lowercased, for header:Name=value.
-- WITHOUT ROWID: the table is its own lookup index (a separate one doubled its size).
CREATE TABLE message_headers (
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (name, value, message_id)
) WITHOUT ROWID;
CREATE INDEX message_headers_message ON message_headers (message_id);

-- The searchable text of each message, lowercased before it is stored, so that terms under
-- three characters (which trigrams cannot find) are matched with instr() over it.
CREATE TABLE message_text (
    id INTEGER PRIMARY KEY,
    subject TEXT NOT NULL,
    addresses TEXT NOT NULL,
    body TEXT NOT NULL
);

-- Trigram full-text index over message_text (case-insensitive substrings); rowid =
-- messages.id. External content, so that "delete all" can empty it at once ('delete-all').
CREATE VIRTUAL TABLE message_fts USING fts5(
    subject, addresses, body, tokenize = 'trigram', content = 'message_text', content_rowid = 'id'
);


-- Deleted messages whose search rows are still to be removed (Store.purge_search, from the
-- indexer's thread). Removing them in the delete itself made it 20 times dearer (0.55 ms
-- against 0.026 ms a message, measured on 100,000), and pruning deletes on the way to a 250.
-- Until then they match nothing: searches look messages up, or leave these ids out.
CREATE TABLE search_gone (id INTEGER PRIMARY KEY);

CREATE TRIGGER messages_search_removed AFTER DELETE ON messages BEGIN
    INSERT OR IGNORE INTO search_gone (id) VALUES (OLD.id);
END;

-- Existing messages: the indexer fills their search rows (index them again).
UPDATE messages SET indexed = 0;
