"""Forms of peer feedback: the cycle editor's peer settings and HR's customer voice choice.

The nominations and the answers are read from the posted fields directly (their fields are
one per competency or per colleague, as on the review form).
"""

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField
from wtforms.validators import Optional

from reviewapp.peers.services import PeerSettings


class PeerSettingsFields:
    """The cycle editor's peer-feedback fields (the cycle form inherits them)."""

    peer_feedback = BooleanField("Ask peers for feedback", default=False)
    peer_reviewers = IntegerField(
        "Peers per review (at most)", default=5, validators=[Optional()],
        description="The rep nominates, the manager approves, removes or adds.")
    peer_min_responses = IntegerField(
        "Answers needed before any is shown", default=3, validators=[Optional()],
        description="Below it the review says “not enough responses to keep them anonymous”.")
    peer_due = DateField("Peers answer by", validators=[Optional()],
                         description="On or before the manager review deadline.")

    def peer_settings(self) -> PeerSettings:
        """The settings as posted (an empty number: the default)."""
        default = PeerSettings()
        reviewers, minimum = self.peer_reviewers.data, self.peer_min_responses.data
        return PeerSettings(bool(self.peer_feedback.data),
                            default.reviewers if reviewers is None else reviewers,
                            default.min_responses if minimum is None else minimum,
                            self.peer_due.data)

    def fill_peer_settings(self, settings: PeerSettings) -> None:
        self.peer_feedback.data, self.peer_reviewers.data = settings.enabled, settings.reviewers
        self.peer_min_responses.data, self.peer_due.data = settings.min_responses, settings.due

    def peer_fields(self) -> list:
        return [self.peer_feedback, self.peer_reviewers, self.peer_min_responses, self.peer_due]


class CustomerVoiceForm(FlaskForm):
    metric = SelectField("Customer voice metric", validate_choice=False,
                         description="An outcome metric such as CSAT or NPS, imported per rep "
                                     "and period. Shown beside the “Customer satisfaction” "
                                     "competency as evidence; never scored.")
