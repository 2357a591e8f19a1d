-- Imports skip a message whose Message-ID and bytes are already stored: the Message-ID
-- lookup needs an index (without one, each lookup read every row: an import of 100,000
-- messages into a store of 100,000 would compare 10^10 rows).
CREATE INDEX messages_message_id ON messages (message_id);
