-- Messages, their raw bytes, SMTP sessions and their transcripts.
-- Times are RFC 3339 UTC text, so they sort and compare as text.

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    inbox TEXT NOT NULL DEFAULT 'default',
    peer TEXT NOT NULL,
    helo TEXT,
    tls_version TEXT,
    tls_cipher TEXT,
    auth_user TEXT,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    end_reason TEXT,
    -- kept messages delivered over this session (maintained by triggers): a session with
    -- none is the kind that --max-sessions prunes
    message_count INTEGER NOT NULL DEFAULT 0,
    transcript_chunks INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_inbox ON sessions (inbox, id);
CREATE INDEX sessions_empty ON sessions (id) WHERE message_count = 0;

-- A transcript is appended in chunks (one per flush) so that a message commit adds one row.
CREATE TABLE transcript_chunks (
    session_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    entries TEXT NOT NULL, -- JSON array of [at, direction, line, injected]
    PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;

CREATE TABLE messages (
    -- AUTOINCREMENT: ids grow in commit order and are never reused, even after "delete all"
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    inbox TEXT NOT NULL,
    session_id INTEGER,
    received_at TEXT NOT NULL,
    mail_from TEXT NOT NULL,
    mail_options TEXT NOT NULL, -- JSON array
    rcpt_to TEXT NOT NULL,      -- JSON array
    subject TEXT NOT NULL,
    from_json TEXT,             -- JSON {name, address} or NULL
    to_json TEXT NOT NULL,
    cc_json TEXT NOT NULL,
    reply_to_json TEXT NOT NULL,
    message_id TEXT,
    date TEXT,
    size INTEGER NOT NULL,
    read INTEGER NOT NULL DEFAULT 0,
    warnings TEXT NOT NULL,     -- JSON array of {code, message}
    -- filled after the commit, off the path to the 250 reply
    attachment_count INTEGER,
    snippet TEXT,
    indexed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX messages_inbox ON messages (inbox, id);
CREATE INDEX messages_session ON messages (session_id);
CREATE INDEX messages_unindexed ON messages (id) WHERE indexed = 0;

CREATE TABLE message_raw (
    id INTEGER PRIMARY KEY,
    data BLOB NOT NULL
);

CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counters (name, value) VALUES ('pruned_messages', 0), ('pruned_sessions', 0);

CREATE TRIGGER messages_added AFTER INSERT ON messages BEGIN
    UPDATE sessions SET message_count = message_count + 1 WHERE id = NEW.session_id;
END;

CREATE TRIGGER messages_removed AFTER DELETE ON messages BEGIN
    DELETE FROM message_raw WHERE id = OLD.id;
    UPDATE sessions SET message_count = message_count - 1 WHERE id = OLD.session_id;
END;

CREATE TRIGGER sessions_removed AFTER DELETE ON sessions BEGIN
    DELETE FROM transcript_chunks WHERE session_id = OLD.id;
END;
