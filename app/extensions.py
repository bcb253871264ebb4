"""Flask extensions, created unbound; :func:`app.create_app` binds them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, Table
from sqlalchemy.orm import DeclarativeBase, registry

from app.core.types import UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with one naming convention for every constraint."""

    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UtcDateTime()},
    )

    if TYPE_CHECKING:
        #: Every model here is mapped to a table (SQLAlchemy types ``__table__`` as any ``FromClause``).
        __table__: ClassVar[Table]


db = SQLAlchemy(model_class=Base)

# Models subclass ``Model``, not ``db.Model``: Flask-SQLAlchemy builds ``db.Model`` at run time (Base's body plus
# its bind and table-name mixins), so a type checker cannot see it. It has every mapped feature of ``Base``,
# which is what the checker is told.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model

migrate = Migrate()
login_manager = LoginManager()
babel = Babel()
csrf = CSRFProtect()
