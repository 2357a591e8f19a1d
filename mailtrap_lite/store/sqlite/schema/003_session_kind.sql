-- What opened a session: an SMTP client ('smtp'), the send API ('api'), an import ('import')
-- or a release to another server ('outgoing'). Sessions written before this are SMTP ones.
ALTER TABLE sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'smtp';
