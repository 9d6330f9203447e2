-- The provider resource (message or call id) an event is about, so events that arrive
-- before the send that caused them is recorded can be applied afterwards.
ALTER TABLE webhook_events ADD COLUMN resource_id TEXT;
CREATE INDEX webhook_events_resource ON webhook_events(provider_id, resource_id);
