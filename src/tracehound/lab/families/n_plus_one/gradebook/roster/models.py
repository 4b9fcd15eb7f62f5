from django.db import models


class Advisor(models.Model):
    name = models.TextField()
    office = models.TextField()

    class Meta:
        db_table = "advisors"
        managed = False


class Student(models.Model):
    name = models.TextField()
    number = models.TextField()
    advisor = models.ForeignKey(Advisor, on_delete=models.PROTECT, related_name="students")

    class Meta:
        db_table = "students"
        managed = False


class Course(models.Model):
    code = models.TextField()
    title = models.TextField()

    class Meta:
        db_table = "courses"
        managed = False


class Enrollment(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="enrollments")
    section = models.TextField()

    class Meta:
        db_table = "enrollments"
        managed = False


class Grade(models.Model):
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="grades")
    assignment = models.TextField()
    points = models.DecimalField(max_digits=5, decimal_places=1)

    class Meta:
        db_table = "grades"
        managed = False
