"""Users, their posts and who follows whom."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Table
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


follows = Table(
    "follows",
    Base.metadata,
    Column("follower_id", ForeignKey("users.id"), primary_key=True),
    Column("followee_id", ForeignKey("users.id"), primary_key=True),
)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str]
    display_name: Mapped[str]
    bio: Mapped[str]
    avatar_url: Mapped[str | None]
    created_at: Mapped[datetime]

    posts: Mapped[list[Post]] = relationship(back_populates="author", order_by="desc(Post.created_at)")
    followers: Mapped[list[User]] = relationship(
        secondary=follows,
        primaryjoin="User.id == follows.c.followee_id",
        secondaryjoin="User.id == follows.c.follower_id",
        viewonly=True,
    )
    following: Mapped[list[User]] = relationship(
        secondary=follows,
        primaryjoin="User.id == follows.c.follower_id",
        secondaryjoin="User.id == follows.c.followee_id",
        viewonly=True,
    )


class Post(Base):
    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str]
    likes: Mapped[int]
    created_at: Mapped[datetime]

    author: Mapped[User] = relationship(back_populates="posts")
