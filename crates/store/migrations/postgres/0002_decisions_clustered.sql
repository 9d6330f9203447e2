-- The routing audit log is written at the rate of routing decisions: one index on
-- (org_id, id), which every query uses, instead of a primary key on id plus that index.
DROP INDEX routing_decisions_org;
ALTER TABLE routing_decisions DROP CONSTRAINT routing_decisions_pkey;
ALTER TABLE routing_decisions ADD PRIMARY KEY (org_id, id);
