-- Finding messages and calls whose status has not moved for a while (the reconciler asks
-- their provider where they stand).
CREATE INDEX messages_in_flight ON messages(status_rank, updated_at);
CREATE INDEX calls_in_flight ON calls(status_rank, updated_at);
