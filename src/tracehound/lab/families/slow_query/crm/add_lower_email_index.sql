CREATE INDEX contacts_lower_email_idx ON contacts (lower(email) text_pattern_ops);
ANALYZE contacts;
