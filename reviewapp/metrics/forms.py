"""Metric catalogue and import forms."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from reviewapp.metrics.models import Direction, MetricKind, Rollup


class MetricForm(FlaskForm):
    key = StringField("Key", validators=[DataRequired(), Length(max=64)],
                      description="Lower-case letters, digits and _; used in import files.")
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    unit = StringField("Unit", validators=[Optional(), Length(max=32)],
                       description="e.g. $, calls, %")
    kind = SelectField("Kind", choices=[(k.value, k.value.capitalize()) for k in MetricKind],
                       description="Outcomes are what KPIs must predict (e.g. revenue).")
    direction = SelectField("Direction", choices=[(d.value, d.label) for d in Direction])
    rollup = SelectField("Roll-up to a period", choices=[(r.value, r.value) for r in Rollup],
                         description="How finer values combine into a month or quarter.")
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)])
    submit = SubmitField("Save")


class UploadForm(FlaskForm):
    file = FileField("Data file (CSV or XLSX)", validators=[FileRequired("Choose a file.")],
                     description="Long layout: rep_email,period,metric,value. Wide layout: "
                                 "rep_email,period,<metric key>,…")
    sheet = StringField("Sheet (XLSX only)", validators=[Optional(), Length(max=100)],
                        description="Leave empty for the first sheet.")
    submit = SubmitField("Upload and preview")
