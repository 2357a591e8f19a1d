-- What went wrong in each session, as JSON [{code, text}], judged while the session runs and
-- once more when it ends, so that no list reads transcripts to judge them. NULL: not judged
-- yet (sessions stored before this); the Store judges those from their transcripts when it
-- opens the database.
ALTER TABLE sessions ADD COLUMN problems TEXT;
