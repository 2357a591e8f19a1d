-- Search: whole-address lookups, decoded headers and a trigram full-text index.
-- Addresses are known at commit (from the envelope and the header block), so a trigger fills
-- them in the insert's own transaction; headers and the full-text row come from the indexer.

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

CREATE TRIGGER messages_addresses_added AFTER INSERT ON messages BEGIN
    INSERT OR IGNORE INTO message_addresses (address, field, message_id)
    SELECT lower(json_extract(NEW.from_json, '$[1]')), 'from', NEW.id
        WHERE json_extract(NEW.from_json, '$[1]') IS NOT NULL
    UNION ALL SELECT lower(NEW.mail_from), 'sender', NEW.id WHERE NEW.mail_from != ''
    UNION ALL SELECT lower(json_extract(value, '$[1]')), 'to', NEW.id FROM json_each(NEW.to_json)
    UNION ALL SELECT lower(json_extract(value, '$[1]')), 'cc', NEW.id FROM json_each(NEW.cc_json)
    UNION ALL SELECT lower(value), 'rcpt', NEW.id FROM json_each(NEW.rcpt_to)
    UNION ALL SELECT lower(value), 'bcc', NEW.id FROM json_each(NEW.rcpt_to)
        WHERE lower(value) NOT IN (
            SELECT lower(json_extract(value, '$[1]')) FROM json_each(NEW.to_json)
            UNION SELECT lower(json_extract(value, '$[1]')) FROM json_each(NEW.cc_json));
END;

-- Deleted messages whose search rows are still to be removed (Store.purge_search, from the
-- indexer's thread). Removing them in the delete itself made it 20 times dearer (0.55 ms
-- against 0.026 ms a message, measured on 100,000), and pruning deletes on the way to a 250.
-- Until then they match nothing: searches look messages up, or leave these ids out.
CREATE TABLE search_gone (id INTEGER PRIMARY KEY);

CREATE TRIGGER messages_search_removed AFTER DELETE ON messages BEGIN
    INSERT OR IGNORE INTO search_gone (id) VALUES (OLD.id);
END;

-- Existing messages: addresses now, headers and full text by the indexer (index them again).
INSERT OR IGNORE INTO message_addresses (address, field, message_id)
SELECT lower(json_extract(m.from_json, '$[1]')), 'from', m.id FROM messages m
    WHERE json_extract(m.from_json, '$[1]') IS NOT NULL
UNION ALL SELECT lower(m.mail_from), 'sender', m.id FROM messages m WHERE m.mail_from != ''
UNION ALL SELECT lower(json_extract(j.value, '$[1]')), 'to', m.id
    FROM messages m, json_each(m.to_json) j
UNION ALL SELECT lower(json_extract(j.value, '$[1]')), 'cc', m.id
    FROM messages m, json_each(m.cc_json) j
UNION ALL SELECT lower(j.value), 'rcpt', m.id FROM messages m, json_each(m.rcpt_to) j
UNION ALL SELECT lower(j.value), 'bcc', m.id FROM messages m, json_each(m.rcpt_to) j
    WHERE lower(j.value) NOT IN (
        SELECT lower(json_extract(t.value, '$[1]')) FROM json_each(m.to_json) t
        UNION SELECT lower(json_extract(c.value, '$[1]')) FROM json_each(m.cc_json) c);
UPDATE messages SET indexed = 0;
