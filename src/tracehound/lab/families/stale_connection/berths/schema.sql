CREATE TABLE berths (
    pontoon text NOT NULL,
    number int NOT NULL,
    length_m numeric(4, 1) NOT NULL,
    power boolean NOT NULL,
    PRIMARY KEY (pontoon, number)
);

CREATE TABLE bookings (
    id serial PRIMARY KEY,
    pontoon text NOT NULL,
    number int NOT NULL,
    boat text NOT NULL,
    arrives date NOT NULL,
    leaves date NOT NULL
);

INSERT INTO berths (pontoon, number, length_m, power)
SELECT p, n, 8 + (n % 7) * 1.5, n % 3 <> 0 FROM unnest(ARRAY['A', 'B', 'C', 'D']) AS p, generate_series(1, 40) AS n;

INSERT INTO bookings (pontoon, number, boat, arrives, leaves)
SELECT (ARRAY['A', 'B', 'C', 'D'])[1 + k % 4], 1 + k % 40, 'Boat ' || k,
       current_date + (k % 20) - 5, current_date + (k % 20) - 5 + 1 + k % 6
FROM generate_series(1, 300) AS k;
