CREATE INDEX tickets_customer_updated_idx ON tickets (customer_id, updated_at DESC);
ANALYZE tickets;
