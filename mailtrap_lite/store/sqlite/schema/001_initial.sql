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
    -- 1 while a kept message came over this session: a session without one is the kind
    -- that --max-sessions prunes (maintained by the Store, once per session on the hot path)
    kept_mail INTEGER NOT NULL DEFAULT 0,
    transcript_chunks INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_inbox ON sessions (inbox, id);
CREATE INDEX sessions_empty ON sessions (id) WHERE kept_mail = 0;

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

CREATE TABLE message_raw (
    id INTEGER PRIMARY KEY,
    data BLOB NOT NULL
);

CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counters (name, value) VALUES ('pruned_messages', 0), ('pruned_sessions', 0);

-- Every index and trigger on messages costs ~7 us per insert (measured), so there are few:
-- the indexer finds unindexed messages by id range, not through an index.
CREATE TRIGGER messages_removed AFTER DELETE ON messages BEGIN
    DELETE FROM message_raw WHERE id = OLD.id;
END;

CREATE TRIGGER sessions_removed AFTER DELETE ON sessions BEGIN
    DELETE FROM transcript_chunks WHERE session_id = OLD.id;
END;
