"""The form that creates a personal API token."""

from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length


class TokenForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=80)],
                       description="What uses the token, e.g. “CRM nightly sync”.")
    submit = SubmitField("Create token")
