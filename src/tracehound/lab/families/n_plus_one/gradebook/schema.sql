CREATE TABLE advisors (id serial PRIMARY KEY, name text NOT NULL, office text NOT NULL);
CREATE TABLE students (
    id serial PRIMARY KEY,
    name text NOT NULL,
    number text NOT NULL UNIQUE,
    advisor_id integer NOT NULL REFERENCES advisors(id)
);
CREATE TABLE courses (id serial PRIMARY KEY, code text NOT NULL UNIQUE, title text NOT NULL);
CREATE TABLE enrollments (
    id serial PRIMARY KEY,
    course_id integer NOT NULL REFERENCES courses(id),
    student_id integer NOT NULL REFERENCES students(id),
    section text NOT NULL
);
CREATE INDEX enrollments_course_idx ON enrollments (course_id);
CREATE TABLE grades (
    id serial PRIMARY KEY,
    enrollment_id integer NOT NULL REFERENCES enrollments(id),
    assignment text NOT NULL,
    points numeric(5, 1) NOT NULL
);
CREATE INDEX grades_enrollment_idx ON grades (enrollment_id);

INSERT INTO advisors (name, office) SELECT 'Advisor ' || g, 'B' || (g % 7) || '-' || (100 + g) FROM generate_series(1, 40) AS g;
INSERT INTO students (name, number, advisor_id)
SELECT 'Student ' || g, 'S' || lpad(g::text, 6, '0'), 1 + g % 40 FROM generate_series(1, 6000) AS g;
-- Courses 1-60 are seminars of 12-30 students; 61-63 are the first-year lectures.
INSERT INTO courses (code, title) SELECT 'SEM' || g, 'Seminar ' || g FROM generate_series(1, 60) AS g;
INSERT INTO courses (code, title) VALUES ('LEC101', 'Introduction to Programming'), ('LEC150', 'Calculus I'), ('LEC110', 'Academic Writing');
INSERT INTO enrollments (course_id, student_id, section)
SELECT c, 1 + (c * 97 + s * 13) % 6000, 'A' FROM generate_series(1, 60) AS c, generate_series(1, 12 + (c % 19)) AS s;
INSERT INTO enrollments (course_id, student_id, section)
SELECT 61, s, CASE WHEN s % 2 = 0 THEN 'A' ELSE 'B' END FROM generate_series(1, 260) AS s;
INSERT INTO enrollments (course_id, student_id, section)
SELECT 62, 1000 + s, CASE WHEN s % 3 = 0 THEN 'B' ELSE 'A' END FROM generate_series(1, 420) AS s;
INSERT INTO enrollments (course_id, student_id, section)
SELECT 63, 2000 + s, chr(65 + s % 4) FROM generate_series(1, 800) AS s;
INSERT INTO grades (enrollment_id, assignment, points)
SELECT e.id, 'HW' || a, (e.id * 7 + a * 3) % 100 FROM enrollments e, generate_series(1, 3) AS a;

ANALYZE advisors, students, courses, enrollments, grades;
