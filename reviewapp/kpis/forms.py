"""Forms of the KPI lab: a run, the primary outcome, status by hand, notes and proposals."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from reviewapp.metrics.models import Direction, Rollup


class LabForm(FlaskForm):
    scope = SelectField("Whose data", description="Only a run over the whole organisation "
                        "against the primary outcome can change KPI statuses; any other run "
                        "is exploratory.")
    outcome = SelectField("Outcome to predict")
    candidates = SelectMultipleField("Candidate metrics", validators=[DataRequired(
        "Choose at least one candidate metric.")])
    grain = SelectField("Period", choices=[("quarter", "Quarter"), ("month", "Month")])
    lag = SelectField("Lag", coerce=int, choices=[(0, "Same period"),
                                                  (1, "Activity one period earlier")])
    window = IntegerField("Window (periods)", validators=[Optional(), NumberRange(2, 120)],
                          description="The last N periods; empty: the validation policy's.")
    period_effects = BooleanField("Period effects", description="Compare reps within the same "
                                  "period: a season that lifts everyone at once is not "
                                  "evidence.")
    submit = SubmitField("Run the validation")


class PolicyForm(FlaskForm):
    grain = SelectField("Period", choices=[("quarter", "Quarter"), ("month", "Month")])
    lag = SelectField("Lag", coerce=int, choices=[(0, "Same period"),
                                                  (1, "Activity one period earlier")])
    window = IntegerField("Window (periods)", validators=[DataRequired(), NumberRange(4, 120)])
    period_effects = BooleanField("Period effects (recommended)")
    alpha = DecimalField("Alpha", places=3, validators=[DataRequired(), NumberRange(0.001, 0.2)],
                         description="The false-discovery level across candidates; 0.05 usual.")
    margin = DecimalField("Smallest effect worth scoring", places=3,
                          validators=[DataRequired(), NumberRange(0.01, 1.0)],
                          description="As a standardised within-rep effect (SDs of the outcome "
                                      "per SD of the activity); 0.1 is small. 'Not "
                                      "predictive' needs the data to rule it out.")
    reason = TextAreaField("Why", validators=[DataRequired("Say why."), Length(min=10, max=2000)])
    submit = SubmitField("Fix this policy")


class OutcomeForm(FlaskForm):
    outcome = SelectField("Primary outcome", description="What KPIs must predict. Runs against "
                          "another outcome are kept but exploratory.")
    submit = SubmitField("Save")


class StatusForm(FlaskForm):
    reason = TextAreaField("Reason", validators=[DataRequired("Write a reason."),
                                                 Length(min=10, max=2000)])
    submit = SubmitField("Save")


class NoteForm(FlaskForm):
    text = TextAreaField("What does this rep do differently?",
                         validators=[DataRequired("Describe the behaviour."),
                                     Length(min=10, max=4000)],
                         description='e.g. "books a discovery meeting before any proposal"')
    proposed_key = StringField("Proposed metric key (optional)",
                               validators=[Optional(), Length(max=64)],
                               description="If this behaviour could be counted, propose a "
                                           "candidate metric: lower-case key, e.g. "
                                           "discovery_meetings.")
    proposed_name = StringField("Proposed metric name", validators=[Optional(), Length(max=120)])
    proposed_description = TextAreaField("What it counts", validators=[Optional(),
                                                                       Length(max=2000)])
    submit = SubmitField("Save note")


class AcceptProposalForm(FlaskForm):
    key = StringField("Key", validators=[DataRequired(), Length(max=64)])
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    unit = StringField("Unit", validators=[Optional(), Length(max=32)])
    direction = SelectField("Direction", choices=[(d.value, d.label) for d in Direction])
    rollup = SelectField("Roll-up to a period", choices=[(r.value, r.value) for r in Rollup])
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)])
    submit = SubmitField("Add to the catalogue as a candidate")


class DeclineForm(FlaskForm):
    reason = TextAreaField("Why not", validators=[DataRequired("Say why."),
                                                  Length(min=5, max=2000)])
    submit = SubmitField("Decline")
