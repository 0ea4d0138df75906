"""Goal forms. Choices that carry a rule (owner, team, parent, metric) are checked by the
services, which explain what is wrong; WTForms only checks types."""

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import HiddenInput

from reviewapp.goals.models import GoalKind, GoalStatus
from reviewapp.numbers import FiniteFloatField as FloatField  # no inf, nan or 1e400


def _int_or_none(value):
    if value in (None, "", "0", 0):
        return None
    return int(value)


def _select(label: str, **kwargs) -> SelectField:
    return SelectField(label, coerce=_int_or_none, validate_choice=False, **kwargs)


class GoalForm(FlaskForm):
    scope = HiddenField()
    version = IntegerField(widget=HiddenInput(), validators=[Optional()])  # edits: as opened
    team = _select("Team")
    owner = _select("Person")  # under the legend "Whose goal", which says the rest
    title = StringField("Title", validators=[DataRequired("Enter a title."), Length(max=200)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=4000)],
                                description="Why this goal matters, and how you will get there.")
    quarter = SelectField("Period", validate_choice=False)
    start_date = DateField("Start date", validators=[Optional()],
                           description="For custom dates, or to narrow the quarter.")
    end_date = DateField("End date", validators=[Optional()])
    parent = _select("Aligns to", description="A team goal of the same period that this goal "
                                              "contributes to.")
    weight = FloatField("Weight among sibling goals", default=1.0, validators=[Optional()],
                        description="1 = equal; 2 counts double in the roll-up.")
    kind = RadioField("Progress is measured by",
                      choices=[(k.value, k.label) for k in GoalKind], default="metric")
    metric = _select("Metric")
    start_value = FloatField("Start value", validators=[Optional()],
                             description="Where the number stands at the start; 0 for a total "
                                         "over the period, such as revenue.")
    target_value = FloatField("Target", validators=[Optional()],
                              description="Above the start, or below it for a lower-is-better "
                                          "metric.")
    milestones = TextAreaField(
        "Milestones", validators=[Optional(), Length(max=4000)],
        description="One per line; start a line with a date (2026-08-15) to set when it is due.")


class AdjustForm(FlaskForm):
    version = IntegerField(widget=HiddenInput(), validators=[Optional()])  # as opened
    metric = _select("Metric")
    start_value = FloatField("Start value", validators=[Optional()])
    target_value = FloatField("Target", validators=[Optional()])
    quarter = SelectField("Period", validate_choice=False)
    start_date = DateField("Start date", validators=[Optional()])
    end_date = DateField("End date", validators=[Optional()])
    reason = TextAreaField("Why the change", validators=[Optional(), Length(max=2000)],
                           description="Kept with the goal's history, for everyone who sees it.")


CONFIDENCE = [("5", "5 · very confident"), ("4", "4"), ("3", "3 · unsure"), ("2", "2"),
              ("1", "1 · not confident")]


class CheckInForm(FlaskForm):
    held_on = DateField("Date", validators=[Optional()])
    progress = FloatField("Progress (%)", validators=[Optional()])
    confidence = SelectField("Confidence", choices=CONFIDENCE, coerce=_int_or_none,
                             validate_choice=False, default="3")
    note = TextAreaField("Note", validators=[Optional(), Length(max=500)],
                         description="What moved, what is in the way.")


class StatusForm(FlaskForm):
    status = SelectField("Status", validate_choice=False,
                         choices=[("", "Use the suggestion")]
                         + [(s.value, s.label) for s in GoalStatus])
    # Its own id: the check-in form beside it on the goal page has a "note" too.
    note = TextAreaField("Why", validators=[Optional(), Length(max=1000)], id="status_note")


class CommentForm(FlaskForm):
    body = TextAreaField("Comment", validators=[Optional(), Length(max=2000)])


class ReturnForm(FlaskForm):
    comment = TextAreaField("What should change", validators=[Optional(), Length(max=2000)])


class AssignForm(FlaskForm):
    reps = SelectMultipleField("Reps", coerce=int, validate_choice=False,
                               description="Hold Ctrl (⌘ on a Mac) to choose several.")
    team = _select("…or a whole team")
    quarter = SelectField("Period", validate_choice=False)
    start_date = DateField("Start date", validators=[Optional()])
    end_date = DateField("End date", validators=[Optional()])
    parent = _select("Aligns to")
    start_value = FloatField("Start value", validators=[Optional()])
    target_value = FloatField("Target", validators=[Optional()])
