"""Serializers called once per row."""

from models import Post, User


def post_summary(post: Post) -> dict:
    return {"id": post.id, "comments": len(post.comments)}


def user_card(user: User) -> dict:
    return {"id": user.id, "badges": len(user.badges)}
