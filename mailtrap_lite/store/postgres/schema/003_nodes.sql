-- Several nodes on one database. Additive only: a node of the previous release keeps working
-- against this schema (it leaves node_id and index_claimed_until NULL), so nodes can be
-- upgraded one at a time.

-- Every serving node: a row it refreshes (expires_at moves on with each heartbeat). A node
-- whose row has expired is lost: the others close its open sessions and remove the row.
-- Times come from the database's clock, never a node's.
CREATE TABLE nodes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,              -- host and process, for people
    started_at timestamptz NOT NULL DEFAULT now(),
    seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);

-- The node that serves a session (NULL: a node of the previous release).
ALTER TABLE sessions ADD COLUMN node_id bigint;
CREATE INDEX sessions_open_by_node ON sessions (node_id) WHERE end_reason IS NULL;

-- The indexing work queue: a node takes unindexed messages with FOR UPDATE SKIP LOCKED and
-- marks them as its own until this time; a node lost meanwhile leaves them to the next one.
ALTER TABLE messages ADD COLUMN index_claimed_until timestamptz;

-- Work that runs once across the cluster (pruning by age): when it last ran.
CREATE TABLE cluster_tasks (
    name text PRIMARY KEY,
    last_run timestamptz NOT NULL
);
