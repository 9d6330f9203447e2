-- What a message cost on its provider's deck, what it would have cost on the baseline, and
-- whether the provider's own price disagreed by more than 1 %.
ALTER TABLE messages ADD COLUMN cost TEXT;
ALTER TABLE messages ADD COLUMN baseline_cost TEXT;
ALTER TABLE messages ADD COLUMN currency TEXT;
ALTER TABLE messages ADD COLUMN price_mismatch BIGINT NOT NULL DEFAULT 0;
