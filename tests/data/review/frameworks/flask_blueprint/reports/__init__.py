from flask import Flask

from reports.views import bp


def create_app() -> Flask:
    app = Flask(__name__)
    app.register_blueprint(bp, url_prefix="/api")
    return app
