"""The catalogue: shows, their episodes, each episode's chapters and guests."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Column, ForeignKey, Table
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


appearances = Table(
    "appearances", Base.metadata,
    Column("episode_id", ForeignKey("episodes.id"), primary_key=True),
    Column("guest_id", ForeignKey("guests.id"), primary_key=True),
)


class Show(Base):
    __tablename__ = "shows"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str]
    title: Mapped[str]
    episodes: Mapped[list[Episode]] = relationship(back_populates="show", order_by="Episode.published.desc()")


class Episode(Base):
    __tablename__ = "episodes"
    id: Mapped[int] = mapped_column(primary_key=True)
    show_id: Mapped[int] = mapped_column(ForeignKey("shows.id"))
    title: Mapped[str]
    published: Mapped[date]
    seconds: Mapped[int]
    show: Mapped[Show] = relationship(back_populates="episodes")
    chapters: Mapped[list[Chapter]] = relationship(order_by="Chapter.starts_at")
    guests: Mapped[list[Guest]] = relationship(secondary=appearances)


class Chapter(Base):
    __tablename__ = "chapters"
    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id"))
    starts_at: Mapped[int]
    title: Mapped[str]


class Guest(Base):
    __tablename__ = "guests"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
