import subprocess


class ReportService:
    def render(self, order_id: int) -> bytes:
        return subprocess.check_output(["wkhtmltopdf", f"/reports/{order_id}.html", "-"])


reports = ReportService()
