"""TH401 (N+1, explicit and lazy), TH402 (cartesian joinedload), TH403 (unbounded eager load)."""

from fastapi import Depends, FastAPI
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, joinedload, selectinload, sessionmaker

from models import Comment, Post, User
from serializers import post_summary, user_card

app = FastAPI()
engine = create_engine("postgresql+psycopg://db/app", pool_pre_ping=True, pool_timeout=5)
SessionLocal = sessionmaker(engine)


def get_db():
    with SessionLocal() as db:
        yield db


@app.get("/posts")
def list_posts(db: Session = Depends(get_db)):
    posts = db.scalars(select(Post).limit(50)).all()
    return [post_summary(p) for p in posts]  # expect: TH401


@app.get("/authors")
def authors(db: Session = Depends(get_db)):
    out = []
    for post in db.scalars(select(Post).limit(50)):  # expect: TH401
        out.append(post.author.id)
    return out


@app.get("/counts")
def counts(ids: list[int], db: Session = Depends(get_db)):
    return [db.scalar(select(Comment).where(Comment.post_id == i)) for i in ids]  # expect: TH401


@app.get("/users/{user_id}")
def profile(user_id: int, db: Session = Depends(get_db)):
    user = db.scalars(
        select(User).where(User.id == user_id).options(
            joinedload(User.posts),  # expect: TH402
            joinedload(User.followers),
        )
    ).unique().one()
    return {"posts": len(user.posts)}


@app.get("/everyone")
def everyone(db: Session = Depends(get_db)):
    return db.scalars(select(User).options(selectinload(User.posts))).all()  # expect: TH403


# -- negatives ----------------------------------------------------------------------------------


@app.get("/posts-eager")
def list_posts_eager(db: Session = Depends(get_db)):
    posts = db.scalars(select(Post).options(selectinload(Post.comments)).limit(50)).all()
    return [post_summary(p) for p in posts]


@app.get("/cards")
def cards(db: Session = Depends(get_db)):
    users = db.scalars(select(User).limit(20)).all()
    return [user_card(u) for u in users]


@app.get("/users/{user_id}/fixed")
def profile_fixed(user_id: int, db: Session = Depends(get_db)):
    user = db.scalars(
        select(User).where(User.id == user_id).options(selectinload(User.posts), selectinload(User.followers))
    ).one()
    for attempt in range(3):
        db.scalar(select(1))
    return [p.id for p in user.posts]


@app.get("/post-authors")
def post_authors(db: Session = Depends(get_db)):
    posts = db.scalars(select(Post).options(joinedload(Post.author)).limit(50)).all()
    return [p.author.id for p in posts]
