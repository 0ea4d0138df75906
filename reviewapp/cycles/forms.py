"""HR's cycle and competency forms. WTForms checks that values are there and of the right type;
the rules (name clashes, deadline order, bounds, bands) are the services', which say what is
wrong on the field at fault."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from reviewapp.numbers import FiniteFloatField as FloatField  # no inf, nan or 1e400
from reviewapp.peers.forms import PeerSettingsFields

LEVELS = range(1, 6)


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes; unknown ids are left to the service."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form) -> None:
        pass


class CompetencyForm(FlaskForm):
    name = StringField("Name", validators=[InputRequired("Enter a name."), Length(max=80)])
    description = TextAreaField("What it means", validators=[Optional(), Length(max=2000)],
                                description="One or two sentences, in the words managers use.")
    anchor_1 = TextAreaField("Level 1 (lowest)", validators=[
        InputRequired("Describe what level 1 looks like.")])
    anchor_2 = TextAreaField("Level 2", validators=[
        InputRequired("Describe what level 2 looks like.")])
    anchor_3 = TextAreaField("Level 3", validators=[
        InputRequired("Describe what level 3 looks like.")])
    anchor_4 = TextAreaField("Level 4", validators=[
        InputRequired("Describe what level 4 looks like.")])
    anchor_5 = TextAreaField("Level 5 (highest)", validators=[
        InputRequired("Describe what level 5 looks like.")])
    active = BooleanField("Active (offered for new cycles)", default=True)

    def anchor_fields(self) -> list:
        return [getattr(self, f"anchor_{level}") for level in LEVELS]


class WeightBoundsForm(FlaskForm):
    weight_min = FloatField("Lowest weight", validators=[
        InputRequired("Enter a fraction between 0 and 1, e.g. 0.3.")])
    weight_max = FloatField("Highest weight", validators=[
        InputRequired("Enter a fraction between 0 and 1, e.g. 0.7.")])


def _due(label: str, description: str | None = None) -> DateField:
    return DateField(label, validators=[InputRequired(f"Enter the {label.lower()} date.")],
                     description=description)


def _band(label: str) -> FloatField:
    return FloatField(label, validators=[InputRequired("Enter a percentage.")])


class CycleForm(PeerSettingsFields, FlaskForm):
    name = StringField("Name", validators=[InputRequired("Enter a name."), Length(max=120)],
                       description="What people will see, e.g. “Q3 2026 reviews”.")
    period = StringField("Period", validators=[InputRequired("Enter the period, e.g. 2026-Q3.")],
                         description="A quarter (2026-Q3) or a month (2026-09).")
    self_due = _due("Self-assessment due")
    manager_due = _due("Manager review due")
    calibration_due = _due("Calibration due")
    acknowledgement_due = _due("Acknowledgement due")
    quant_weight = FloatField("Quantitative weight w", validators=[
        InputRequired("Enter the weight as a fraction, e.g. 0.5.")])
    band_2 = _band("Score 2 from")
    band_3 = _band("Score 3 from")
    band_4 = _band("Score 4 from")
    band_5 = _band("Score 5 from")
    teams = CheckboxesField("Teams", coerce=int)
    people = CheckboxesField("Extra people", coerce=int,
                             description="Reps outside the chosen teams: tick as many as you "
                                         "need.")
    competencies = CheckboxesField("Competencies", coerce=int)

    def band_fields(self) -> list:
        return [self.band_2, self.band_3, self.band_4, self.band_5]

    def due_fields(self) -> list:
        return [self.self_due, self.manager_due, self.calibration_due, self.acknowledgement_due]
