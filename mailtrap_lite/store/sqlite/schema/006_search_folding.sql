-- Search compares folded text (diacritics removed, case folded, in Python: store/folding.py),
-- finds attachments by file name, and matches domains and globs in address filters.
-- Every search row is written anew: the indexer reads each message again. Until it has,
-- an older message is found by inbox, date, size, flags and header: only.

DROP TABLE message_fts;
DROP TABLE message_text;
DROP TABLE message_addresses;

-- Every address of a message, lowercased in Python, by field (searchtext.address_rows), and
-- reversed: a glob with a literal end (`*@shop.example`) is a range of reversed addresses
-- within the fields of one filter (from: reads the "from" and "sender" rows).
CREATE TABLE message_addresses (
    address TEXT NOT NULL,
    field TEXT NOT NULL,
    message_id INTEGER NOT NULL,
    reversed TEXT NOT NULL,
    PRIMARY KEY (address, field, message_id)
) WITHOUT ROWID;
CREATE INDEX message_addresses_message ON message_addresses (message_id);
CREATE INDEX message_addresses_reversed ON message_addresses (field, reversed);

-- The searchable text of each message, folded before it is stored, so that terms under
-- three characters (which trigrams cannot find) are matched with instr() over it.
-- filenames: the attachments' file names, one per line.
CREATE TABLE message_text (
    id INTEGER PRIMARY KEY,
    subject TEXT NOT NULL,
    addresses TEXT NOT NULL,
    body TEXT NOT NULL,
    filenames TEXT NOT NULL
);

-- Trigram full-text index over message_text (substrings); rowid = messages.id. External
-- content, so that "delete all" can empty it at once ('delete-all').
CREATE VIRTUAL TABLE message_fts USING fts5(
    subject, addresses, body, filenames,
    tokenize = 'trigram', content = 'message_text', content_rowid = 'id'
);

UPDATE messages SET indexed = 0;
