import requests
from flask import Blueprint, jsonify

bp = Blueprint("reports", __name__, url_prefix="/reports")


def fetch_rates():
    return requests.get("https://rates.example.com").json()  # expect: TH301


@bp.route("/<int:account>/sales.csv", methods=["GET"])
def sales(account: int):
    return jsonify(rates=fetch_rates(), account=account)


@bp.get("/health")
def health():
    return jsonify(status="ok")
