ALTER TABLE drops ADD CONSTRAINT drops_remaining_check CHECK (remaining >= 0);
