"""Login and password forms."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from reviewapp.auth.services import MIN_PASSWORD_LENGTH

# What each field holds, for browsers and password managers (WCAG 1.3.5): a set-password form
# is a new password, not the one to fill in.
NEW_PASSWORD = {"autocomplete": "new-password", "minlength": MIN_PASSWORD_LENGTH}
LENGTH_HINT = f"At least {MIN_PASSWORD_LENGTH} characters."


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()],
                       render_kw={"autocomplete": "username"})
    password = PasswordField("Password", validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField("Keep me logged in")
    next = HiddenField()
    submit = SubmitField("Log in")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(
        "New password", validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH)],
        description=LENGTH_HINT, render_kw=NEW_PASSWORD)
    confirm = PasswordField(
        "Repeat new password", validators=[EqualTo("new_password", "The passwords differ.")],
        render_kw={"autocomplete": "new-password"})
    submit = SubmitField("Change password")


class SetPasswordForm(FlaskForm):
    new_password = PasswordField(
        "New password", validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH)],
        description=LENGTH_HINT, render_kw=NEW_PASSWORD)
    confirm = PasswordField(
        "Repeat password", validators=[EqualTo("new_password", "The passwords differ.")],
        render_kw={"autocomplete": "new-password"})
    submit = SubmitField("Set password")
