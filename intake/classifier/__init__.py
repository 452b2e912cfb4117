"""Rule-based triage: which kind, department, urgency and scope a resident's message has.

Build once with :meth:`Classifier.default` (the shipped rules) or :meth:`Classifier.from_paths`
(an operator's own files), then call :meth:`Classifier.classify`. Rules are YAML data in
``intake/classifier/rules/``; a bad file raises :class:`RulesError` naming the file and line.
"""

from .engine import Classification, Classifier
from .rules import RulesError

__all__ = ["Classification", "Classifier", "RulesError"]
