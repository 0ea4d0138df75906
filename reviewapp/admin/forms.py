"""HR administration forms."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, EmailField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from reviewapp import text_limits
from reviewapp.auth.models import Role

ROLE_CHOICES = [(r.value, r.label) for r in Role]


class UserForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=text_limits.EMAIL)])
    name = StringField("Name", validators=[
        DataRequired(), Length(max=text_limits.NAME,
                               message=f"Use at most {text_limits.NAME} characters.")])
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.REP.value)  # most people
    manager = SelectField("Manager", coerce=int, description="Who this person reports to.")
    team = SelectField("Team", coerce=int)
    active = BooleanField("Active (may log in)", default=True)
    submit = SubmitField("Save")


class TeamForm(FlaskForm):
    name = StringField("Team name", validators=[
        DataRequired(), Length(max=text_limits.NAME,
                               message=f"Use at most {text_limits.NAME} characters.")])
    manager = SelectField("Manager", coerce=int)
    submit = SubmitField("Save")


class UserImportForm(FlaskForm):
    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file.")],
                     description="Columns: email,name,role,manager_email,team")
    submit = SubmitField("Import")
