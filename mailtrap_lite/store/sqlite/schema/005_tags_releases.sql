-- Tags (from X-Tags, plus-addressing, --tag rules or by hand) and releases to a real server.

-- A tag's name keeps the case it was first written in; names differ by more than case.
CREATE TABLE tags (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE
);

CREATE TABLE message_tags (
    message_id INTEGER NOT NULL,
    tag_id INTEGER NOT NULL,
    PRIMARY KEY (message_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX message_tags_tag ON message_tags (tag_id, message_id);

-- Each release of a message (POST /messages/ID/release or --relay-matching): where it went,
-- the remote server's last reply, and the outgoing session that holds the transcript.
CREATE TABLE releases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id INTEGER NOT NULL,
    session_id INTEGER,
    released_at TEXT NOT NULL,
    recipients TEXT NOT NULL, -- JSON array
    ok INTEGER NOT NULL,
    reply TEXT NOT NULL
);
CREATE INDEX releases_message ON releases (message_id);

-- A deleted or pruned message takes its tags and release records with it (a delete, not an
-- insert, pays for these: the path to the 250 reply is unchanged).
CREATE TRIGGER messages_tags_removed AFTER DELETE ON messages BEGIN
    DELETE FROM message_tags WHERE message_id = OLD.id;
    DELETE FROM releases WHERE message_id = OLD.id;
END;
