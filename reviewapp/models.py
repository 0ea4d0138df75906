"""Import every area's models so that Alembic and create_all see the whole schema."""

from reviewapp.api.models import ApiToken
from reviewapp.audit.models import AuditEvent
from reviewapp.auth.models import Team, User
from reviewapp.cycles.models import (
    Competency,
    Cycle,
    CycleCompetency,
    CycleKpi,
    CycleKpiTarget,
)
from reviewapp.goals.models import (
    CheckIn,
    Goal,
    GoalAdjustment,
    GoalComment,
    GoalTemplate,
    Milestone,
)
from reviewapp.kpis.models import BehaviourNote, OrgSetting, ValidationCandidate, ValidationRun
from reviewapp.metrics.models import ImportBatch, Metric, Observation, ReplacedValue
from reviewapp.notifications.models import Notification
from reviewapp.peers.models import PeerAnswer, PeerRequest
from reviewapp.records.models import ReviewRecord
from reviewapp.reviews.models import Acknowledgement, CompetencyRating, KpiScore, Review

__all__ = ["ApiToken", "AuditEvent", "ImportBatch", "Metric", "Observation", "ReplacedValue",
           "Team", "User"]
__all__ += ["BehaviourNote", "OrgSetting", "ValidationCandidate", "ValidationRun"]

__all__ += ["CheckIn", "Goal", "GoalAdjustment", "GoalComment", "GoalTemplate", "Milestone"]
__all__ += ["Competency", "CompetencyRating", "Cycle", "CycleCompetency", "CycleKpi",
            "CycleKpiTarget", "KpiScore", "Review"]
__all__ += ["Acknowledgement", "Notification"]
__all__ += ["PeerAnswer", "PeerRequest"]
__all__ += ["ReviewRecord"]
